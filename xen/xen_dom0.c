/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xen_dom0 handler: a pool in grant-table memory (see xenpool/xen.h).
 *
 * Create: open the Xen libraries (or fall back to the default handler when
 * they cannot be opened), get pages (share or map), learn the bus address of
 * every page, then hand each run of pages whose bus addresses follow each
 * other to xp_mempool_populate() as one chunk.  In share mode the pages come
 * in batches; more are shared until the runs hold every object, up to a
 * bound.  Everything the handler keeps (refs, frame table; the ring of free
 * objects is the core's) is in private memory: only the objects are
 * granted.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

#define XPX_LIMIT_FILE "/sys/module/xen_gntalloc/parameters/limit"

static int xpx_create(struct xp_mempool *mp, const char *args);


static int err_or(int fallback)
{
	return errno > 0 ? -errno : -fallback;
}

/* Another pool (or anyone) may have replaced the file since. */
static int still_ours(const struct xpx_pool *p)
{
	struct stat st;

	return stat(p->args.publish, &st) == 0 && st.st_dev == p->pub_dev &&
	       st.st_ino == p->pub_ino;
}

static void release_error(void *va, unsigned int n)
{
	xp_log(XP_LOG_ERR, "xen_dom0: cannot release %u pages at %p: %s", n,
	       va, strerror(errno));
}

/* Unshare is munmap on Linux: any range, wherever the pages are now. */
static void unshare(struct xpx_pool *p, void *va, unsigned int n)
{
	if (xpx.unshare(p->xgs, va, n) != 0)
		release_error(va, n);
}

/* The pages of a share still at their first place, in runs. */
static void unshare_left(struct xpx_pool *p, const struct xpx_segment *s)
{
	unsigned int i = 0, len;

	while (i < s->npages) {
		for (len = 0; i + len < s->npages &&
			      (s->moved == NULL || !s->moved[i + len]);
		     len++)
			;
		if (len > 0)
			unshare(p, (char *)s->va + (size_t)i * XP_PAGE_SIZE,
				len);
		i += len + 1;
	}
}

static void teardown(struct xpx_pool *p)
{
	unsigned int i;

	if (p->published && still_ours(p))
		unlink(p->args.publish);
	if (p->region != NULL)
		unshare(p, p->region, p->region_pages);
	for (i = 0; i < p->nsegs; i++) {
		struct xpx_segment *s = &p->segs[i];

		if (s->va != NULL && p->args.map_mode) {
			if (xpx.unmap(p->xgt, s->va, s->npages) != 0)
				release_error(s->va, s->npages);
		} else if (s->va != NULL) {
			unshare_left(p, s);
		}
		free(s->refs);
		free(s->bus);
		free(s->moved);
	}
	free(p->segs);
	if (p->xgs != NULL)
		xpx.gntshr_close(p->xgs);
	if (p->xgt != NULL)
		xpx.gnttab_close(p->xgt);
	free(p->page_bus);
	free(p->page_ref);
	xpx_args_free(&p->args);
	free(p);
}

/* ---- runs of contiguous pages ----------------------------------------- */

/* Pages from @i that continue the bus addresses of page @i. */
static unsigned int run_len(const struct xpx_segment *s, unsigned int i)
{
	unsigned int j = i + 1;

	while (j < s->npages &&
	       s->bus[j] == s->bus[j - 1] + XP_PAGE_SIZE)
		j++;
	return j - i;
}

static size_t segment_fit(const struct xp_mempool *mp,
			  const struct xpx_segment *s)
{
	unsigned int i, len;
	size_t fit = 0;

	for (i = 0; i < s->npages; i += len) {
		len = run_len(s, i);
		fit += xp_mempool_chunk_objs(mp, NULL, (size_t)len * XP_PAGE_SIZE);
	}
	return fit;
}

/* Hand each run of the segment to populate; count the chunks it filled. */
static int populate_segment(struct xp_mempool *mp, struct xpx_pool *p,
			    const struct xpx_segment *s)
{
	unsigned int i, len;
	int ret;

	for (i = 0; i < s->npages && xp_mempool_populate_missing(mp) > 0;
	     i += len) {
		len = run_len(s, i);
		ret = xp_mempool_populate(mp,
					  (char *)s->va + (size_t)i * XP_PAGE_SIZE,
					  s->bus[i], (size_t)len * XP_PAGE_SIZE);
		if (ret < 0)
			return ret;
		p->chunks += ret > 0;
	}
	return 0;
}

/* ---- getting pages ----------------------------------------------------- */

static struct xpx_segment *new_segment(struct xpx_pool *p, unsigned int n)
{
	struct xpx_segment *segs, *s;

	segs = realloc(p->segs, (p->nsegs + 1) * sizeof(*segs));
	if (segs == NULL)
		return NULL;
	p->segs = segs;
	s = &segs[p->nsegs];
	memset(s, 0, sizeof(*s));
	s->refs = calloc(n, sizeof(*s->refs));
	s->bus = calloc(n, sizeof(*s->bus));
	if (s->refs == NULL || s->bus == NULL) {
		free(s->refs);
		free(s->bus);
		return NULL;
	}
	s->npages = n;
	p->nsegs++;
	return s;
}

/* Bus addresses of a segment's pages; on the first failure to read the
 * grant table, the whole pool switches to grant-DMA addresses. */
static int learn_frames(struct xpx_pool *p, xc_interface **xch,
			struct xpx_segment *s, uint32_t granter,
			uint32_t grantee)
{
	unsigned int i;
	char g[24];
	int ret;

	if (*xch != NULL) {
		/* A table that cannot be read means grant-DMA addresses. */
		p->log.expect_failure = 1;
		ret = xpx_frames_read(*xch, granter, s->refs, s->npages,
				      grantee, s->bus);
		p->log.expect_failure = 0;
		if (ret != -EPROTO && ret != 0) {
			xp_log(XP_LOG_NOTICE,
			       "xen_dom0: cannot read the grant table of "
			       "%s (%s): using grant-DMA addresses",
			       xpx_dom_str(granter, g, sizeof(g)),
			       strerror(-ret));
			xpx.xc_close(*xch);
			*xch = NULL;
			p->gref_frames = 1;
			for (i = 0; i + 1 < p->nsegs; i++)
				xpx_frames_read(NULL, 0, p->segs[i].refs,
						p->segs[i].npages, 0,
						p->segs[i].bus);
		} else {
			return ret;
		}
	}
	return xpx_frames_read(NULL, 0, s->refs, s->npages, 0, s->bus);
}

static unsigned int read_limit(void)
{
	unsigned int limit = 0;
	FILE *f = fopen(XPX_LIMIT_FILE, "r");

	if (f != NULL) {
		if (fscanf(f, "%u", &limit) != 1)
			limit = 0;
		fclose(f);
	}
	return limit;
}

/*
 * A forked child must not inherit the pool's pages: it would share the
 * objects but not the (copied, private) bookkeeping, so parent and child
 * could hand out the same object, and its mapping would keep gntalloc's
 * grants alive past the parent's free.  gntdev marks its mappings so;
 * gntalloc does not.  Moved pages keep the mark.
 */
static void keep_from_children(const struct xpx_segment *s)
{
	if (madvise(s->va, (size_t)s->npages * XP_PAGE_SIZE,
		    MADV_DONTFORK) != 0)
		xp_log(XP_LOG_WARNING,
		       "xen_dom0: madvise(MADV_DONTFORK) of %u pages: %s: a "
		       "forked child would share them",
		       s->npages, strerror(errno));
}

static int share_batch(struct xpx_pool *p, xc_interface **xch,
		       unsigned int n)
{
	struct xpx_segment *s = new_segment(p, n);

	if (s == NULL)
		return -ENOMEM;
	errno = 0;
	/* ENOSPC near the gntalloc limit: the caller halves the batch. */
	p->log.expect_failure = 1;
	s->va = xpx.share_pages(p->xgs, p->args.peer, (int)n, s->refs,
				      p->args.writable);
	p->log.expect_failure = 0;
	if (s->va == NULL) {
		int ret = err_or(EIO);

		/* Forget the empty segment: a smaller batch may follow. */
		free(s->refs);
		free(s->bus);
		p->nsegs--;
		if (ret != -ENOSPC)
			xp_log(XP_LOG_ERR,
			       "xen_dom0: xpx.share_pages(%u pages to "
			       "domain %u): %s",
			       n, p->args.peer, strerror(-ret));
		return ret;
	}
	p->pages += n;
	p->share_calls++;
	keep_from_children(s);
	return learn_frames(p, xch, s, XPX_DOMID_SELF, p->args.peer);
}

static void limit_message(const struct xpx_pool *p)
{
	unsigned int limit = read_limit();

	if (limit > 0)
		xp_log(XP_LOG_ERR,
		       "xen_dom0: no more pages can be shared (%u shared by "
		       "this pool): the gntalloc limit of %u pages is "
		       "reached; raise it in %s",
		       p->pages, limit, XPX_LIMIT_FILE);
	else
		xp_log(XP_LOG_ERR,
		       "xen_dom0: no more pages can be shared (%u shared by "
		       "this pool): the gntalloc limit is reached; raise it "
		       "in %s",
		       p->pages, XPX_LIMIT_FILE);
}

/* Pages n objects need if all their frames were contiguous (n <= INT_MAX
 * and the pool's layout fits size_t, so this fits a size_t too). */
static size_t pages_for(const struct xp_mempool *mp, unsigned int n)
{
	return (xp_mempool_chunk_size(mp, n) + XP_PAGE_SIZE - 1) /
	       XP_PAGE_SIZE;
}

/* Objects the runs of every segment hold in address order. */
static size_t pool_fit(const struct xp_mempool *mp, const struct xpx_pool *p)
{
	unsigned int i;
	size_t fit = 0;

	for (i = 0; i < p->nsegs; i++)
		fit += segment_fit(mp, &p->segs[i]);
	return fit;
}

static int share_pages(struct xp_mempool *mp, struct xpx_pool *p,
		       xc_interface **xch)
{
	size_t fit = 0, want, bound, limit, need = pages_for(mp, mp->size);
	int ret, at_limit;

	/*
	 * Share calls take an int count: the bound stays below INT_MAX.  By
	 * default it reaches the gntalloc limit too: the page allocator
	 * hands out the pages freed last first, scattered after a while,
	 * and only past them come runs of fresh memory (doc/xen.md, "Share
	 * mode", has what that left on real Xen).
	 */
	bound = p->args.max_pages ? p->args.max_pages
		: need > (INT_MAX - 16) / 4 ? INT_MAX : 4 * need + 16;
	limit = read_limit();
	at_limit = p->args.max_pages == 0 && bound < limit;
	if (at_limit)
		bound = limit;
	while (fit < mp->size) {
		want = pages_for(mp, (unsigned int)(mp->size - fit));
		if (want > p->args.batch)
			want = p->args.batch;
		if (p->pages >= bound) {
			/* Say which bound to raise: max_pages= can do nothing
			 * past the gntalloc limit. */
			if (at_limit)
				xp_log(XP_LOG_ERR,
				       "xen_dom0: %u pages, the gntalloc "
				       "limit, hold only %zu of %u objects of "
				       "%zu bytes: their frames are too "
				       "fragmented (raise the limit in %s)",
				       p->pages, fit, mp->size, mp->elt_size,
				       XPX_LIMIT_FILE);
			else
				xp_log(XP_LOG_ERR,
				       "xen_dom0: %u pages hold only %zu of %u "
				       "objects of %zu bytes: their frames are "
				       "too fragmented (raise max_pages=, now "
				       "%zu)",
				       p->pages, fit, mp->size, mp->elt_size,
				       bound);
			return -EFBIG;
		}
		if (want > bound - p->pages)
			want = bound - p->pages;
		/* Near the gntalloc limit a smaller batch may still fit. */
		while ((ret = share_batch(p, xch, (unsigned int)want)) ==
			       -ENOSPC &&
		       want > 1)
			want /= 2;
		if (ret == -ENOSPC)
			limit_message(p);
		/* Recounted each time: a switch to grant-DMA addresses
		 * changes the runs of earlier segments too. */
		if (ret == 0)
			ret = xpx_bus_order_fit(mp, p, &fit);
		if (ret != 0)
			return ret;
	}
	/* Moving pages costs a mapping each: only when needed. */
	return pool_fit(mp, p) < mp->size ? xpx_place_in_bus_order(p) : 0;
}

static int map_pages(struct xp_mempool *mp, struct xpx_pool *p,
		     xc_interface **xch)
{
	uint32_t self = xpx_self_domid(&p->args);
	struct xpx_segment *s = new_segment(p, p->args.nrefs);
	size_t fit;
	int ret;

	if (s == NULL)
		return -ENOMEM;
	memcpy(s->refs, p->args.refs, p->args.nrefs * sizeof(*s->refs));
	errno = 0;
	s->va = xpx.map_refs(
		p->xgt, p->args.nrefs, p->args.map_domid, s->refs,
		PROT_READ | (p->args.writable ? PROT_WRITE : 0));
	if (s->va == NULL) {
		ret = err_or(EIO);
		/* gntdev says EINVAL for every refusal of Xen's. */
		xp_log(XP_LOG_ERR,
		       "xen_dom0: cannot map %u refs of domain %u: %s%s",
		       p->args.nrefs, p->args.map_domid, strerror(-ret),
		       ret == -EINVAL ? " (a ref not granted to this domain, "
					"or granted read-only: writable=0)"
				      : "");
		return ret;
	}
	p->pages = p->args.nrefs;
	p->share_calls = 1;
	keep_from_children(s);
	/* A backend may map its own grants (a test does): Xen maps the
	 * table of the caller only under DOMID_SELF. */
	ret = learn_frames(p, xch, s,
			   self != XPX_DOMID_SELF && p->args.map_domid == self
				   ? XPX_DOMID_SELF
				   : p->args.map_domid,
			   self);
	if (ret != 0)
		return ret;
	fit = pool_fit(mp, p);
	if (fit < mp->size) {
		xp_log(XP_LOG_ERR,
		       "xen_dom0: the %u refs of domain %u hold only %zu of "
		       "%u objects of %zu bytes",
		       p->args.nrefs, p->args.map_domid, fit, mp->size,
		       mp->elt_size);
		return -ENOSPC;
	}
	return 0;
}

/* ---- virt2phy table ---------------------------------------------------- */

static int build_page_table(struct xpx_pool *p)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0, va;
	unsigned int i, j;
	size_t k;

	for (i = 0; i < p->nsegs; i++) {
		va = (uintptr_t)p->segs[i].va;
		if (va < lo)
			lo = va;
		if (va + (size_t)p->segs[i].npages * XP_PAGE_SIZE > hi)
			hi = va + (size_t)p->segs[i].npages * XP_PAGE_SIZE;
	}
	p->base = lo;
	p->span = (hi - lo) / XP_PAGE_SIZE;
	/* Segments are mmaps and land close together; refuse an absurd
	 * spread rather than allocate a huge table. */
	if (p->span > 64 * (size_t)p->pages + 262144) {
		xp_log(XP_LOG_ERR,
		       "xen_dom0: %u pages spread over %zu pages of address "
		       "space",
		       p->pages, p->span);
		return -ENOMEM;
	}
	p->page_bus = malloc(p->span * sizeof(*p->page_bus));
	p->page_ref = malloc(p->span * sizeof(*p->page_ref));
	if (p->page_bus == NULL || p->page_ref == NULL)
		return -ENOMEM;
	for (k = 0; k < p->span; k++) {
		p->page_bus[k] = XP_BAD_PHYS;
		p->page_ref[k] = XPX_NO_REF;
	}
	for (i = 0; i < p->nsegs; i++) {
		k = ((uintptr_t)p->segs[i].va - lo) / XP_PAGE_SIZE;
		for (j = 0; j < p->segs[i].npages; j++)
		{
			p->page_bus[k + j] = p->segs[i].bus[j];
			p->page_ref[k + j] = p->segs[i].refs[j];
		}
	}
	return 0;
}

static uint64_t xpx_virt2phy(const struct xp_mempool *mp, const void *addr)
{
	const struct xpx_pool *p = mp->pool_data;
	uintptr_t off = (uintptr_t)addr - p->base;
	uint64_t bus;

	/* Below base, off wraps to a huge value: one compare for both. */
	if (off >= p->span * XP_PAGE_SIZE)
		return XP_BAD_PHYS;
	bus = p->page_bus[off >> XPX_PAGE_SHIFT];
	return bus == XP_BAD_PHYS ? bus : bus | (off & (XP_PAGE_SIZE - 1));
}

/* ---- grant refs in address order --------------------------------------- */

/* Segment with the lowest address above @after (0: the lowest of all). */
static const struct xpx_segment *next_segment(const struct xpx_pool *p,
					      uintptr_t after, int first)
{
	const struct xpx_segment *best = NULL;
	unsigned int i;

	for (i = 0; i < p->nsegs; i++) {
		uintptr_t va = (uintptr_t)p->segs[i].va;

		if ((first || va > after) &&
		    (best == NULL || va < (uintptr_t)best->va))
			best = &p->segs[i];
	}
	return best;
}

static unsigned int copy_refs(const struct xpx_pool *p, uint32_t *refs,
			      unsigned int max)
{
	const struct xpx_segment *s = next_segment(p, 0, 1);
	unsigned int k = 0, j;

	for (; s != NULL; s = next_segment(p, (uintptr_t)s->va, 0))
		for (j = 0; j < s->npages; j++, k++)
			if (k < max)
				refs[k] = s->refs[j];
	return k;
}

static int publish(struct xpx_pool *p)
{
	uint32_t *refs = malloc(p->pages * sizeof(*refs));
	unsigned int i;
	struct stat st;
	char *tmp;
	FILE *f;
	int ret = 0;

	if (refs == NULL)
		return -ENOMEM;
	copy_refs(p, refs, p->pages);
	/* Written aside and renamed: a reader never sees half a list. */
	tmp = malloc(strlen(p->args.publish) + 16);
	if (tmp == NULL) {
		free(refs);
		return -ENOMEM;
	}
	sprintf(tmp, "%s.%ld.tmp", p->args.publish, (long)getpid());
	f = fopen(tmp, "w");
	if (f == NULL) {
		ret = err_or(EIO);
	} else {
		for (i = 0; i < p->pages; i++)
			fprintf(f, "%s%u", i ? ":" : "", refs[i]);
		fputc('\n', f);
		if (fclose(f) != 0 || stat(tmp, &st) != 0 ||
		    rename(tmp, p->args.publish) != 0) {
			ret = err_or(EIO);
			unlink(tmp);
		} else {
			p->published = 1;
			p->pub_dev = st.st_dev;
			p->pub_ino = st.st_ino;
		}
	}
	free(tmp);
	free(refs);
	if (ret != 0)
		xp_log(XP_LOG_ERR, "xen_dom0: publish=%s: %s",
		       p->args.publish, strerror(-ret));
	return ret;
}

/* ---- the handler ------------------------------------------------------- */

static const char *errno_text(int err)
{
	return err != 0 ? strerror(err) : "no error code given";
}

/* Open what the mode needs; NULL reason: opened.  Failing is an answer
 * (Xen is absent), not an error of the library's to print. */
static const char *open_xen(struct xpx_pool *p, char *why, size_t len)
{
	const char *ret = xpx_lib_open();

	if (ret != NULL) {
		/* Not installed: as absent as Xen's devices. */
		snprintf(why, len, "%s", ret);
		return why;
	}
	errno = 0;
	p->log.expect_failure = 1;
	if (p->args.map_mode) {
		p->xgt = xpx.gnttab_open(&p->log.vtable, 0);
		if (p->xgt == NULL) {
			snprintf(why, len, "xengnttab_open: %s",
				 errno_text(errno));
			ret = why;
		}
	} else {
		p->xgs = xpx.gntshr_open(&p->log.vtable, 0);
		if (p->xgs == NULL) {
			snprintf(why, len, "xengntshr_open: %s",
				 errno_text(errno));
			ret = why;
		}
	}
	p->log.expect_failure = 0;
	return ret;
}

static xc_interface *open_ctrl(struct xpx_pool *p)
{
	xc_interface *xch;

	/* In map mode the frames would come from the guest's own table,
	 * which the guest can rewrite at any time: grant-DMA addresses unless
	 * frames=grant-table says the guest is trusted. */
	if (p->args.gref_frames ||
	    (p->args.map_mode && !p->args.frames_given)) {
		p->gref_frames = 1;
		return NULL;
	}
	if (xpx_lib_ctrl_why() != NULL) {
		xp_log(XP_LOG_NOTICE,
		       "xen_dom0: %s: bus addresses will be grant-DMA "
		       "addresses",
		       xpx_lib_ctrl_why());
		p->gref_frames = 1;
		return NULL;
	}
	errno = 0;
	/* Unprivileged: grant-DMA addresses, said below. */
	p->log.expect_failure = 1;
	xch = xpx.xc_open(&p->log.vtable, &p->log.vtable, 0);
	p->log.expect_failure = 0;
	if (xch == NULL) {
		xp_log(XP_LOG_NOTICE,
		       "xen_dom0: xc_interface_open: %s: bus addresses will "
		       "be grant-DMA addresses",
		       errno_text(errno));
		p->gref_frames = 1;
	}
	return xch;
}

static int setup(struct xp_mempool *mp, struct xpx_pool *p)
{
	xc_interface *xch;
	int ret;

	/* Free objects in the core's ring (its variant from the pool's
	 * flags), which the core frees. */
	ret = xp_mempool_handler_ring_store(mp, 0);
	if (ret != 0)
		return ret;
	xch = open_ctrl(p);
	ret = p->args.map_mode ? map_pages(mp, p, &xch)
			       : share_pages(mp, p, &xch);
	if (xch != NULL)
		xpx.xc_close(xch);
	if (ret == 0)
		ret = build_page_table(p);
	/* Only an inline shortcut: without it virt2phy goes out of line to
	 * xpx_virt2phy, which reads the same table. */
	if (ret == 0 && xp_mempool_handler_set_page_table(
				mp, (const void *)p->base, p->span,
				p->page_bus) != 0)
		xp_log(XP_LOG_WARNING,
		       "pool %s: xen_dom0: page table refused, virt2phy "
		       "out of line",
		       mp->name);
	if (ret == 0 && p->args.publish != NULL)
		ret = publish(p);
	return ret;
}

static void log_mode(const struct xp_mempool *mp, const struct xpx_pool *p)
{
	xp_log(XP_LOG_NOTICE,
	       "pool %s: xen_dom0 %s mode, %s domain %u%s, %u pages from %u "
	       "%s, %u chunks, bus addresses from %s",
	       mp->name, p->args.map_mode ? "map" : "share",
	       p->args.map_mode ? "pages of" : "granted to",
	       p->args.map_mode ? p->args.map_domid : p->args.peer,
	       p->args.writable ? "" : " read-only", p->pages, p->share_calls,
	       p->args.map_mode ? "mapping" : "share calls", p->chunks,
	       p->gref_frames ? "grant refs (grant-DMA)" : "the grant table");
}

static int xpx_create(struct xp_mempool *mp, const char *args)
{
	struct xpx_pool *p = calloc(1, sizeof(*p));
	char why[128];
	unsigned int i;
	int ret;

	if (p == NULL)
		return -ENOMEM;
	xpx_logger_init(&p->log);
	ret = xpx_args_parse(args, &p->args);
	if (ret != 0) {
		free(p);
		return ret;
	}
	if (open_xen(p, why, sizeof(why)) != NULL) {
		ret = p->args.map_mode;
		teardown(p);
		if (ret) {
			/* A backend asked for a guest's pages: private memory
			 * in their place would look like working. */
			xp_log(XP_LOG_ERR,
			       "xen_dom0: map mode needs Xen (%s)", why);
			return -ENODEV;
		}
		return xp_mempool_handler_fallback(mp, why);
	}
	ret = setup(mp, p);
	mp->pool_data = p;
	for (i = 0; ret == 0 && i < p->nsegs; i++)
		ret = populate_segment(mp, p, &p->segs[i]);
	if (ret != 0) {
		mp->pool_data = NULL;
		teardown(p);
		return ret;
	}
	log_mode(mp, p);
	return 0;
}

static void xpx_destroy(struct xp_mempool *mp)
{
	teardown(mp->pool_data);
	mp->pool_data = NULL;
}

/*
 * Map mode with writable=0 maps the guest's pages PROT_READ: a write
 * faults.  In share mode writable=0 makes the grants read-only for the
 * peer only: the pages are this domain's own and stay writable here.
 */
static void xpx_access(const struct xp_mempool *mp,
		       struct xp_mempool_access *acc)
{
	const struct xpx_pool *p = mp->pool_data;

	acc->writable = !p->args.map_mode || p->args.writable;
	/* The guest owns mapped pages; a peer writes shared ones only if
	 * granted read-write. */
	acc->peer_writable = p->args.map_mode || p->args.writable;
	if (p->args.map_mode)
		snprintf(acc->how, sizeof(acc->how),
			 "%s, mapped from domain %u's grants",
			 p->args.writable ? "read-write" : "read-only",
			 (unsigned int)p->args.map_domid);
	else
		snprintf(acc->how, sizeof(acc->how),
			 "read-write here, granted %s to domain %u",
			 p->args.writable ? "read-write" : "read-only",
			 (unsigned int)p->args.peer);
}

static const struct xp_mempool_ops xpx_ops = {
	.name = XP_XEN_HANDLER,
	.create = xpx_create,
	.destroy = xpx_destroy,
	.get_bulk = xp_mempool_ring_store_get,
	.put_bulk = xp_mempool_ring_store_put,
	.get_count = xp_mempool_ring_store_count,
	.virt2phy = xpx_virt2phy,
	.flags = XP_MEMPOOL_OPS_F_SHARED_MEM,
	.access = xpx_access,
};
XP_MEMPOOL_REGISTER_HANDLER(xpx_ops)

static const struct xpx_pool *xen_pool(const struct xp_mempool *mp)
{
	const struct xp_mempool_ops *ops = xp_mempool_get_ops(mp);

	return ops != NULL && ops->create == xpx_create ? mp->pool_data : NULL;
}

int xp_xen_pool_grefs(const struct xp_mempool *mp, uint32_t *refs,
		      unsigned int max)
{
	const struct xpx_pool *p;

	if (mp == NULL || (refs == NULL && max > 0))
		return -EINVAL;
	p = xen_pool(mp);
	if (p == NULL)
		return -ENODEV;
	return (int)copy_refs(p, refs, max);
}

int xp_xen_virt2gref(const struct xp_mempool *mp, const void *va,
		     uint32_t *ref)
{
	const struct xpx_pool *p;
	uintptr_t off;

	if (mp == NULL || ref == NULL)
		return -EINVAL;
	p = xen_pool(mp);
	if (p == NULL)
		return -ENODEV;
	off = (uintptr_t)va - p->base;
	if (off >= p->span * XP_PAGE_SIZE ||
	    p->page_ref[off >> XPX_PAGE_SHIFT] == XPX_NO_REF)
		return -ENOENT;
	*ref = p->page_ref[off >> XPX_PAGE_SHIFT];
	return 0;
}

int xp_xen_pool_info(const struct xp_mempool *mp, struct xp_xen_pool_info *info)
{
	const struct xpx_pool *p;

	if (mp == NULL || info == NULL)
		return -EINVAL;
	p = xen_pool(mp);
	if (p == NULL)
		return -ENODEV;
	info->map_mode = p->args.map_mode;
	info->domid = p->args.map_mode ? p->args.map_domid : p->args.peer;
	info->writable = p->args.writable;
	info->gref_frames = p->gref_frames;
	info->pages = p->pages;
	info->chunks = p->chunks;
	info->segments = p->share_calls;
	return 0;
}
