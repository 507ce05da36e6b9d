/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Share mode: pages laid out in the order of their bus addresses.
 *
 * Linux's gntalloc allocates the pages of a share one at a time, so their
 * frames follow the page allocator's free lists: often consecutive, but
 * as often descending as ascending against the addresses of the mapping
 * (0x6f23, 0x6f22, 0x6f21...), and a reused grant ref comes back in
 * descending order too.  Read in address order, the runs of consecutive
 * bus addresses are then a page or two long and an object larger than a
 * page rarely fits (doc/xen.md, "Share mode", has the pools that failed
 * on real Xen).  Sorted by bus address, the same pages form long runs,
 * and runs of different share calls join.
 *
 * So the handler counts what fits in bus order, and when the address
 * order holds too few objects it moves each page with
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) into one fresh reservation, at the
 * place of its bus address's rank.  A grant keeps its frame and its ref
 * when its page moves (measured on real Xen: the data reads back through
 * a foreign mapping of the frame); the move changes only where this
 * process sees the page.  Pages that were next to each other in a share
 * and stay neighbours move together.  The costs: a mapping (VMA) per moved
 * page or group of pages, under the process's vm.max_map_count; and the
 * grants of a share call are freed by Linux only when every one of its
 * pages is unmapped, which teardown does, wherever they are.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"

#define PAGE ((size_t)XP_PAGE_SIZE)

/* Where a page is: segment and index, and its bus address. */
struct page_at {
	uint64_t bus;
	unsigned int seg;
	unsigned int idx;
};

static int page_cmp(const void *a, const void *b)
{
	const struct page_at *x = a, *y = b;

	return (x->bus > y->bus) - (x->bus < y->bus);
}

/* Every page of @p, sorted by bus address; NULL when out of memory. */
static struct page_at *sorted_pages(const struct xpx_pool *p)
{
	struct page_at *v = malloc((size_t)p->pages * sizeof(*v));
	unsigned int i, j, k = 0;

	if (v == NULL)
		return NULL;
	for (i = 0; i < p->nsegs; i++)
		for (j = 0; j < p->segs[i].npages; j++)
			v[k++] = (struct page_at){p->segs[i].bus[j], i, j};
	qsort(v, k, sizeof(*v), page_cmp);
	return v;
}

int xpx_bus_order_fit(const struct xp_mempool *mp, const struct xpx_pool *p,
		      size_t *out)
{
	struct page_at *v = sorted_pages(p);
	unsigned int i, len;
	size_t fit = 0;

	if (v == NULL)
		return -ENOMEM;
	for (i = 0; i < p->pages; i += len) {
		len = 1;
		while (i + len < p->pages &&
		       v[i + len].bus == v[i + len - 1].bus + PAGE)
			len++;
		fit += xp_mempool_chunk_objs(mp, NULL, (size_t)len * PAGE);
	}
	free(v);
	*out = fit;
	return 0;
}

static int mark_moved(struct xpx_segment *s, unsigned int idx,
		      unsigned int n)
{
	if (s->moved == NULL) {
		s->moved = calloc(s->npages, 1);
		if (s->moved == NULL)
			return -ENOMEM;
	}
	memset(s->moved + idx, 1, n);
	return 0;
}

/* Pages @v[k..] that are neighbours both in their share and in bus order
 * (they move as one piece). */
static unsigned int piece_len(const struct page_at *v, unsigned int k,
			      unsigned int n)
{
	unsigned int len = 1;

	while (k + len < n && v[k + len].seg == v[k].seg &&
	       v[k + len].idx == v[k].idx + len)
		len++;
	return len;
}

static int move_pages(struct xpx_pool *p, const struct page_at *v)
{
	unsigned int k, len;
	int ret;

	for (k = 0; k < p->pages; k += len) {
		struct xpx_segment *s = &p->segs[v[k].seg];
		char *from = (char *)s->va + (size_t)v[k].idx * PAGE;
		char *to = (char *)p->region + (size_t)k * PAGE;

		len = piece_len(v, k, p->pages);
		/* Marked first: if the move fails half way, teardown
		 * unmaps the whole region anyway, and must not unmap the
		 * old place, which someone else may use by then. */
		ret = mark_moved(s, v[k].idx, len);
		if (ret != 0)
			return ret;
		if (mremap(from, len * PAGE, len * PAGE,
			   MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) {
			ret = errno > 0 ? -errno : -ENOMEM;
			/* Not moved after all: its old place is still ours. */
			memset(s->moved + v[k].idx, 0, len);
			xp_log(XP_LOG_ERR,
			       "xen_dom0: cannot move %u granted pages into "
			       "bus-address order: mremap: %s (each piece "
			       "moved is a mapping of its own; see "
			       "/proc/sys/vm/max_map_count)",
			       len, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* After every page moved: one segment, the region, in bus order. */
static int adopt_region(struct xpx_pool *p, const struct page_at *v)
{
	struct xpx_segment r = {.va = p->region, .npages = p->pages};
	unsigned int i, k;

	r.refs = malloc((size_t)p->pages * sizeof(*r.refs));
	r.bus = malloc((size_t)p->pages * sizeof(*r.bus));
	if (r.refs == NULL || r.bus == NULL) {
		free(r.refs);
		free(r.bus);
		return -ENOMEM;
	}
	for (k = 0; k < p->pages; k++) {
		r.refs[k] = p->segs[v[k].seg].refs[v[k].idx];
		r.bus[k] = v[k].bus;
	}
	for (i = 0; i < p->nsegs; i++) {
		free(p->segs[i].refs);
		free(p->segs[i].bus);
		free(p->segs[i].moved);
	}
	p->segs[0] = r;
	p->nsegs = 1;
	p->region = NULL;
	return 0;
}

int xpx_place_in_bus_order(struct xpx_pool *p)
{
	struct page_at *v = sorted_pages(p);
	void *region;
	int ret;

	if (v == NULL)
		return -ENOMEM;
	region = mmap(NULL, (size_t)p->pages * PAGE, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		free(v);
		return -ENOMEM;
	}
	p->region = region;
	p->region_pages = p->pages;
	ret = move_pages(p, v);
	if (ret == 0)
		ret = adopt_region(p, v);
	free(v);
	return ret;
}
