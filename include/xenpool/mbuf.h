/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Packet buffers (mbufs) over any pool handler.
 *
 * An mbuf is a header (struct xp_mbuf) bound to a data room of
 * data_room_size bytes, the first XP_PKTMBUF_HEADROOM of which are headroom
 * at reset.  Packets longer than one room are chains of mbufs (next,
 * nb_segs, pkt_len on the first).  A clone is an indirect mbuf: its header
 * points into another mbuf's room and holds a reference on it.
 *
 * Where the header lives depends on the handler.  On a handler whose memory
 * is private (the ring handlers), header, private area and room are one pool
 * object, as in DPDK.  On a handler whose memory another party can write
 * (XP_MEMPOOL_OPS_F_SHARED_MEM, such as xen_dom0), the headers are objects of
 * a pool in private memory and only the data rooms are in the handler's
 * memory: each header is bound to one room for the life of the pool, so a
 * peer that writes every byte of every room can change packet data but never
 * a header, a chain, a reference count or the pool.  Either way the pool the
 * user sees (and frees with xp_mempool_free) is the pool of headers.
 *
 * buf_phys is the bus address of buf_addr, from the room pool's virt2phy,
 * computed once when the pool is created (a room never crosses a contiguity
 * boundary of its pool, so buf_phys + offset is valid for the whole room).
 *
 * Reference counts are updated atomically; an mbuf with refcnt 1 is freed
 * without an atomic operation (nobody else can hold it).  Everything else in
 * an mbuf is owned by whoever holds it, as in DPDK.
 */
#ifndef XENPOOL_MBUF_H
#define XENPOOL_MBUF_H

#include <stdint.h>

#include <xenpool/common.h>
#include <xenpool/mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Headroom left before the data at reset (DPDK's RTE_PKTMBUF_HEADROOM). */
#define XP_PKTMBUF_HEADROOM 128

/** mbuf flag: indirect (the room belongs to another mbuf). */
#define XP_MBUF_F_INDIRECT 0x1u

/**
 * A packet buffer header.  Layout is ABI; the first cache line holds what
 * RX and TX touch.
 */
struct xp_mbuf {
	/* first cache line: RX/TX */
	void *buf_addr;          /**< start of the room in use */
	uint64_t buf_phys;       /**< bus address of buf_addr */
	uint16_t data_off;       /**< data start, from buf_addr */
	uint16_t refcnt;         /**< references (atomic updates) */
	uint16_t nb_segs;        /**< segments in the chain (first mbuf) */
	uint16_t port;           /**< input port */
	uint64_t ol_flags;       /**< offload flags, free for the user */
	uint32_t pkt_len;        /**< bytes in the whole chain (first mbuf) */
	uint16_t data_len;       /**< bytes of data in this segment */
	uint16_t buf_len;        /**< bytes of the room in use */
	struct xp_mbuf *next;    /**< next segment, or NULL */
	struct xp_mempool *pool; /**< pool of this header */
	uint32_t packet_type;    /**< free for the user */
	uint16_t priv_size;      /**< bytes of the private area */
	uint16_t flags;          /**< XP_MBUF_F_* */
	/* second cache line: control */
	XP_ALIGNED(XP_CACHE_LINE_SIZE)
	struct xp_mbuf *direct;  /**< indirect: the mbuf whose room we use */
	void *room;              /**< this mbuf's own room */
	uint64_t room_phys;      /**< its bus address */
	uint64_t udata64;        /**< free for the user */
	uint64_t reserved_[4];
	/* the private area (priv_size bytes) follows */
};

/** Pool-private data of a packet buffer pool (xp_mempool_get_priv). */
struct xp_pktmbuf_pool_private {
	uint16_t data_room_size; /**< bytes of each room */
	uint16_t mbuf_priv_size; /**< bytes of each mbuf's private area */
	uint32_t split;          /**< 1: headers private, rooms in room_pool */
	struct xp_mempool *room_pool; /**< split: the pool holding the rooms */
};

/**
 * Create a packet buffer pool on the process default handler.
 * Same as xp_pktmbuf_pool_create_ex() with a NULL handler and NULL args.
 */
XP_EXPORT struct xp_mempool *
xp_pktmbuf_pool_create(const char *name, unsigned int n,
		       unsigned int cache_size, uint16_t priv_size,
		       uint16_t data_room_size);

/**
 * Create a packet buffer pool of @p n mbufs.
 *
 * @param name           pool name (the headers' pool).
 * @param n              mbufs.
 * @param cache_size     per-thread cache of the headers' pool.
 * @param priv_size      bytes of private area after each header; a
 *                       multiple of 8.
 * @param data_room_size bytes of each room, headroom included; at least
 *                       XP_PKTMBUF_HEADROOM.
 * @param handler        handler of the rooms (NULL: the process default).
 * @param handler_args   its arguments, or NULL.
 * @return the pool, or NULL with errno: EINVAL (@p priv_size not a
 *         multiple of 8, @p data_room_size below the headroom, or what
 *         xp_mempool_create_ex says), ENAMETOOLONG, EEXIST, ENOENT (unknown
 *         handler), ENOMEM, ENOBUFS (a handler whose memory is shared gave
 *         fewer rooms than it holds), EPROTO (a handler that broke its
 *         contract, as for xp_mempool_create_ex), or the handler's error.
 *         Every argument is checked before any room is taken from a
 *         handler whose memory is shared.
 */
XP_EXPORT struct xp_mempool *
xp_pktmbuf_pool_create_ex(const char *name, unsigned int n,
			  unsigned int cache_size, uint16_t priv_size,
			  uint16_t data_room_size, const char *handler,
			  const char *handler_args);

/** Data room size of a packet buffer pool (0 if @p mp is NULL). */
XP_EXPORT uint16_t xp_pktmbuf_data_room_size(struct xp_mempool *mp);

/** Private area size of the mbufs of a pool (0 if @p mp is NULL). */
XP_EXPORT uint16_t xp_pktmbuf_priv_size(struct xp_mempool *mp);

/* ---- data pointers ---------------------------------------------------- */

/** Pointer to the data of @p m at byte offset @p o, as type @p t. */
#define xp_pktmbuf_mtod_offset(m, t, o)                                       \
	((t)(void *)((char *)(m)->buf_addr + (m)->data_off + (o)))

/** Pointer to the data of @p m, as type @p t. */
#define xp_pktmbuf_mtod(m, t) xp_pktmbuf_mtod_offset(m, t, 0)

/** Bus address of the data of @p m at offset @p o. */
XP_INLINE uint64_t xp_pktmbuf_mtophys_offset(const struct xp_mbuf *m,
					     uint32_t o)
{
	return m->buf_phys + m->data_off + o;
}

/** Bus address of the data of @p m. */
XP_INLINE uint64_t xp_pktmbuf_mtophys(const struct xp_mbuf *m)
{
	return xp_pktmbuf_mtophys_offset(m, 0);
}

/** Private area of @p m. */
XP_INLINE void *xp_mbuf_to_priv(struct xp_mbuf *m)
{
	return m + 1;
}

/** Bytes free before the data. */
XP_INLINE uint16_t xp_pktmbuf_headroom(const struct xp_mbuf *m)
{
	return m->data_off;
}

/** Bytes free after the data of segment @p m (not of its chain). */
XP_INLINE uint16_t xp_pktmbuf_tailroom(const struct xp_mbuf *m)
{
	return (uint16_t)(m->buf_len - m->data_off - m->data_len);
}

/** Last segment of the chain. */
XP_INLINE struct xp_mbuf *xp_pktmbuf_lastseg(struct xp_mbuf *m)
{
	while (m->next != NULL)
		m = m->next;
	return m;
}

/** Non-zero if @p m is indirect. */
XP_INLINE int xp_mbuf_is_indirect(const struct xp_mbuf *m)
{
	return (m->flags & XP_MBUF_F_INDIRECT) != 0;
}

/* ---- reference counts -------------------------------------------------- */

/** Current reference count. */
XP_INLINE uint16_t xp_mbuf_refcnt_read(const struct xp_mbuf *m)
{
	return __atomic_load_n(&m->refcnt, __ATOMIC_RELAXED);
}

/**
 * Add @p v (may be negative) to the reference count.
 * @return the new count.
 */
XP_INLINE uint16_t xp_mbuf_refcnt_update(struct xp_mbuf *m, int16_t v)
{
	/* Acq_rel: a release of our writes to the packet before another
	 * holder frees it, and an acquire of theirs when we free it. */
	return (uint16_t)__atomic_add_fetch(&m->refcnt, (uint16_t)v,
					    __ATOMIC_ACQ_REL);
}

/* ---- alloc and free ----------------------------------------------------- */

/** Reset the fields of @p m (single segment, empty, headroom restored). */
XP_INLINE void xp_pktmbuf_reset(struct xp_mbuf *m)
{
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = 0;
	m->data_len = 0;
	m->port = UINT16_MAX;
	m->ol_flags = 0;
	m->packet_type = 0;
	/* Every room holds the headroom: creation refuses smaller ones, and
	 * an indirect mbuf's buf_len is its direct mbuf's. */
	m->data_off = XP_PKTMBUF_HEADROOM;
}

/**
 * Take one mbuf, reset, refcnt 1.
 * @return the mbuf, or NULL when the pool is empty (errno untouched).
 */
XP_INLINE struct xp_mbuf *xp_pktmbuf_alloc(struct xp_mempool *mp)
{
	void *obj;
	struct xp_mbuf *m;

	if (xp_mempool_get(mp, &obj) != 0)
		return NULL;
	m = (struct xp_mbuf *)obj;
	m->refcnt = 1;
	xp_pktmbuf_reset(m);
	return m;
}

/**
 * Take @p n mbufs, all or nothing, each reset with refcnt 1.
 * @return 0 or -ENOENT (nothing taken).
 */
XP_INLINE int xp_pktmbuf_alloc_bulk(struct xp_mempool *mp,
				    struct xp_mbuf **mbufs, unsigned int n)
{
	unsigned int i;
	int ret = xp_mempool_get_bulk(mp, (void **)mbufs, n);

	if (ret != 0)
		return ret;
	for (i = 0; i < n; i++) {
		mbufs[i]->refcnt = 1;
		xp_pktmbuf_reset(mbufs[i]);
	}
	return 0;
}

/* Out of line: detach an indirect segment whose last reference went. */
XP_EXPORT void xp__pktmbuf_free_indirect(struct xp_mbuf *m);

/**
 * Drop one reference on segment @p m (not its chain).  When it was the
 * last, the segment goes back to its pool (an indirect one first lets go of
 * the mbuf it points into).
 */
XP_INLINE void xp_pktmbuf_free_seg(struct xp_mbuf *m)
{
	/* Acquire pairs with the release of the other holders' decrements:
	 * their use of the packet happens before we hand it out again. */
	if (XP_LIKELY(__atomic_load_n(&m->refcnt, __ATOMIC_ACQUIRE) == 1) ||
	    xp_mbuf_refcnt_update(m, -1) == 0) {
		if (XP_UNLIKELY(m->flags & XP_MBUF_F_INDIRECT)) {
			xp__pktmbuf_free_indirect(m);
			return;
		}
		/* next, nb_segs and refcnt are set again by the alloc. */
		xp_mempool_put(m->pool, m);
	}
}

/** Free a whole chain (each segment as xp_pktmbuf_free_seg).  NULL: no-op. */
XP_INLINE void xp_pktmbuf_free(struct xp_mbuf *m)
{
	struct xp_mbuf *next;

	for (; m != NULL; m = next) {
		next = m->next;
		xp_pktmbuf_free_seg(m);
	}
}

/* A single direct segment whose last reference the caller holds: it goes
 * back to its pool as it is. */
XP_INLINE int xp__pktmbuf_simple(const struct xp_mbuf *m)
{
	/* Acquire as in xp_pktmbuf_free_seg(). */
	return m != NULL && m->next == NULL &&
	       __atomic_load_n(&m->refcnt, __ATOMIC_ACQUIRE) == 1 &&
	       !(m->flags & XP_MBUF_F_INDIRECT);
}

/**
 * Free @p n chains (each as xp_pktmbuf_free()); NULL entries are skipped.
 * Runs of single-segment mbufs of one pool whose last reference goes go back
 * in one bulk put, straight from @p mbufs (which is left as it was); any
 * other entry is freed on its own, in order.
 */
XP_INLINE void xp_pktmbuf_free_bulk(struct xp_mbuf **mbufs, unsigned int n)
{
	struct xp_mempool *mp = NULL;
	unsigned int i, start = 0;

	for (i = 0; i < n; i++) {
		struct xp_mbuf *m = mbufs[i];
		int simple = xp__pktmbuf_simple(m);

		if (XP_LIKELY(simple && m->pool == mp))
			continue;
		/* The run so far ends here. */
		if (i > start)
			xp_mempool_put_bulk(mp, (void *const *)&mbufs[start],
					    i - start);
		if (simple) {
			mp = m->pool;
			start = i;
		} else {
			xp_pktmbuf_free(m);
			start = i + 1;
		}
	}
	if (n > start)
		xp_mempool_put_bulk(mp, (void *const *)&mbufs[start], n - start);
}

/* ---- data manipulation (out of line) ------------------------------------ */

/**
 * Grow the data of the first segment at the front by @p len bytes.
 * @return the new data start, or NULL (not enough headroom; unchanged).
 */
XP_EXPORT char *xp_pktmbuf_prepend(struct xp_mbuf *m, uint16_t len);

/**
 * Grow the data at the end of the last segment by @p len bytes.
 * @return the start of the added bytes, or NULL (not enough tailroom in the
 *         last segment; unchanged).
 */
XP_EXPORT char *xp_pktmbuf_append(struct xp_mbuf *m, uint16_t len);

/**
 * Remove @p len bytes from the front of the first segment.
 * @return the new data start, or NULL (@p len above its data_len;
 *         unchanged).
 */
XP_EXPORT char *xp_pktmbuf_adj(struct xp_mbuf *m, uint16_t len);

/**
 * Remove @p len bytes from the end of the last segment.
 * @return 0, or -EINVAL (@p len above its data_len; unchanged).
 */
XP_EXPORT int xp_pktmbuf_trim(struct xp_mbuf *m, uint16_t len);

/**
 * Append chain @p tail to chain @p head.
 * @return 0, or -EINVAL (NULL argument, @p head == @p tail) or -EOVERFLOW
 *         (the chain would have more than UINT16_MAX segments or
 *         UINT32_MAX bytes; unchanged).
 */
XP_EXPORT int xp_pktmbuf_chain(struct xp_mbuf *head, struct xp_mbuf *tail);

/**
 * Make @p mi (fresh from a pool, refcnt 1, not indirect, not chained) point
 * at @p m's data: an indirect mbuf.  It takes a reference on the mbuf that
 * owns the room (m itself, or the one m points into), and takes its
 * buf_addr, buf_phys, buf_len, data_off, data_len, port, ol_flags and
 * packet_type; its pkt_len becomes m's data_len (one segment).
 *
 * @return 0, -EINVAL (NULL, @p mi == @p m, @p mi indirect or chained, @p m
 *         pointing into @p mi's room) or -EOVERFLOW (the room's reference
 *         count full); nothing changed.
 */
XP_EXPORT int xp_pktmbuf_attach(struct xp_mbuf *mi, struct xp_mbuf *m);

/**
 * Make indirect @p mi direct again (its own room, reset), dropping the
 * reference it held; the last reference returns that room's mbuf to its
 * pool.  @p mi must be a single segment (unchain it first): the rest of a
 * chain would otherwise be lost.
 *
 * @return 0, or -EINVAL (NULL, not indirect, or chained: nothing changed).
 */
XP_EXPORT int xp_pktmbuf_detach(struct xp_mbuf *mi);

/**
 * Clone a chain: a new chain of indirect mbufs from @p mp pointing at
 * @p m's segments.
 *
 * @return the clone, or NULL with errno EINVAL (NULL argument), ENOENT
 *         (@p mp has too few free mbufs), ENOMEM, or EOVERFLOW (a segment's room has
 *         UINT16_MAX references already); nothing is taken or changed.
 */
XP_EXPORT struct xp_mbuf *xp_pktmbuf_clone(struct xp_mbuf *m,
					   struct xp_mempool *mp);

/**
 * Check an mbuf chain: lengths add up, segments counted, reference counts
 * non-zero, indirect segments point at direct mbufs.
 *
 * @return 0, or -EINVAL (NULL) or -EBADMSG (inconsistent; details logged).
 */
XP_EXPORT int xp_pktmbuf_check(const struct xp_mbuf *m);

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_MBUF_H */
