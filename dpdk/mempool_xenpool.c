/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK 22.11 mempool driver "xen_dom0": unchanged DPDK applications get
 * their pools from xenpool's xen_dom0 handler (grant-table memory, bus
 * addresses from the grant table), or from the default handler where Xen
 * is absent.  Loaded with EAL's -d; selected for every mbuf pool with
 * --mbuf-pool-ops-name=xen_dom0, or per pool with
 * rte_mempool_set_ops_byname(mp, "xen_dom0", "ARGS").  doc/dpdk.md.
 *
 * How a pool is made.  alloc creates an xp_mempool of mp->size elements of
 * DPDK's whole element size (object header, object, trailer): xenpool lays
 * them out in frame-contiguous chunks, none across a discontinuity.  DPDK
 * then reserves a memzone of the size calc_mem_size asks for (one page,
 * unused) and calls populate with it; populate ignores that memory and
 * hands DPDK the xenpool elements instead: each chunk becomes a memory
 * chunk of the pool (mem_list, with the chunk's IOVA) and each element an
 * object whose header IOVA is the IOVA of that byte, put into the driver's
 * ring of free objects (below).
 *
 * get and put: DPDK's object is the xenpool element plus mp->header_size.
 * The driver keeps DPDK's object pointers in an xp_ring of its own, so that
 * dequeue and enqueue are a ring operation each with no conversion (DPDK's
 * own cache is in front); the xenpool pool lends it all its elements for
 * the pool's life (so xenpool counts them all in use).
 *
 * Only the public xp_ API is used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include <xenpool/xen.h> /* XP_XEN_HANDLER only: no link to the driver */
#include <xenpool/xenpool.h>

#include "private.h"

#define XPD_OPS_NAME "xen_dom0"
/* Other xenpool handlers, on request: DPDK ops "xp:HANDLER" for each
 * HANDLER in this comma-separated environment variable, read when the
 * driver loads. */
#define XPD_HANDLERS_ENV "XENPOOL_DPDK_HANDLERS"
#define XPD_OPS_PREFIX "xp:"
/* The environment variable with the handler arguments for pools whose
 * application gives none (pool_config NULL). */
#define XPD_ARGS_ENV "XENPOOL_DPDK_ARGS"
/* The xenpool pool of DPDK pool NAME is "dpdk:NAME": it always fits. */
#define XPD_PREFIX "dpdk:"
_Static_assert(sizeof(XPD_PREFIX) - 1 + RTE_MEMPOOL_NAMESIZE <=
		       XP_MEMPOOL_NAMESIZE,
	       "a DPDK pool name with the prefix fits a xenpool name");

RTE_LOG_REGISTER(xpd_logtype, pmd.mempool.xenpool, NOTICE);

/* A pool's state (mp->pool_data), in private memory. */
struct xpd_pool {
	struct xp_ring *ring; /* DPDK's free objects */
	struct xp_mempool *xp;
	enum xpd_iova iova;   /* resolved: VA or BUS */
	int placed;           /* populate has handed the objects to DPDK */
};

/* Every element out of the xenpool pool, lent to DPDK: 0 or -errno. */
static int lend_all(struct xp_mempool *xp, unsigned int n)
{
	void **tmp = malloc(n * sizeof(*tmp));
	int ret;

	if (tmp == NULL)
		return -ENOMEM;
	ret = xp_mempool_get_bulk(xp, tmp, n) == 0 ? 0 : -EPROTO;
	free(tmp);
	return ret;
}

/* ---- the ops ------------------------------------------------------------ */

/*
 * The isolation rule (doc/dpdk.md): DPDK keeps its object headers, and an
 * mbuf pool its rte_mbuf headers, inside the objects.  Where a peer may
 * write the objects, it could rewrite them (mbuf->pool, buf_addr...): such
 * pools need trust_peer=1.  Objects this process cannot write cannot hold
 * them at all.
 */
static int check_isolation(const struct rte_mempool *mp,
			   const struct xp_mempool *xp, int trust_peer)
{
	struct xp_mempool_access acc;

	if (xp_mempool_access(xp, &acc) != 0)
		return -EINVAL;
	if (!acc.writable) {
		XPD_LOG(ERR,
			"mempool %s: the objects are %s: DPDK writes its "
			"headers in them; map the pages writable\n",
			mp->name, acc.how);
		return -EACCES;
	}
	if (acc.peer_writable && !trust_peer) {
		XPD_LOG(ERR,
			"mempool %s: refused: the objects are %s, and DPDK "
			"keeps its object and mbuf headers inside them, where "
			"the peer could rewrite them; grant them read-only "
			"(writable=0), keep the headers private "
			"(xp_dpdk_pktmbuf_pool_create, doc/dpdk.md), or "
			"accept the risk with trust_peer=1\n",
			mp->name, acc.how);
		return -EPERM;
	}
	return 0;
}

static int xpd_alloc(struct rte_mempool *mp)
{
	const char *cfg = mp->pool_config;
	const char *ops_name = rte_mempool_get_ops(mp->ops_index)->name;
	const char *handler = XP_XEN_HANDLER;
	char name[XP_MEMPOOL_NAMESIZE];
	unsigned int flags = 0;
	struct xpd_args args;
	struct xpd_pool *p;
	size_t elt;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		/* The xenpool pool lives in the primary's private memory. */
		XPD_LOG(ERR,
			"mempool %s: the " XPD_OPS_NAME " driver works in "
			"the primary process only\n",
			mp->name);
		return -ENOTSUP;
	}
	/* "xp:HANDLER": that xenpool handler instead of xen_dom0. */
	if (strncmp(ops_name, XPD_OPS_PREFIX, sizeof(XPD_OPS_PREFIX) - 1) == 0)
		handler = ops_name + sizeof(XPD_OPS_PREFIX) - 1;
	if (cfg == NULL)
		cfg = getenv(XPD_ARGS_ENV);
	ret = xpd_args_parse(mp->name, cfg, 1, &args);
	if (ret != 0)
		return ret;
	snprintf(name, sizeof(name), XPD_PREFIX "%s", mp->name);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	if (mp->flags & RTE_MEMPOOL_F_SP_PUT)
		flags |= XP_MEMPOOL_F_SP_PUT;
	if (mp->flags & RTE_MEMPOOL_F_SC_GET)
		flags |= XP_MEMPOOL_F_SC_GET;
	elt = (size_t)mp->header_size + mp->elt_size + mp->trailer_size;
	p->xp = xp_mempool_create_ex(name, mp->size, elt, 0, 0, NULL, NULL,
				     flags, handler,
				     args.handler_args[0] ? args.handler_args
							  : NULL);
	if (p->xp == NULL) {
		ret = -errno;
		XPD_LOG(ERR,
			"mempool %s: %u objects of %zu bytes on xenpool's "
			"%s: %s\n",
			mp->name, mp->size, elt, handler, strerror(errno));
		free(p);
		return ret;
	}
	ret = check_isolation(mp, p->xp, args.trust_peer);
	if (ret == 0) {
		p->ring = xp_ring_create(
			mp->size,
			((mp->flags & RTE_MEMPOOL_F_SP_PUT) ? XP_RING_F_SP_ENQ
							    : 0) |
				((mp->flags & RTE_MEMPOOL_F_SC_GET)
					 ? XP_RING_F_SC_DEQ
					 : 0));
		ret = p->ring == NULL ? -ENOMEM : lend_all(p->xp, mp->size);
	}
	if (ret != 0) {
		xp_ring_free(p->ring);
		xp_mempool_free(p->xp);
		free(p);
		return ret;
	}
	p->iova = xpd_iova_for(p->xp, args.iova);
	mp->pool_data = p;
	XPD_LOG(NOTICE,
		"mempool %s: %u objects of %zu bytes on xenpool's %s, "
		"IOVA: %s\n",
		mp->name, mp->size, elt, xp_mempool_handler_name(p->xp),
		xpd_iova_name(p->iova));
	return 0;
}

static void xpd_free(struct rte_mempool *mp)
{
	struct xpd_pool *p = mp->pool_data;

	if (p == NULL)
		return;
	xp_ring_free(p->ring);
	xp_mempool_free(p->xp);
	free(p);
	mp->pool_data = NULL;
}

/* The single-producer and single-consumer sides out of line: the common
 * multi-threaded path inlines one variant only, and stays short. */
static __attribute__((noinline)) int sp_enqueue(struct xp_ring *r,
						void *const *objs,
						unsigned int n)
{
	return xp_ring_sp_enqueue_bulk(r, objs, n, NULL) == n ? 0 : -ENOBUFS;
}

static __attribute__((noinline)) int sc_dequeue(struct xp_ring *r,
						void **objs, unsigned int n)
{
	return xp_ring_sc_dequeue_bulk(r, objs, n, NULL) == n ? 0 : -ENOBUFS;
}

static int xpd_enqueue(struct rte_mempool *mp, void *const *objs,
		       unsigned int n)
{
	struct xp_ring *r = ((struct xpd_pool *)mp->pool_data)->ring;

	if (r->flags & XP_RING_F_SP_ENQ)
		return sp_enqueue(r, objs, n);
	return xp_ring_mp_enqueue_bulk(r, objs, n, NULL) == n ? 0 : -ENOBUFS;
}

static int xpd_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	struct xp_ring *r = ((struct xpd_pool *)mp->pool_data)->ring;

	if (r->flags & XP_RING_F_SC_DEQ)
		return sc_dequeue(r, objs, n);
	return xp_ring_mc_dequeue_bulk(r, objs, n, NULL) == n ? 0 : -ENOBUFS;
}

static unsigned int xpd_get_count(const struct rte_mempool *mp)
{
	const struct xpd_pool *p = mp->pool_data;

	/* (DPDK may ask before alloc or after a failed one.) */
	return p == NULL ? 0 : xp_ring_count(p->ring);
}

/* The objects live in xenpool's memory: DPDK's memzone need only exist
 * (populate is called with it), one page. */
static ssize_t xpd_calc_mem_size(const struct rte_mempool *mp,
				 uint32_t obj_num, uint32_t pg_shift,
				 size_t *min_chunk_size, size_t *align)
{
	(void)mp;
	(void)obj_num;
	(void)pg_shift;
	*min_chunk_size = XP_PAGE_SIZE;
	*align = XP_PAGE_SIZE;
	return XP_PAGE_SIZE;
}

static rte_iova_t obj_iova(const struct xpd_pool *p, const void *va)
{
	return xpd_iova_of(p->xp, p->iova, va);
}

struct place {
	struct rte_mempool *mp;
	struct xpd_pool *p;
	rte_mempool_populate_obj_cb_t *obj_cb;
	void *obj_cb_arg;
	struct rte_mempool_memhdr **h; /* one per chunk, made first */
	unsigned int objs;
	unsigned int no_iova; /* chunks without an IOVA */
};

static void place_chunk(struct xp_mempool *xp, void *arg, void *va,
			uint64_t phys, size_t len, unsigned int idx)
{
	struct place *pl = arg;
	struct rte_mempool_memhdr *h = pl->h[idx];

	(void)xp;
	(void)phys;
	h->mp = pl->mp;
	h->addr = va;
	h->iova = obj_iova(pl->p, va);
	h->len = len;
	STAILQ_INSERT_TAIL(&pl->mp->mem_list, h, next);
	pl->mp->nb_mem_chunks++;
	if (h->iova == RTE_BAD_IOVA)
		pl->no_iova++;
}

static void place_obj(struct xp_mempool *xp, void *arg, void *elt,
		      unsigned int idx)
{
	struct place *pl = arg;
	char *obj = (char *)elt + pl->mp->header_size;

	(void)xp;
	(void)idx;
	pl->obj_cb(pl->mp, pl->obj_cb_arg, obj, obj_iova(pl->p, obj));
	/* Free, in DPDK's ring (it holds mp->size: never full). */
	xp_ring_enqueue_bulk(pl->p->ring, (void *const *)&obj, 1, NULL);
	pl->objs++;
}

static int xpd_populate(struct rte_mempool *mp, unsigned int max_objs,
			void *vaddr, rte_iova_t iova, size_t len,
			rte_mempool_populate_obj_cb_t *obj_cb, void *obj_cb_arg)
{
	struct xpd_pool *p = mp->pool_data;
	struct place pl = {
		.mp = mp,
		.p = p,
		.obj_cb = obj_cb,
		.obj_cb_arg = obj_cb_arg,
	};

	unsigned int i, n = xp_mempool_chunk_count(p->xp);

	(void)vaddr;
	(void)iova;
	(void)len;
	/*
	 * Every object at once: DPDK asks for all of them first.  A failure
	 * returns 0, never a negative errno: DPDK 22.11 takes the return as
	 * unsigned, records its own memory chunk anyway and would free it
	 * twice; with 0 it fails the populate with ENOBUFS, cleanly.
	 */
	if (p->placed || max_objs < mp->size) {
		XPD_LOG(ERR, "mempool %s: populated twice or in parts\n",
			mp->name);
		return 0;
	}
	/* rte_zmalloc: DPDK frees memory chunk headers with rte_free.
	 * All made before any is linked, so that a failure leaves none. */
	pl.h = calloc(n ? n : 1, sizeof(*pl.h));
	for (i = 0; pl.h != NULL && i < n; i++) {
		pl.h[i] = rte_zmalloc("MEMPOOL_MEMHDR", sizeof(*pl.h[i]), 0);
		if (pl.h[i] == NULL)
			break;
	}
	if (pl.h == NULL || i < n) {
		while (pl.h != NULL && i-- > 0)
			rte_free(pl.h[i]);
		free(pl.h);
		XPD_LOG(ERR, "mempool %s: no memory for %u chunk headers\n",
			mp->name, n);
		return 0;
	}
	xp_mempool_mem_iter(p->xp, place_chunk, &pl);
	free(pl.h);
	/* The objects go into the pool's ring (DPDK's populate helper
	 * would enqueue them through the ops). */
	xp_mempool_obj_iter(p->xp, place_obj, &pl);
	p->placed = 1;
	if (pl.no_iova != 0)
		XPD_LOG(WARNING,
			"mempool %s: %u of %u chunks have no bus address: "
			"their objects have no IOVA\n",
			mp->name, pl.no_iova, n);
	return (int)pl.objs;
}

static const struct rte_mempool_ops xpd_ops = {
	.name = XPD_OPS_NAME,
	.alloc = xpd_alloc,
	.free = xpd_free,
	.enqueue = xpd_enqueue,
	.dequeue = xpd_dequeue,
	.get_count = xpd_get_count,
	.calc_mem_size = xpd_calc_mem_size,
	.populate = xpd_populate,
};

/* ---- loading -------------------------------------------------------------- */

/*
 * DPDK's table holds RTE_MEMPOOL_MAX_OPS_IDX handlers and drops the rest
 * with one line that is easy to miss; a pool that asks for xen_dom0 then
 * fails much later.  Say it loudly, with what fills the table.
 */
/* The names in DPDK's table, for messages. */
static void table_names(char *buf, size_t size)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < rte_mempool_ops_table.num_ops &&
		    i < RTE_MEMPOOL_MAX_OPS_IDX && used < size;
	     i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i ? " " : "",
					 rte_mempool_ops_table.ops[i].name);
}

static void table_full(const char *what, int err)
{
	char names[RTE_MEMPOOL_MAX_OPS_IDX * (RTE_MEMPOOL_OPS_NAMESIZE + 1)];

	table_names(names, sizeof(names));
	fprintf(stderr,
		"xenpool: cannot register the mempool ops \"%s\": %s; DPDK's "
		"table holds %d and has: %s.  Load fewer mempool drivers (EAL "
		"loads every driver of its plugin directory).\n",
		what, strerror(-err), RTE_MEMPOOL_MAX_OPS_IDX, names);
	XPD_LOG(ERR, "cannot register the mempool ops \"%s\": %s (%s)\n",
		what, strerror(-err), names);
}

/* The ops of "xp:HANDLER" for each handler of XENPOOL_DPDK_HANDLERS. */
static void register_handlers(void)
{
	const char *env = getenv(XPD_HANDLERS_ENV);
	char buf[XPD_ARGS_MAX], *tok, *save = NULL;
	struct rte_mempool_ops ops = xpd_ops;
	int ret;

	if (env == NULL || *env == '\0')
		return;
	if (strlen(env) >= sizeof(buf)) {
		fprintf(stderr, "xenpool: %s longer than %zu bytes: ignored\n",
			XPD_HANDLERS_ENV, sizeof(buf) - 1);
		return;
	}
	strcpy(buf, env);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		/* DPDK refuses names of RTE_MEMPOOL_OPS_NAMESIZE - 1
		 * bytes and more. */
		if ((size_t)snprintf(ops.name, sizeof(ops.name),
				     XPD_OPS_PREFIX "%s",
				     tok) >= sizeof(ops.name) - 1) {
			fprintf(stderr,
				"xenpool: %s: handler name %s too long for "
				"DPDK's ops names (%d bytes with \"%s\"): "
				"not registered\n",
				XPD_HANDLERS_ENV, tok,
				RTE_MEMPOOL_OPS_NAMESIZE - 2, XPD_OPS_PREFIX);
			continue;
		}
		ret = rte_mempool_register_ops(&ops);
		if (ret == -ENOSPC)
			table_full(ops.name, ret);
		else if (ret < 0)
			fprintf(stderr,
				"xenpool: cannot register the mempool ops "
				"\"%s\": %s\n",
				ops.name, strerror(-ret));
	}
}

static void __attribute__((constructor)) xpd_init(void)
{
	int ret = rte_mempool_register_ops(&xpd_ops);

	if (ret == -ENOSPC)
		table_full(XPD_OPS_NAME, ret);
	else if (ret < 0)
		fprintf(stderr,
			"xenpool: cannot register the mempool ops \"%s\": "
			"%s\n",
			XPD_OPS_NAME, strerror(-ret));
	/* After xen_dom0, which keeps its slot first. */
	register_handlers();
	xp_log_set_callback(xpd_log_to_dpdk, NULL);
}
