/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring set-up; the enqueue and dequeue paths are inline in ring.h. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

uint32_t xp_ring_storage_slots(unsigned int count)
{
	uint32_t size = 1;

	if (count == 0 || count > XP_RING_MAX_COUNT)
		return 0;
	while (size < count)
		size <<= 1;
	return size;
}

int xp_ring_init(struct xp_ring *r, void **storage, unsigned int count,
		 unsigned int flags)
{
	uint32_t size = xp_ring_storage_slots(count);

	if (r == NULL || storage == NULL || size == 0 ||
	    (flags & ~XP_RING_F_MASK) != 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->slots = storage;
	r->size = size;
	r->mask = size - 1;
	r->capacity = count;
	r->flags = flags;
	return 0;
}

struct xp_ring *xp_ring_create(unsigned int count, unsigned int flags)
{
	uint32_t size = xp_ring_storage_slots(count);
	struct xp_ring *r;
	size_t bytes;

	if (size == 0 || (flags & ~XP_RING_F_MASK) != 0) {
		errno = EINVAL;
		return NULL;
	}
	/* size <= 2^31 slots of 8 bytes: no overflow with a 64-bit size_t,
	 * which the build requires (see configure.ac). */
	bytes = sizeof(*r) + (size_t)size * sizeof(void *);
	r = xp__alloc_lines(bytes);
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	(void)xp_ring_init(r, (void **)(r + 1), count, flags);
	return r;
}

void xp_ring_free(struct xp_ring *r)
{
	free(r);
}

unsigned int xp__ring_reserve_retry(struct xp_ring *r, int cons,
				    unsigned int n, int fixed, uint32_t *head,
				    uint32_t *avail)
{
	struct xp_ring_headtail *self = cons ? &r->cons : &r->prod;
	const struct xp_ring_headtail *other = cons ? &r->prod : &r->cons;
	uint32_t base = cons ? 0 : r->capacity;
	unsigned int want;

	/* The orders and their pairings are those of xp__ring_reserve(). */
	for (;;) {
		*avail = base +
			 __atomic_load_n(&other->tail, __ATOMIC_ACQUIRE) -
			 *head;
		want = xp__ring_want(n, *avail, fixed);
		if (want == 0)
			return 0;
		if (__atomic_compare_exchange_n(&self->head, head,
						*head + want, 1,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return want;
	}
}

void xp__ring_wait_tail_slow(const struct xp_ring_headtail *ht, uint32_t old)
{
	unsigned int spins = 0;

	/* Acquire: the pairing described in xp__ring_wait_tail(). */
	while (__atomic_load_n(&ht->tail, __ATOMIC_ACQUIRE) != old) {
		xp__ring_pause();
		if (++spins % 256u == 0)
			sched_yield();
	}
}
