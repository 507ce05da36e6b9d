/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet buffer pools and the out-of-line mbuf operations (see mbuf.h). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/mbuf.h>

#include "core.h"

/* The layout is ABI: RX/TX fields in the first cache line. */
_Static_assert(offsetof(struct xp_mbuf, flags) + sizeof(uint16_t) ==
		       XP_CACHE_LINE_SIZE,
	       "the hot fields fill exactly the first cache line");
_Static_assert(offsetof(struct xp_mbuf, direct) == XP_CACHE_LINE_SIZE,
	       "control fields start the second cache line");
_Static_assert(sizeof(struct xp_mbuf) == 2 * XP_CACHE_LINE_SIZE,
	       "an mbuf header is two cache lines");

/* Rooms of split pools get unique names from this counter. */
static unsigned int room_pool_seq;

struct room_binding {
	void **rooms;             /* split: room of each header, by index */
	struct xp_mempool *rooms_of; /* split: their pool */
	uint16_t room_size;
	uint16_t priv_size;
};

/* obj_init of the headers' pool: bind each header to its room. */
static void mbuf_init(struct xp_mempool *mp, void *arg, void *obj,
		      unsigned int idx)
{
	const struct room_binding *b = arg;
	struct xp_mbuf *m = obj;

	memset(m, 0, sizeof(*m) + b->priv_size);
	if (b->rooms != NULL) {
		m->room = b->rooms[idx];
		m->room_phys = xp_mempool_virt2phy(b->rooms_of, m->room);
	} else {
		m->room = (char *)m + sizeof(*m) + b->priv_size;
		m->room_phys = xp_mempool_virt2phy(mp, m->room);
	}
	m->buf_addr = m->room;
	m->buf_phys = m->room_phys;
	m->buf_len = b->room_size;
	m->pool = mp;
	m->priv_size = b->priv_size;
	m->refcnt = 1;
	xp_pktmbuf_reset(m);
}

static void free_rooms(struct xp_mempool *mp, void *arg)
{
	struct xp_pktmbuf_pool_private *priv = xp_mempool_get_priv(mp);

	(void)arg;
	/* The rooms were taken for good at creation: freeing their pool
	 * releases them with it. */
	xp_mempool_free(priv->room_pool);
	priv->room_pool = NULL;
}

/* Split mode: rooms in the handler's memory, all taken out at once.
 * 0 or a negative errno. */
static int make_rooms(unsigned int n, uint16_t room_size, const char *handler,
		      const char *args, struct xp_mempool **rooms_of,
		      void ***rooms_out)
{
	char name[XP_MEMPOOL_NAMESIZE];
	struct xp_mempool *rooms;
	unsigned int tries = 0;
	void **list;

	/* A user's pool may already have the next name: try further ones. */
	do {
		snprintf(name, sizeof(name), "xp-mbuf-rooms-%u",
			 __atomic_add_fetch(&room_pool_seq, 1,
					    __ATOMIC_RELAXED));
		rooms = xp_mempool_create_ex(name, n, room_size, 0, 0, NULL,
					     NULL, 0, handler, args);
	} while (rooms == NULL && errno == EEXIST && ++tries < 64);
	if (rooms == NULL)
		return -errno;
	list = malloc((size_t)n * sizeof(*list));
	if (list == NULL) {
		xp_mempool_free(rooms);
		return -ENOMEM;
	}
	if (xp_mempool_get_bulk(rooms, list, n) != 0) {
		/* The handler holds fewer rooms than it said it made. */
		free(list);
		xp_mempool_free(rooms);
		return -ENOBUFS;
	}
	*rooms_of = rooms;
	*rooms_out = list;
	return 0;
}

struct xp_mempool *xp_pktmbuf_pool_create_ex(const char *name, unsigned int n,
					     unsigned int cache_size,
					     uint16_t priv_size,
					     uint16_t data_room_size,
					     const char *handler,
					     const char *handler_args)
{
	struct room_binding b = {NULL, NULL, data_room_size, priv_size};
	struct xp_pktmbuf_pool_private *priv;
	const struct xp_mempool_ops *ops;
	struct xp_mempool *mp;
	size_t elt;
	int split, err;

	if ((priv_size & 7) != 0 || data_room_size < XP_PKTMBUF_HEADROOM) {
		err = -EINVAL;
		goto err_out;
	}
	/* One name for the handler from here on: the default read once, so
	 * that a change of default cannot split this pool by one handler and
	 * create it with another. */
	if (handler == NULL)
		handler = xp_mempool_get_def_handler();
	ops = xp_mempool_handler_lookup(handler);
	if (ops == NULL) {
		err = -errno;
		goto err_out;
	}
	split = (ops->flags & XP_MEMPOOL_OPS_F_SHARED_MEM) != 0;
	elt = sizeof(struct xp_mbuf) + priv_size + (split ? 0 : data_room_size);
	/* Every check on the headers' pool before any room is shared with a
	 * peer (a taken name can still race, and then the rooms are freed). */
	err = xp__mempool_check_args(name, n, elt, cache_size, sizeof(*priv),
				     0);
	if (err == 0 && xp_mempool_lookup(name) != NULL)
		err = -EEXIST;
	if (err == 0 && split)
		err = make_rooms(n, data_room_size, handler, handler_args,
				 &b.rooms_of, &b.rooms);
	if (err != 0)
		goto err_out;
	if (split) {
		/* Headers in private memory, on the built-in ring. */
		handler = XP_MEMPOOL_BUILTIN_HANDLER;
		handler_args = NULL;
	}
	mp = xp_mempool_create_ex(name, n, elt, cache_size, sizeof(*priv),
				  mbuf_init, &b, 0, handler, handler_args);
	err = mp == NULL ? -errno : 0;
	free(b.rooms);
	if (mp == NULL) {
		xp_mempool_free(b.rooms_of);
		goto err_out;
	}
	priv = xp_mempool_get_priv(mp);
	priv->data_room_size = data_room_size;
	priv->mbuf_priv_size = priv_size;
	priv->split = (uint32_t)split;
	priv->room_pool = b.rooms_of;
	if (split) {
		/* -EBUSY only if another thread set a hook on the new pool
		 * first: then neither pool can be kept. */
		err = xp_mempool_set_free_cb(mp, free_rooms, NULL);
		if (err != 0) {
			priv->room_pool = NULL;
			xp_mempool_free(mp);
			xp_mempool_free(b.rooms_of);
			goto err_out;
		}
	}
	return mp;

err_out:
	/* The one place this constructor sets errno. */
	errno = -err;
	return NULL;
}

struct xp_mempool *xp_pktmbuf_pool_create(const char *name, unsigned int n,
					  unsigned int cache_size,
					  uint16_t priv_size,
					  uint16_t data_room_size)
{
	return xp_pktmbuf_pool_create_ex(name, n, cache_size, priv_size,
					 data_room_size, NULL, NULL);
}

uint16_t xp_pktmbuf_data_room_size(struct xp_mempool *mp)
{
	const struct xp_pktmbuf_pool_private *priv = xp_mempool_get_priv(mp);

	return priv == NULL ? 0 : priv->data_room_size;
}

uint16_t xp_pktmbuf_priv_size(struct xp_mempool *mp)
{
	const struct xp_pktmbuf_pool_private *priv = xp_mempool_get_priv(mp);

	return priv == NULL ? 0 : priv->mbuf_priv_size;
}

/* ---- data manipulation -------------------------------------------------- */

char *xp_pktmbuf_prepend(struct xp_mbuf *m, uint16_t len)
{
	if (len > m->data_off)
		return NULL;
	m->data_off -= len;
	m->data_len += len;
	m->pkt_len += len;
	return (char *)m->buf_addr + m->data_off;
}

char *xp_pktmbuf_append(struct xp_mbuf *m, uint16_t len)
{
	struct xp_mbuf *last = xp_pktmbuf_lastseg(m);
	char *tail;

	if (len > xp_pktmbuf_tailroom(last))
		return NULL;
	tail = (char *)last->buf_addr + last->data_off + last->data_len;
	last->data_len += len;
	m->pkt_len += len;
	return tail;
}

char *xp_pktmbuf_adj(struct xp_mbuf *m, uint16_t len)
{
	if (len > m->data_len)
		return NULL;
	m->data_off += len;
	m->data_len -= len;
	m->pkt_len -= len;
	return (char *)m->buf_addr + m->data_off;
}

int xp_pktmbuf_trim(struct xp_mbuf *m, uint16_t len)
{
	struct xp_mbuf *last = xp_pktmbuf_lastseg(m);

	if (len > last->data_len)
		return -EINVAL;
	last->data_len -= len;
	m->pkt_len -= len;
	return 0;
}

int xp_pktmbuf_chain(struct xp_mbuf *head, struct xp_mbuf *tail)
{
	if (head == NULL || tail == NULL || head == tail)
		return -EINVAL;
	if ((unsigned int)head->nb_segs + tail->nb_segs > UINT16_MAX ||
	    (uint64_t)head->pkt_len + tail->pkt_len > UINT32_MAX)
		return -EOVERFLOW;
	xp_pktmbuf_lastseg(head)->next = tail;
	head->nb_segs += tail->nb_segs;
	head->pkt_len += tail->pkt_len;
	/* tail is now a middle segment: only the first carries totals. */
	tail->nb_segs = 1;
	tail->pkt_len = tail->data_len;
	return 0;
}

/* ---- indirect mbufs ------------------------------------------------------ */

/* One more reference, unless the count is full (a CAS, so that two
 * threads cannot both pass a check at UINT16_MAX - 1 and wrap it). */
static int ref_take(struct xp_mbuf *m)
{
	uint16_t old = __atomic_load_n(&m->refcnt, __ATOMIC_RELAXED);

	do {
		if (old == UINT16_MAX)
			return 0;
	} while (!__atomic_compare_exchange_n(&m->refcnt, &old, old + 1, 1,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return 1;
}

int xp_pktmbuf_attach(struct xp_mbuf *mi, struct xp_mbuf *m)
{
	struct xp_mbuf *owner;

	if (mi == NULL || m == NULL || mi == m || xp_mbuf_is_indirect(mi) ||
	    mi->next != NULL)
		return -EINVAL;
	owner = xp_mbuf_is_indirect(m) ? m->direct : m;
	if (owner == mi)
		return -EINVAL;
	if (!ref_take(owner))
		return -EOVERFLOW;
	mi->direct = owner;
	mi->buf_addr = m->buf_addr;
	mi->buf_len = m->buf_len;
	/* The room's bus address: virt2phy of its start in its pool, kept
	 * when the owner was made, so no lookup here. */
	mi->buf_phys = m->buf_phys;
	mi->data_off = m->data_off;
	mi->data_len = m->data_len;
	mi->pkt_len = m->data_len;
	mi->port = m->port;
	mi->ol_flags = m->ol_flags;
	mi->packet_type = m->packet_type;
	mi->nb_segs = 1;
	mi->flags |= XP_MBUF_F_INDIRECT;
	return 0;
}

static void restore_own_room(struct xp_mbuf *mi)
{
	mi->direct = NULL;
	mi->flags &= (uint16_t)~XP_MBUF_F_INDIRECT;
	mi->buf_addr = mi->room;
	mi->buf_phys = mi->room_phys;
	mi->buf_len = xp_pktmbuf_data_room_size(mi->pool);
	xp_pktmbuf_reset(mi);
}

int xp_pktmbuf_detach(struct xp_mbuf *mi)
{
	struct xp_mbuf *owner;

	if (mi == NULL || !xp_mbuf_is_indirect(mi) || mi->next != NULL)
		return -EINVAL;
	owner = mi->direct;
	restore_own_room(mi);
	xp_pktmbuf_free_seg(owner);
	return 0;
}

void xp__pktmbuf_free_indirect(struct xp_mbuf *m)
{
	struct xp_mbuf *owner = m->direct;

	restore_own_room(m);
	xp_mempool_put(m->pool, m);
	xp_pktmbuf_free_seg(owner);
}

struct xp_mbuf *xp_pktmbuf_clone(struct xp_mbuf *m, struct xp_mempool *mp)
{
	struct xp_mbuf *clone[256], **segs = clone;
	const struct xp_mbuf *s;
	unsigned int i, j, n = 0;
	int ret;

	if (m == NULL || mp == NULL) {
		errno = EINVAL;
		return NULL;
	}
	for (s = m; s != NULL; s = s->next)
		n++;
	if (n > 256) {
		segs = malloc(n * sizeof(*segs));
		if (segs == NULL) {
			errno = ENOMEM;
			return NULL;
		}
	}
	ret = xp_pktmbuf_alloc_bulk(mp, segs, n);
	for (i = 0, s = m; ret == 0 && i < n; i++, s = s->next) {
		ret = xp_pktmbuf_attach(segs[i], (struct xp_mbuf *)s);
		if (ret != 0) {
			/* A room's reference count is full: undo. */
			for (j = 0; j < n; j++)
				xp_pktmbuf_free_seg(segs[j]);
			break;
		}
		segs[i]->next = i + 1 < n ? segs[i + 1] : NULL;
	}
	if (ret == 0) {
		segs[0]->nb_segs = (uint16_t)n;
		segs[0]->pkt_len = m->pkt_len;
		m = segs[0];
	}
	if (segs != clone)
		free(segs);
	if (ret != 0) {
		errno = -ret;
		return NULL;
	}
	return m;
}

int xp_pktmbuf_check(const struct xp_mbuf *m)
{
	const struct xp_mbuf *s;
	uint64_t len = 0;
	unsigned int n = 0;

	if (m == NULL)
		return -EINVAL;
	for (s = m; s != NULL && n <= UINT16_MAX; s = s->next, n++) {
		len += s->data_len;
		if (xp_mbuf_refcnt_read(s) == 0 ||
		    (uint32_t)s->data_off + s->data_len > s->buf_len ||
		    (xp_mbuf_is_indirect(s) &&
		     (s->direct == NULL || xp_mbuf_is_indirect(s->direct)))) {
			xp_log(XP_LOG_ERR, "mbuf %p: segment %u (%p) is "
			       "inconsistent", (const void *)m, n,
			       (const void *)s);
			return -EBADMSG;
		}
	}
	if (n != m->nb_segs || len != m->pkt_len) {
		xp_log(XP_LOG_ERR,
		       "mbuf %p: %u segments and %llu bytes, but nb_segs %u "
		       "and pkt_len %u",
		       (const void *)m, n, (unsigned long long)len, m->nb_segs,
		       m->pkt_len);
		return -EBADMSG;
	}
	return 0;
}
