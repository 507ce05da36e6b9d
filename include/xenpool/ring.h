/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * xp_ring: a bounded FIFO of pointers for many or single producers and many or
 * single consumers, with free-running 32-bit indices.
 *
 * The model is DPDK's rte_ring.  A producer reserves slots by moving the
 * producer head (a compare-and-swap when there may be several producers, a
 * plain store when there is one), copies its pointers in, waits until every
 * earlier producer has published, then publishes by moving the producer tail
 * with a release store.  Consumers do the same on the consumer side.  Nothing
 * is locked, but a thread preempted between reserving and publishing delays
 * the threads of its own side that reserved after it (not the other side):
 * like rte_ring, the ring is non-blocking only while threads run.  A waiting
 * thread spins with a pause hint and yields the CPU after a while, so that a
 * preempted peer on an oversubscribed machine gets to run.
 *
 * The concurrency contract is in the function name: `mp`/`sp` (multi/single
 * producer), `mc`/`sc` (multi/single consumer).  The unprefixed functions use
 * the variant chosen by the flags at init.
 *
 * Indices run freely over the whole 32-bit range and are masked into the
 * storage (a power of two number of slots).  Differences of two indices are
 * taken modulo 2^32, so wrap-around needs no special case as long as the
 * capacity stays below 2^31 (XP_RING_MAX_COUNT).
 *
 * The ring structure and its storage are separate: xp_ring_create() allocates
 * both in one block, while xp_ring_init() takes storage the caller placed
 * wherever it wants (the storage holds pointers, so it must be private memory).
 */
#ifndef XENPOOL_RING_H
#define XENPOOL_RING_H

#include <errno.h>
#include <stdint.h>

#include <xenpool/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Producers are single (enqueue uses the sp variant). */
#define XP_RING_F_SP_ENQ 0x1u
/** Consumers are single (dequeue uses the sc variant). */
#define XP_RING_F_SC_DEQ 0x2u
/** All valid ring flags. */
#define XP_RING_F_MASK (XP_RING_F_SP_ENQ | XP_RING_F_SC_DEQ)

/** Largest capacity of a ring. */
#define XP_RING_MAX_COUNT 0x7fffffffu

/** One side of the ring: the head is reserved, the tail is published. */
struct xp_ring_headtail {
	uint32_t head;
	uint32_t tail;
};

/**
 * A ring.  The layout is ABI (the enqueue and dequeue functions are inline):
 * read-mostly fields first, then the producer and the consumer state each on
 * its own cache line so that the two sides do not share a line.
 */
struct xp_ring {
	void **slots;      /**< storage: size pointers */
	uint32_t size;     /**< storage slots, a power of two */
	uint32_t mask;     /**< size - 1 */
	uint32_t capacity; /**< usable slots (at most size) */
	uint32_t flags;    /**< XP_RING_F_* */
	XP_ALIGNED(XP_CACHE_LINE_SIZE) struct xp_ring_headtail prod;
	XP_ALIGNED(XP_CACHE_LINE_SIZE) struct xp_ring_headtail cons;
	XP_ALIGNED(XP_CACHE_LINE_SIZE) char pad_[XP_CACHE_LINE_SIZE];
};

/**
 * Storage slots a ring of @p count entries needs (the next power of two).
 *
 * @return the number of slots, or 0 if @p count is 0 or above
 *         XP_RING_MAX_COUNT.
 */
XP_EXPORT uint32_t xp_ring_storage_slots(unsigned int count);

/**
 * Initialise a ring over caller-provided storage.
 *
 * @param r       the ring structure.
 * @param storage xp_ring_storage_slots(@p count) pointers, suitably aligned
 *                for pointers; private memory.
 * @param count   capacity: exactly this many entries fit.
 * @param flags   XP_RING_F_*.
 * @return 0, or -EINVAL (@p r or @p storage NULL, @p count 0 or above
 *         XP_RING_MAX_COUNT, unknown flag).
 */
XP_EXPORT int xp_ring_init(struct xp_ring *r, void **storage,
			   unsigned int count, unsigned int flags);

/**
 * Allocate and initialise a ring and its storage in one block.
 *
 * @param count capacity: exactly this many entries fit (any value, not only
 *              a power of two minus one).
 * @param flags XP_RING_F_*.
 * @return the ring, or NULL with errno EINVAL (bad @p count or flags) or
 *         ENOMEM.
 */
XP_EXPORT struct xp_ring *xp_ring_create(unsigned int count,
					 unsigned int flags);

/** Free a ring made by xp_ring_create(); NULL is a no-op. */
XP_EXPORT void xp_ring_free(struct xp_ring *r);

/* ---- inline implementation ------------------------------------------ */

XP_INLINE void xp__ring_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Out-of-line half of xp__ring_wait_tail(): the spin; not for direct use. */
XP_EXPORT void xp__ring_wait_tail_slow(const struct xp_ring_headtail *ht,
				       uint32_t old);

/*
 * Wait until every earlier reservation on @p ht is published.  Inline only
 * the first look, which finds it so unless another thread of our side is
 * between its reservation and its publication: the spin is out of line, so
 * that the inline code needs no loop and no registers for it.
 */
XP_INLINE void xp__ring_wait_tail(const struct xp_ring_headtail *ht,
				  uint32_t old)
{
	/* Acquire pairs with the release store of the tail by the thread of
	 * our side that reserved just before us (xp__ring_publish): its slot
	 * accesses then happen before our own release of the tail, so the
	 * other side, acquiring our tail, is ordered after both of us.  With
	 * a relaxed load that chain breaks (a store is not part of another
	 * thread's release sequence).  The slow half loads the same way. */
	if (XP_UNLIKELY(__atomic_load_n(&ht->tail, __ATOMIC_ACQUIRE) != old))
		xp__ring_wait_tail_slow(ht, old);
}

/*
 * Out-of-line half of xp__ring_reserve(), multi-thread side, after the
 * inline compare-and-swap lost a race: retry on the consumer side of @p r
 * (@p cons) or its producer side, from @p *head (the head the failed attempt
 * found).  @return what to reserve; *@p head and *@p avail as
 * xp__ring_reserve() leaves them.  Not for direct use.
 */
XP_EXPORT unsigned int xp__ring_reserve_retry(struct xp_ring *r, int cons,
					      unsigned int n, int fixed,
					      uint32_t *head, uint32_t *avail);

/*
 * How many of @p n slots to take given @p avail: all or nothing when
 * @p fixed, else as many as there are.
 */
XP_INLINE unsigned int xp__ring_want(unsigned int n, uint32_t avail,
				     int fixed)
{
	if (n <= avail)
		return n;
	return fixed ? 0 : avail;
}

/*
 * Reserve up to @p n slots on side @p self, given the other side's tail.
 * @p base plus the other side's tail minus our head (modulo 2^32) is how
 * many entries we may take: for producers base is the capacity, for
 * consumers 0.  @p fixed: all or nothing.  One attempt inline; the retries
 * after a lost race are out of line, and take the ring rather than the
 * addresses of its fields, so that the inline code has no loop and keeps no
 * field address in a register.
 */
XP_INLINE unsigned int xp__ring_reserve(struct xp_ring *r,
					struct xp_ring_headtail *self,
					const struct xp_ring_headtail *other,
					uint32_t base, int single, unsigned int n,
					int fixed, uint32_t *old_head,
					unsigned int *left)
{
	/* Acquire pairs with the release of a successful head move by
	 * another thread of our side (below): the other side's tail it had
	 * seen is then the oldest we can see, so avail cannot be computed
	 * from a tail older than the one that justified its head.  Without
	 * it a weakly ordered CPU may pair a new head with an old tail and
	 * "find" room that does not exist. */
	uint32_t head = __atomic_load_n(&self->head, __ATOMIC_ACQUIRE);
	/* Acquire pairs with the other side's release store of its tail in
	 * xp__ring_publish(): the slots it released (read by consumers, or
	 * written by producers) are then visible. */
	uint32_t avail =
		base + __atomic_load_n(&other->tail, __ATOMIC_ACQUIRE) - head;
	unsigned int want = xp__ring_want(n, avail, fixed);

	if (want != 0) {
		if (single) {
			self->head = head + want;
		} else if (XP_UNLIKELY(!__atomic_compare_exchange_n(
				   &self->head, &head, head + want, 0,
				   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))) {
			/* Release on success, acquire on failure (which
			 * reloads head): the pairing described at the head
			 * load above.  The slot contents themselves are
			 * ordered by the tails. */
			uint32_t h = head, a;

			/* Copies: taking the address of head or avail
			 * would keep them in memory on the fast path. */
			want = xp__ring_reserve_retry(r, self == &r->cons, n,
						      fixed, &h, &a);
			head = h;
			avail = a;
		}
	}
	*old_head = head;
	if (left != NULL)
		*left = avail - want;
	return want;
}

XP_INLINE void xp__ring_publish(struct xp_ring_headtail *self, int single,
				uint32_t old_head, unsigned int n)
{
	if (!single)
		xp__ring_wait_tail(self, old_head);
	/* Release pairs with the other side's acquire load of this tail in
	 * xp__ring_reserve(): our copies into or out of the slots happen
	 * before it sees them published. */
	__atomic_store_n(&self->tail, old_head + n, __ATOMIC_RELEASE);
}

XP_INLINE unsigned int xp__ring_enqueue(struct xp_ring *r, void *const *objs,
					unsigned int n, int single, int fixed,
					unsigned int *free_space)
{
	uint32_t head, idx;
	unsigned int i, got;
	void **slots = r->slots;

	got = xp__ring_reserve(r, &r->prod, &r->cons, r->capacity, single, n,
			       fixed, &head, free_space);
	if (got == 0)
		return 0;
	if (fixed)
		got = n; /* what reserve gave: a constant n stays one */
	idx = head & r->mask;
	if (XP_LIKELY(idx + got <= r->size)) {
		xp__objs_copy(&slots[idx], objs, got);
	} else {
		/* Once a lap: a plain loop keeps the inline code small. */
		for (i = 0; i < got; i++)
			slots[(head + i) & r->mask] = objs[i];
	}
	xp__ring_publish(&r->prod, single, head, got);
	return got;
}

XP_INLINE unsigned int xp__ring_dequeue(struct xp_ring *r, void **objs,
					unsigned int n, int single, int fixed,
					unsigned int *available)
{
	uint32_t head, idx;
	unsigned int i, got;
	void *const *slots = r->slots;

	got = xp__ring_reserve(r, &r->cons, &r->prod, 0, single, n, fixed,
			       &head, available);
	if (got == 0)
		return 0;
	if (fixed)
		got = n; /* what reserve gave: a constant n stays one */
	idx = head & r->mask;
	if (XP_LIKELY(idx + got <= r->size)) {
		xp__objs_copy(objs, &slots[idx], got);
	} else {
		/* Once a lap: a plain loop keeps the inline code small. */
		for (i = 0; i < got; i++)
			objs[i] = slots[(head + i) & r->mask];
	}
	xp__ring_publish(&r->cons, single, head, got);
	return got;
}

/* ---- public fast path -------------------------------------------------
 * Bulk: all @p n or nothing; returns n or 0.  Burst: as many as possible up to
 * @p n; returns how many.  @p free_space / @p available, when not NULL,
 * receive what is left after the call.  None of them touch errno.
 */

/** Enqueue @p n pointers, all or nothing, several producers allowed. */
XP_INLINE unsigned int xp_ring_mp_enqueue_bulk(struct xp_ring *r,
					       void *const *objs,
					       unsigned int n,
					       unsigned int *free_space)
{
	return xp__ring_enqueue(r, objs, n, 0, 1, free_space);
}

/** Enqueue @p n pointers, all or nothing, one producer only. */
XP_INLINE unsigned int xp_ring_sp_enqueue_bulk(struct xp_ring *r,
					       void *const *objs,
					       unsigned int n,
					       unsigned int *free_space)
{
	return xp__ring_enqueue(r, objs, n, 1, 1, free_space);
}

/** Enqueue @p n pointers, all or nothing, variant chosen by the flags. */
XP_INLINE unsigned int xp_ring_enqueue_bulk(struct xp_ring *r,
					    void *const *objs, unsigned int n,
					    unsigned int *free_space)
{
	return xp__ring_enqueue(r, objs, n, r->flags & XP_RING_F_SP_ENQ, 1,
				free_space);
}

/** Enqueue up to @p n pointers, several producers allowed. */
XP_INLINE unsigned int xp_ring_mp_enqueue_burst(struct xp_ring *r,
						void *const *objs,
						unsigned int n,
						unsigned int *free_space)
{
	return xp__ring_enqueue(r, objs, n, 0, 0, free_space);
}

/** Enqueue up to @p n pointers, one producer only. */
XP_INLINE unsigned int xp_ring_sp_enqueue_burst(struct xp_ring *r,
						void *const *objs,
						unsigned int n,
						unsigned int *free_space)
{
	return xp__ring_enqueue(r, objs, n, 1, 0, free_space);
}

/** Enqueue up to @p n pointers, variant chosen by the flags. */
XP_INLINE unsigned int xp_ring_enqueue_burst(struct xp_ring *r,
					     void *const *objs, unsigned int n,
					     unsigned int *free_space)
{
	return xp__ring_enqueue(r, objs, n, r->flags & XP_RING_F_SP_ENQ, 0,
				free_space);
}

/**
 * Enqueue one pointer, as DPDK's rte_ring_enqueue().
 *
 * @return 0, or -ENOBUFS (full).
 */
XP_INLINE int xp_ring_enqueue(struct xp_ring *r, void *obj)
{
	return xp_ring_enqueue_bulk(r, &obj, 1, NULL) == 1 ? 0 : -ENOBUFS;
}

/** Dequeue @p n pointers, all or nothing, several consumers allowed. */
XP_INLINE unsigned int xp_ring_mc_dequeue_bulk(struct xp_ring *r, void **objs,
					       unsigned int n,
					       unsigned int *available)
{
	return xp__ring_dequeue(r, objs, n, 0, 1, available);
}

/** Dequeue @p n pointers, all or nothing, one consumer only. */
XP_INLINE unsigned int xp_ring_sc_dequeue_bulk(struct xp_ring *r, void **objs,
					       unsigned int n,
					       unsigned int *available)
{
	return xp__ring_dequeue(r, objs, n, 1, 1, available);
}

/** Dequeue @p n pointers, all or nothing, variant chosen by the flags. */
XP_INLINE unsigned int xp_ring_dequeue_bulk(struct xp_ring *r, void **objs,
					    unsigned int n,
					    unsigned int *available)
{
	return xp__ring_dequeue(r, objs, n, (r->flags & XP_RING_F_SC_DEQ) != 0,
				1, available);
}

/** Dequeue up to @p n pointers, several consumers allowed. */
XP_INLINE unsigned int xp_ring_mc_dequeue_burst(struct xp_ring *r,
						void **objs, unsigned int n,
						unsigned int *available)
{
	return xp__ring_dequeue(r, objs, n, 0, 0, available);
}

/** Dequeue up to @p n pointers, one consumer only. */
XP_INLINE unsigned int xp_ring_sc_dequeue_burst(struct xp_ring *r,
						void **objs, unsigned int n,
						unsigned int *available)
{
	return xp__ring_dequeue(r, objs, n, 1, 0, available);
}

/** Dequeue up to @p n pointers, variant chosen by the flags. */
XP_INLINE unsigned int xp_ring_dequeue_burst(struct xp_ring *r, void **objs,
					     unsigned int n,
					     unsigned int *available)
{
	return xp__ring_dequeue(r, objs, n, (r->flags & XP_RING_F_SC_DEQ) != 0,
				0, available);
}

/**
 * Dequeue one pointer into *@p obj, as DPDK's rte_ring_dequeue().
 *
 * @return 0, or -ENOENT (empty).
 */
XP_INLINE int xp_ring_dequeue(struct xp_ring *r, void **obj)
{
	return xp_ring_dequeue_bulk(r, obj, 1, NULL) == 1 ? 0 : -ENOENT;
}

/**
 * Entries in the ring.  Exact when no thread is enqueuing or dequeuing;
 * otherwise a value that was true at some moment during the call.
 */
XP_INLINE unsigned int xp_ring_count(const struct xp_ring *r)
{
	uint32_t cons = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE);
	uint32_t count = prod - cons;

	/* The two loads are not one snapshot: clamp a torn reading. */
	return count > r->capacity ? r->capacity : count;
}

/** Free entries (capacity minus count). */
XP_INLINE unsigned int xp_ring_free_count(const struct xp_ring *r)
{
	return r->capacity - xp_ring_count(r);
}

/** Capacity given at init. */
XP_INLINE unsigned int xp_ring_get_capacity(const struct xp_ring *r)
{
	return r->capacity;
}

/** Non-zero when the ring holds nothing. */
XP_INLINE int xp_ring_empty(const struct xp_ring *r)
{
	return xp_ring_count(r) == 0;
}

/** Non-zero when the ring holds capacity entries. */
XP_INLINE int xp_ring_full(const struct xp_ring *r)
{
	return xp_ring_count(r) == r->capacity;
}

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_RING_H */
