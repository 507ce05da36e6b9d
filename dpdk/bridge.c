/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Headers-private packet buffer pools (<xenpool/dpdk.h>): the rte_mbuf
 * headers in a DPDK pool on ring_mp_mc (DPDK's memory, private), the data
 * rooms in a xenpool pool on xen_dom0 (grant memory).  Each mbuf gets one
 * room for life, as a pinned external buffer, so DPDK never frees or
 * moves rooms; a DPDK mempool event frees the rooms' pool when the DPDK
 * pool is freed, however that is done.
 */
/*
 * rte_mempool_event_callback_register() is DPDK's internal API (drivers
 * use it): the only hook in DPDK 22.11 that tells a library that a pool is
 * being freed.  The library is built for 22.11's ABI (librte_mempool.so.23)
 * anyway.
 */
#define ALLOW_INTERNAL_API

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <xenpool/dpdk.h>
#include <xenpool/xen.h> /* XP_XEN_HANDLER only: no link to the driver */
#include <xenpool/xenpool.h>

#include "private.h"

RTE_LOG_REGISTER(xpd_logtype, pmd.mempool.xenpool, NOTICE);

/* The headers' DPDK driver: private memory, whatever the application's
 * preferred ops are. */
#define XPB_HEADER_OPS "ring_mp_mc"
#define XPB_PREFIX "dpdkx:"
_Static_assert(sizeof(XPB_PREFIX) - 1 + RTE_MEMPOOL_NAMESIZE <=
		       XP_MEMPOOL_NAMESIZE,
	       "a DPDK pool name with the prefix fits a xenpool name");

/* The pools made here, for the destroy event and for _rooms(). */
struct xpb_pool {
	struct xpb_pool *next;
	const struct rte_mempool *mp;
	struct xp_mempool *rooms;
};

static pthread_mutex_t xpb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xpb_pool *xpb_pools;
static int xpb_event_registered;

/* Unlink the entry of @p mp; its rooms, or NULL.  Under xpb_lock. */
static struct xp_mempool *xpb_forget_locked(const struct rte_mempool *mp)
{
	struct xpb_pool **pp, *e;
	struct xp_mempool *rooms;

	for (pp = &xpb_pools; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->mp == mp)
			break;
	if (*pp == NULL)
		return NULL;
	e = *pp;
	*pp = e->next;
	rooms = e->rooms;
	free(e);
	return rooms;
}

/* rte_mempool_free() of one of ours: its rooms go too. */
static void xpb_event(enum rte_mempool_event event, struct rte_mempool *mp,
		      void *arg)
{
	struct xp_mempool *rooms;

	(void)arg;
	if (event != RTE_MEMPOOL_EVENT_DESTROY)
		return;
	pthread_mutex_lock(&xpb_lock);
	rooms = xpb_forget_locked(mp);
	pthread_mutex_unlock(&xpb_lock);
	xp_mempool_free(rooms);
}

/*
 * When the last reference to a pinned room goes (a clone or an attached
 * mbuf let it go), DPDK hands the owner back through this: restore it as
 * a fresh mbuf of its pool and return it there.
 */
static void xpb_room_released(void *addr, void *opaque)
{
	struct rte_mbuf *m = opaque;

	(void)addr;
	/* DPDK may have dropped its reference count to 0 already. */
	rte_mbuf_refcnt_set(m, 1);
	rte_mbuf_ext_refcnt_set(m->shinfo, 1);
	m->ol_flags = RTE_MBUF_F_EXTERNAL;
	m->next = NULL;
	m->nb_segs = 1;
	rte_mbuf_raw_free(m);
}

struct xpb_init {
	struct xp_mempool *rooms;
	enum xpd_iova iova;
	void **room;      /* every room, in xenpool's order */
	unsigned int next;
};

/* One mbuf: a header in private memory, a pinned room in the rooms' pool.
 * The shared info of its external buffer follows the private area. */
static void xpb_mbuf_init(struct rte_mempool *mp, void *arg, void *obj,
			  unsigned int idx)
{
	struct xpb_init *in = arg;
	struct rte_mbuf *m = obj;
	uint16_t priv = rte_pktmbuf_priv_size(mp);
	struct rte_mbuf_ext_shared_info *shinfo;
	void *room = in->room[in->next++];

	(void)idx;
	memset(m, 0, sizeof(*m) + priv);
	m->priv_size = priv;
	m->buf_addr = room;
	rte_mbuf_iova_set(m, xpd_iova_of(in->rooms, in->iova, room));
	m->buf_len = rte_pktmbuf_data_room_size(mp);
	m->data_off = RTE_MIN(RTE_PKTMBUF_HEADROOM, m->buf_len);
	m->pool = mp;
	m->nb_segs = 1;
	m->port = RTE_MBUF_PORT_INVALID;
	m->ol_flags = RTE_MBUF_F_EXTERNAL;
	rte_mbuf_refcnt_set(m, 1);
	shinfo = (struct rte_mbuf_ext_shared_info *)((char *)(m + 1) + priv);
	m->shinfo = shinfo;
	shinfo->free_cb = xpb_room_released;
	shinfo->fcb_opaque = m;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
}

static int xpb_register_event(void)
{
	int ret = 0;

	if (xpb_event_registered)
		return 0;
	if (rte_mempool_event_callback_register(xpb_event, NULL) == 0)
		xpb_event_registered = 1;
	else
		ret = -rte_errno;
	return ret;
}

struct rte_mempool *xp_dpdk_pktmbuf_pool_create(const char *name,
						unsigned int n,
						unsigned int cache_size,
						uint16_t priv_size,
						uint16_t data_room_size,
						int socket_id, const char *args)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = data_room_size,
		.mbuf_priv_size = priv_size,
		.flags = RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF,
	};
	char xname[XP_MEMPOOL_NAMESIZE];
	struct xpb_init in = {0};
	struct rte_mempool *mp = NULL;
	struct xpd_args a;
	struct xpb_pool *e = NULL;
	int err;

	if (name == NULL || n == 0 || data_room_size == 0 ||
	    RTE_ALIGN(priv_size, RTE_MBUF_PRIV_ALIGN) != priv_size) {
		err = -EINVAL;
		goto out;
	}
	if (strlen(name) >= RTE_MEMPOOL_NAMESIZE) {
		err = -ENAMETOOLONG;
		goto out;
	}
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		XPD_LOG(ERR, "mempool %s: headers-private pools are made in "
			     "the primary process only\n",
			name);
		err = -ENOTSUP;
		goto out;
	}
	if (rte_mempool_lookup(name) != NULL) {
		err = -EEXIST;
		goto out;
	}
	err = xpd_args_parse(name, args, 0, &a);
	if (err != 0)
		goto out;
	e = calloc(1, sizeof(*e));
	in.room = calloc(n, sizeof(*in.room));
	if (e == NULL || in.room == NULL) {
		err = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&xpb_lock);
	err = xpb_register_event();
	pthread_mutex_unlock(&xpb_lock);
	if (err != 0)
		goto out;

	/* The rooms first: they are what most often cannot be had. */
	snprintf(xname, sizeof(xname), XPB_PREFIX "%s", name);
	in.rooms = xp_mempool_create_ex(xname, n, data_room_size, 0, 0, NULL,
					NULL, 0, XP_XEN_HANDLER,
					a.handler_args[0] ? a.handler_args
							  : NULL);
	if (in.rooms == NULL) {
		err = -errno;
		XPD_LOG(ERR, "mempool %s: %u data rooms of %u bytes: %s\n",
			name, n, data_room_size, strerror(errno));
		goto out;
	}
	in.iova = xpd_iova_for(in.rooms, a.iova);
	/* Every room out of the rooms' pool, for good: pinned to its mbuf
	 * (so xenpool counts them in use, and hands none out again). */
	if (xp_mempool_get_bulk(in.rooms, in.room, n) != 0) {
		err = -EPROTO;
		goto out;
	}

	mp = rte_mempool_create_empty(
		name, n,
		sizeof(struct rte_mbuf) + priv_size +
			sizeof(struct rte_mbuf_ext_shared_info),
		cache_size, sizeof(priv), socket_id, 0);
	if (mp == NULL) {
		err = -rte_errno;
		goto out;
	}
	err = rte_mempool_set_ops_byname(mp, XPB_HEADER_OPS, NULL);
	if (err != 0) {
		XPD_LOG(ERR, "mempool %s: DPDK's " XPB_HEADER_OPS " driver for "
			     "the headers: %s\n",
			name, strerror(-err));
		err = -ENOENT;
		goto out;
	}
	rte_pktmbuf_pool_init(mp, &priv);
	err = rte_mempool_populate_default(mp);
	if (err < 0)
		goto out;
	rte_mempool_obj_iter(mp, xpb_mbuf_init, &in);

	e->mp = mp;
	e->rooms = in.rooms;
	pthread_mutex_lock(&xpb_lock);
	e->next = xpb_pools;
	xpb_pools = e;
	pthread_mutex_unlock(&xpb_lock);
	XPD_LOG(NOTICE,
		"mempool %s: %u mbufs, headers on DPDK's " XPB_HEADER_OPS
		", data rooms of %u bytes on xenpool's %s, IOVA: %s\n",
		name, n, data_room_size, xp_mempool_handler_name(in.rooms),
		xpd_iova_name(in.iova));
	free(in.room);
	return mp;

out:
	/* Not yet in the list: the destroy event finds nothing to free. */
	if (mp != NULL)
		rte_mempool_free(mp);
	xp_mempool_free(in.rooms);
	free(in.room);
	free(e);
	rte_errno = -err;
	return NULL;
}

struct xp_mempool *xp_dpdk_pktmbuf_pool_rooms(const struct rte_mempool *mp)
{
	struct xpb_pool *e;
	struct xp_mempool *rooms = NULL;

	if (mp == NULL)
		return NULL;
	pthread_mutex_lock(&xpb_lock);
	for (e = xpb_pools; e != NULL; e = e->next)
		if (e->mp == mp) {
			rooms = e->rooms;
			break;
		}
	pthread_mutex_unlock(&xpb_lock);
	return rooms;
}

/* xenpool's log into DPDK's, as the driver does (if it is loaded too, the
 * last one loaded sets it: the same function). */
static void __attribute__((constructor)) xpb_init_log(void)
{
	xp_log_set_callback(xpd_log_to_dpdk, NULL);
}
