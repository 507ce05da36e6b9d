/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring set-up; the enqueue and dequeue paths are inline in ring.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/ring.h>

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
	r = aligned_alloc(XP_CACHE_LINE_SIZE,
			  (bytes + XP_CACHE_LINE_SIZE - 1) &
				  ~(size_t)(XP_CACHE_LINE_SIZE - 1));
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
