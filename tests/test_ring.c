/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of xp_ring on one thread (plus a helper thread where a test
 * plays a preempted peer): set-up and its errors, exact capacity, bulk and
 * burst semantics of every variant, FIFO order against a model, wrap-around
 * of the 32-bit indices, and which variant the flags select.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <xenpool/ring.h>

#include "testutil.h"

#define SP XP_RING_F_SP_ENQ
#define SC XP_RING_F_SC_DEQ

/* Indices a few slots before 2^32, so that a test crosses the wrap. */
#define NEAR_WRAP 0xffffff00u

typedef unsigned int (*enq_fn)(struct xp_ring *, void *const *, unsigned int,
			       unsigned int *);
typedef unsigned int (*deq_fn)(struct xp_ring *, void **, unsigned int,
			       unsigned int *);

/*
 * The single-object calls, shaped like the others so tables can hold them
 * (called with n == 1 only).
 */
static unsigned int enq_one(struct xp_ring *r, void *const *objs,
			    unsigned int n, unsigned int *free_space)
{
	(void)n;
	(void)free_space;
	/* DPDK's convention: 0 or -ENOBUFS, as a count here. */
	return xp_ring_enqueue(r, objs[0]) == 0 ? 1 : 0;
}

static unsigned int deq_one(struct xp_ring *r, void **objs, unsigned int n,
			    unsigned int *available)
{
	(void)n;
	(void)available;
	/* DPDK's convention: 0 or -ENOENT, as a count here. */
	return xp_ring_dequeue(r, objs) == 0 ? 1 : 0;
}

/* A way of calling the ring: explicit mp/sp/mc/sc or chosen by flags. */
struct variant {
	const char *name;
	unsigned int flags;
	int generic; /* the unprefixed functions: single calls allowed too */
	enq_fn enq_bulk, enq_burst;
	deq_fn deq_bulk, deq_burst;
};

static const struct variant variants[] = {
	{ "mp_mc", 0, 0, xp_ring_mp_enqueue_bulk,
	  xp_ring_mp_enqueue_burst, xp_ring_mc_dequeue_bulk,
	  xp_ring_mc_dequeue_burst },
	{ "sp_sc", SP | SC, 0, xp_ring_sp_enqueue_bulk,
	  xp_ring_sp_enqueue_burst, xp_ring_sc_dequeue_bulk,
	  xp_ring_sc_dequeue_burst },
	{ "mp_sc", SC, 0, xp_ring_mp_enqueue_bulk, xp_ring_mp_enqueue_burst,
	  xp_ring_sc_dequeue_bulk, xp_ring_sc_dequeue_burst },
	{ "sp_mc", SP, 0, xp_ring_sp_enqueue_bulk, xp_ring_sp_enqueue_burst,
	  xp_ring_mc_dequeue_bulk, xp_ring_mc_dequeue_burst },
	{ "flags_0", 0, 1, xp_ring_enqueue_bulk,
	  xp_ring_enqueue_burst, xp_ring_dequeue_bulk, xp_ring_dequeue_burst },
	{ "flags_sp", SP, 1, xp_ring_enqueue_bulk, xp_ring_enqueue_burst,
	  xp_ring_dequeue_bulk, xp_ring_dequeue_burst },
	{ "flags_sc", SC, 1, xp_ring_enqueue_bulk, xp_ring_enqueue_burst,
	  xp_ring_dequeue_bulk, xp_ring_dequeue_burst },
	{ "flags_sp_sc", SP | SC, 1, xp_ring_enqueue_bulk,
	  xp_ring_enqueue_burst, xp_ring_dequeue_bulk, xp_ring_dequeue_burst },
};

#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* Token k as a pointer; never NULL so that a zeroed slot is not a token. */
static void *tok(uintptr_t k)
{
	return (void *)(k + 1);
}

static void set_indices(struct xp_ring *r, uint32_t idx)
{
	r->prod.head = idx;
	r->prod.tail = idx;
	r->cons.head = idx;
	r->cons.tail = idx;
}

static void **alloc_storage(unsigned int count)
{
	uint32_t slots = xp_ring_storage_slots(count), i;
	void **s;

	assert_true(slots > 0);
	/* Exactly the documented size: ASan catches any slot beyond it. */
	s = malloc(slots * sizeof(*s));
	assert_non_null(s);
	/* Defined bytes, so that snapshots of the storage compare cleanly. */
	for (i = 0; i < slots; i++)
		s[i] = (void *)(uintptr_t)0xbad0;
	return s;
}

/*
 * Set up @r for @count entries over new storage (returned, for the caller
 * to free), with all four indices at @idx.
 */
static void **init_at(struct xp_ring *r, unsigned int count,
		      unsigned int flags, uint32_t idx)
{
	void **storage = alloc_storage(count);

	assert_int_equal(xp_ring_init(r, storage, count, flags), 0);
	set_indices(r, idx);
	return storage;
}

/* Count, free count, empty and full all agree with @n entries. */
static void check_counts(const struct xp_ring *r, unsigned int cap,
			 unsigned int n)
{
	assert_int_equal(xp_ring_get_capacity(r), cap);
	assert_int_equal(xp_ring_count(r), n);
	assert_int_equal(xp_ring_free_count(r), cap - n);
	assert_int_equal(!!xp_ring_empty(r), n == 0);
	assert_int_equal(!!xp_ring_full(r), n == cap);
}

/* ---- xp_ring_storage_slots ------------------------------------------ */

static void test_storage_slots_limits(void **state)
{
	(void)state;
	assert_int_equal(xp_ring_storage_slots(0), 0);
	assert_int_equal(xp_ring_storage_slots(1), 1);
	assert_int_equal(xp_ring_storage_slots(2), 2);
	assert_int_equal(xp_ring_storage_slots(3), 4);
	assert_int_equal(xp_ring_storage_slots(5), 8);
	assert_int_equal(xp_ring_storage_slots(1000), 1024);
	assert_int_equal(xp_ring_storage_slots(1024), 1024);
	assert_int_equal(xp_ring_storage_slots(1025), 2048);
	assert_int_equal(xp_ring_storage_slots(0x40000001u), 0x80000000u);
	assert_int_equal(xp_ring_storage_slots(XP_RING_MAX_COUNT),
			 0x80000000u);
	assert_int_equal(xp_ring_storage_slots(XP_RING_MAX_COUNT + 1u), 0);
	assert_int_equal(xp_ring_storage_slots(UINT_MAX), 0);
}

/* For every small count: the smallest power of two that holds it. */
static void test_storage_slots_next_pow2(void **state)
{
	unsigned int count;
	uint32_t s;

	(void)state;
	for (count = 1; count <= 5000; count++) {
		s = xp_ring_storage_slots(count);
		assert_true(s >= count);
		assert_int_equal(s & (s - 1), 0);
		assert_true(s / 2 < count);
	}
}

/* ---- xp_ring_init ---------------------------------------------------- */

static void test_init_fields(void **state)
{
	static const unsigned int flag_sets[] = { 0, SP, SC, SP | SC };
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		void **storage = alloc_storage(5);
		struct xp_ring r;

		memset(&r, 0xa5, sizeof(r));
		assert_int_equal(xp_ring_init(&r, storage, 5, flag_sets[i]),
				 0);
		assert_ptr_equal(r.slots, storage);
		assert_int_equal(r.size, 8);
		assert_int_equal(r.mask, 7);
		assert_int_equal(r.capacity, 5);
		assert_int_equal(r.flags, flag_sets[i]);
		assert_int_equal(r.prod.head, r.prod.tail);
		assert_int_equal(r.cons.head, r.cons.tail);
		assert_int_equal(r.prod.tail, r.cons.tail);
		check_counts(&r, 5, 0);
		free(storage);
	}
}

/*
 * The largest count is accepted.  Its storage (2^31 pointers, 16 GiB on
 * 64-bit) is reserved address space, never touched since nothing here
 * enqueues.
 */
static void test_init_max_count(void **state)
{
	size_t bytes = (size_t)xp_ring_storage_slots(XP_RING_MAX_COUNT) *
		       sizeof(void *);
	struct xp_ring r;
	void *storage;

	(void)state;
	storage = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (storage == MAP_FAILED)
		skip();
	assert_int_equal(xp_ring_init(&r, storage, XP_RING_MAX_COUNT, 0), 0);
	assert_int_equal(r.size, 0x80000000u);
	assert_int_equal(r.mask, 0x7fffffffu);
	check_counts(&r, XP_RING_MAX_COUNT, 0);
	assert_int_equal(munmap(storage, bytes), 0);
}

/*
 * A failed init leaves a ring in use untouched: same bytes, and its
 * entries still come out in order.
 */
static void check_init_fails(struct xp_ring *r, void **storage,
			     unsigned int count, unsigned int flags)
{
	struct xp_ring before;
	void *obj = NULL;

	memcpy(&before, r, sizeof(before));
	assert_int_equal(xp_ring_init(r, storage, count, flags), -EINVAL);
	assert_memory_equal(&before, r, sizeof(before));
	check_counts(r, 4, 2);
	assert_int_equal(xp_ring_dequeue(r, &obj), 0);
	assert_ptr_equal(obj, tok(0));
	assert_int_equal(xp_ring_enqueue(r, obj), 0);
	assert_int_equal(xp_ring_dequeue(r, &obj), 0);
	assert_ptr_equal(obj, tok(1));
	assert_int_equal(xp_ring_enqueue(r, obj), 0);
}

static void test_init_einval(void **state)
{
	void **storage = alloc_storage(4);
	void **other = alloc_storage(4);
	struct xp_ring r;

	(void)state;
	assert_int_equal(xp_ring_init(&r, storage, 4, 0), 0);
	assert_int_equal(xp_ring_enqueue(&r, tok(0)), 0);
	assert_int_equal(xp_ring_enqueue(&r, tok(1)), 0);

	assert_int_equal(xp_ring_init(NULL, other, 4, 0), -EINVAL);
	check_init_fails(&r, NULL, 4, 0);
	check_init_fails(&r, other, 0, 0);
	check_init_fails(&r, other, XP_RING_MAX_COUNT + 1u, 0);
	check_init_fails(&r, other, UINT_MAX, 0);
	check_init_fails(&r, other, 4, XP_RING_F_MASK + 1u);
	check_init_fails(&r, other, 4, 0x80000000u);
	check_init_fails(&r, other, 4, UINT_MAX);
	/* A bad flag is refused even beside valid ones. */
	check_init_fails(&r, other, 4, SP | SC | 0x10u);
	/* Both bad: still EINVAL, still untouched. */
	check_init_fails(&r, NULL, 0, 0x4u);
	free(other);
	free(storage);
}

/* ---- xp_ring_create / xp_ring_free ----------------------------------- */

static void check_create_einval(unsigned int count, unsigned int flags)
{
	struct xp_ring *r;

	errno = 0;
	r = xp_ring_create(count, flags);
	assert_null(r);
	assert_int_equal(errno, EINVAL);
}

static void test_create_einval(void **state)
{
	(void)state;
	check_create_einval(0, 0);
	check_create_einval(XP_RING_MAX_COUNT + 1u, 0);
	check_create_einval(UINT_MAX, SP | SC);
	check_create_einval(4, XP_RING_F_MASK + 1u);
	check_create_einval(4, UINT_MAX);
	check_create_einval(4, SP | 0x100u);
	/* Bad flags are refused before any (here huge) allocation. */
	check_create_einval(XP_RING_MAX_COUNT, 0x4u);
}

static void test_create_fields(void **state)
{
	static const unsigned int flag_sets[] = { 0, SP, SC, SP | SC };
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct xp_ring *r = xp_ring_create(1000, flag_sets[i]);

		assert_non_null(r);
		assert_int_equal((uintptr_t)r % XP_CACHE_LINE_SIZE, 0);
		assert_non_null(r->slots);
		assert_int_equal((uintptr_t)r->slots % sizeof(void *), 0);
		assert_int_equal(r->size, 1024);
		assert_int_equal(r->mask, 1023);
		assert_int_equal(r->flags, flag_sets[i]);
		check_counts(r, 1000, 0);
		xp_ring_free(r);
	}
	xp_ring_free(NULL);
}

/* test_create_enomem provokes a failed allocation. */
TU_SANITIZERS_MAY_RETURN_NULL()

/*
 * In a child: a ring too big for the address-space limit fails with
 * ENOMEM, and a small one still works afterwards.
 */
static int child_create_enomem(void)
{
	struct xp_ring *r;

	if (tu_limit_address_space(64ul << 20) != 0)
		return 2;
	/* 2^31 slots: 16 GiB of storage. */
	errno = 0;
	r = xp_ring_create(XP_RING_MAX_COUNT, 0);
	if (r != NULL)
		return 3;
	if (errno != ENOMEM)
		return 4;
	r = xp_ring_create(8, 0);
	if (r == NULL || xp_ring_enqueue(r, tok(0)) != 0)
		return 5;
	xp_ring_free(r);
	return 0;
}

static void test_create_enomem(void **state)
{
	(void)state;
	tu_run_in_child(child_create_enomem);
}

/* ---- exact capacity --------------------------------------------------- */

static const unsigned int capacities[] = {
	1, 2, 3, 5, 7, 8, 31, 33, 1000, 1023, 1024, 1025, 4097,
};

#define N_CAPACITIES (sizeof(capacities) / sizeof(capacities[0]))

/* One at a time: exactly @cap fit, the next is refused; then all out. */
static void check_exact_one_by_one(struct xp_ring *r, unsigned int cap)
{
	unsigned int i;
	void *obj;

	for (i = 0; i < cap; i++) {
		assert_int_equal(xp_ring_full(r), 0);
		assert_int_equal(xp_ring_enqueue(r, tok(i)), 0);
	}
	check_counts(r, cap, cap);
	assert_int_equal(xp_ring_enqueue(r, tok(cap)), -ENOBUFS);
	check_counts(r, cap, cap);
	for (i = 0; i < cap; i++) {
		assert_int_equal(xp_ring_dequeue(r, &obj), 0);
		assert_ptr_equal(obj, tok(i));
	}
	check_counts(r, cap, 0);
	assert_int_equal(xp_ring_dequeue(r, &obj), -ENOENT);
}

/* In one call: a bulk of @cap fits, of cap + 1 does not; burst stops. */
static void check_exact_in_one_call(struct xp_ring *r, unsigned int cap,
				    void **objs)
{
	unsigned int i, fs;

	for (i = 0; i < cap + 1; i++)
		objs[i] = tok(i);
	assert_int_equal(xp_ring_enqueue_bulk(r, objs, cap + 1, &fs), 0);
	assert_int_equal(fs, cap);
	check_counts(r, cap, 0);
	assert_int_equal(xp_ring_enqueue_bulk(r, objs, cap, &fs), cap);
	assert_int_equal(fs, 0);
	check_counts(r, cap, cap);
	assert_int_equal(xp_ring_dequeue_bulk(r, objs, cap + 1, &fs), 0);
	assert_int_equal(fs, cap);
	assert_int_equal(xp_ring_dequeue_bulk(r, objs, cap, &fs), cap);
	assert_int_equal(fs, 0);
	for (i = 0; i < cap; i++)
		assert_ptr_equal(objs[i], tok(i));
	assert_int_equal(xp_ring_enqueue_burst(r, objs, cap + 1, &fs), cap);
	assert_int_equal(fs, 0);
	check_counts(r, cap, cap);
	assert_int_equal(xp_ring_dequeue_burst(r, objs, cap + 1, &fs), cap);
	assert_int_equal(fs, 0);
	check_counts(r, cap, 0);
}

static void test_exact_capacity_create(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < N_CAPACITIES; i++) {
		unsigned int cap = capacities[i];
		struct xp_ring *r = xp_ring_create(cap, 0);
		void **objs = calloc(cap + 1, sizeof(*objs));

		assert_non_null(r);
		assert_non_null(objs);
		check_exact_one_by_one(r, cap);
		check_exact_in_one_call(r, cap, objs);
		/* Again from indices that are not at slot 0. */
		check_exact_one_by_one(r, cap);
		free(objs);
		xp_ring_free(r);
	}
}

/* Over caller storage, near the 32-bit wrap so both wraps are crossed. */
static void test_exact_capacity_init(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < N_CAPACITIES; i++) {
		unsigned int cap = capacities[i];
		struct xp_ring r;
		void **storage = init_at(&r, cap, SP | SC, 0u - cap / 2 - 1);
		void **objs = calloc(cap + 1, sizeof(*objs));

		assert_non_null(objs);
		check_exact_one_by_one(&r, cap);
		check_exact_in_one_call(&r, cap, objs);
		free(objs);
		free(storage);
	}
}

/* ---- caller-provided storage ----------------------------------------- */

/* Entries live in the caller's storage, at index & mask, and nowhere else. */
static void test_caller_storage(void **state)
{
	enum { CAP = 5, SLOTS = 8, GUARD = 4 };
	void *mem[GUARD + SLOTS + GUARD];
	void **storage = mem + GUARD;
	void *objs[CAP];
	struct xp_ring r;
	unsigned int i;
	uint32_t start = 0xfffffffdu;

	(void)state;
	for (i = 0; i < GUARD + SLOTS + GUARD; i++)
		mem[i] = &mem[i];
	assert_int_equal(xp_ring_init(&r, storage, CAP, 0), 0);
	set_indices(&r, start);
	for (i = 0; i < CAP; i++)
		objs[i] = tok(100 + i);
	assert_int_equal(xp_ring_enqueue_bulk(&r, objs, CAP, NULL), CAP);
	for (i = 0; i < CAP; i++)
		assert_ptr_equal(storage[(start + i) & (SLOTS - 1)],
				 tok(100 + i));
	for (i = 0; i < GUARD; i++) {
		assert_ptr_equal(mem[i], &mem[i]);
		assert_ptr_equal(mem[GUARD + SLOTS + i],
				 &mem[GUARD + SLOTS + i]);
	}
	/* The slot never reserved keeps what the caller left in it. */
	assert_ptr_equal(storage[(start + CAP) & (SLOTS - 1)],
			 &mem[GUARD + ((start + CAP) & (SLOTS - 1))]);
	memset(objs, 0, sizeof(objs));
	assert_int_equal(xp_ring_dequeue_bulk(&r, objs, CAP, NULL), CAP);
	for (i = 0; i < CAP; i++)
		assert_ptr_equal(objs[i], tok(100 + i));
}

/* ---- per-variant tests ------------------------------------------------ */

static void fill_tokens(void **objs, unsigned int n, uintptr_t first)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		objs[i] = tok(first + i);
}

static void fill_sentinel(void **objs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		objs[i] = (void *)(uintptr_t)0xdead;
}

static void check_sentinel(void *const *objs, unsigned int from,
			   unsigned int to)
{
	for (; from < to; from++)
		assert_ptr_equal(objs[from], (void *)(uintptr_t)0xdead);
}

/* Ring and storage bytes, to prove a refused call changed nothing. */
struct snapshot {
	struct xp_ring r;
	void *slots[16];
};

static void take_snapshot(struct snapshot *s, const struct xp_ring *r)
{
	assert_true(r->size <= 16);
	memcpy(&s->r, r, sizeof(*r));
	memcpy(s->slots, r->slots, r->size * sizeof(void *));
}

static void check_snapshot(const struct snapshot *s, const struct xp_ring *r)
{
	assert_memory_equal(&s->r, r, sizeof(*r));
	assert_memory_equal(s->slots, r->slots, r->size * sizeof(void *));
}

/* A bulk that does not fit moves nothing and reports what is there. */
static void test_bulk_all_or_nothing(void **state)
{
	const struct variant *v = *state;
	enum { CAP = 10 };
	void *in[CAP + 2], *out[CAP + 2];
	struct snapshot snap;
	struct xp_ring r;
	void **storage = init_at(&r, CAP, v->flags, 0xfffffffau);
	unsigned int i, fs, av;

	fill_tokens(in, CAP + 2, 0);
	fs = av = 12345;
	assert_int_equal(v->enq_bulk(&r, in, 7, &fs), 7);
	assert_int_equal(fs, 3);
	check_counts(&r, CAP, 7);

	take_snapshot(&snap, &r);
	errno = 77;
	assert_int_equal(v->enq_bulk(&r, in + 7, 4, &fs), 0);
	assert_int_equal(fs, 3);
	assert_int_equal(v->enq_bulk(&r, in + 7, CAP + 2, NULL), 0);
	check_snapshot(&snap, &r);
	check_counts(&r, CAP, 7);

	fill_sentinel(out, CAP + 2);
	assert_int_equal(v->deq_bulk(&r, out, 8, &av), 0);
	assert_int_equal(av, 7);
	assert_int_equal(v->deq_bulk(&r, out, CAP + 2, NULL), 0);
	check_sentinel(out, 0, CAP + 2);
	check_snapshot(&snap, &r);
	assert_int_equal(errno, 77);

	/* Zero objects: nothing happens, the out-params still report. */
	assert_int_equal(v->enq_bulk(&r, in, 0, &fs), 0);
	assert_int_equal(fs, 3);
	assert_int_equal(v->deq_bulk(&r, out, 0, &av), 0);
	assert_int_equal(av, 7);
	check_snapshot(&snap, &r);

	/* What does fit still goes through, in order. */
	assert_int_equal(v->enq_bulk(&r, in + 7, 3, &fs), 3);
	assert_int_equal(fs, 0);
	check_counts(&r, CAP, CAP);
	assert_int_equal(v->enq_bulk(&r, in, 1, &fs), 0);
	assert_int_equal(fs, 0);
	assert_int_equal(v->deq_bulk(&r, out, CAP, &av), CAP);
	assert_int_equal(av, 0);
	for (i = 0; i < CAP; i++)
		assert_ptr_equal(out[i], tok(i));
	check_sentinel(out, CAP, CAP + 2);
	assert_int_equal(v->deq_bulk(&r, out, 1, &av), 0);
	assert_int_equal(av, 0);
	check_counts(&r, CAP, 0);
	assert_int_equal(errno, 77);
	free(storage);
}

/* A burst moves what it can and reports what is left. */
static void test_burst_partial(void **state)
{
	const struct variant *v = *state;
	enum { CAP = 10 };
	void *in[CAP + 5], *out[CAP + 5];
	struct snapshot snap;
	struct xp_ring r;
	void **storage = init_at(&r, CAP, v->flags, 0xfffffffcu);
	unsigned int i, fs, av;

	fill_tokens(in, CAP + 5, 0);
	errno = 77;
	fs = av = 12345;
	assert_int_equal(v->enq_burst(&r, in, 4, &fs), 4);
	assert_int_equal(fs, 6);
	assert_int_equal(v->enq_burst(&r, in + 4, CAP + 1, &fs), 6);
	assert_int_equal(fs, 0);
	check_counts(&r, CAP, CAP);

	take_snapshot(&snap, &r);
	assert_int_equal(v->enq_burst(&r, in + CAP, 5, &fs), 0);
	assert_int_equal(fs, 0);
	check_snapshot(&snap, &r);

	fill_sentinel(out, CAP + 5);
	assert_int_equal(v->deq_burst(&r, out, 3, &av), 3);
	assert_int_equal(av, 7);
	check_sentinel(out, 3, CAP + 5);
	check_counts(&r, CAP, 7);
	assert_int_equal(v->deq_burst(&r, out + 3, CAP + 5, &av), 7);
	assert_int_equal(av, 0);
	for (i = 0; i < CAP; i++)
		assert_ptr_equal(out[i], tok(i));
	check_sentinel(out, CAP, CAP + 5);
	check_counts(&r, CAP, 0);

	take_snapshot(&snap, &r);
	fill_sentinel(out, CAP + 5);
	assert_int_equal(v->deq_burst(&r, out, 5, &av), 0);
	assert_int_equal(av, 0);
	assert_int_equal(v->deq_burst(&r, out, 5, NULL), 0);
	check_sentinel(out, 0, CAP + 5);
	check_snapshot(&snap, &r);

	/* Partial again from the middle, without out-params. */
	assert_int_equal(v->enq_burst(&r, in, 8, NULL), 8);
	assert_int_equal(v->enq_burst(&r, in + 8, 5, NULL), 2);
	assert_int_equal(v->deq_burst(&r, out, CAP + 5, NULL), CAP);
	for (i = 0; i < CAP; i++)
		assert_ptr_equal(out[i], tok(i));
	assert_int_equal(errno, 77);
	free(storage);
}

enum { MODEL_CAP = 37, MODEL_MAX_N = 41, MODEL_OPS = 20000 };

/*
 * The ring is a FIFO of sequential tokens, so the model is two counters:
 * the next token to put in and the next one expected out.
 */
struct model {
	uintptr_t next_in, next_out;
};

static unsigned int model_len(const struct model *m)
{
	return (unsigned int)(m->next_in - m->next_out);
}

/* Single calls are one kind of op among bulk and burst, where they exist. */
static int model_single(const struct variant *v, uint32_t rnd)
{
	return v->generic && (rnd >> 9) % 4 == 0;
}

static void model_enqueue(struct xp_ring *r, const struct variant *v,
			  struct model *m, uint32_t rnd)
{
	void *objs[MODEL_MAX_N];
	int single = model_single(v, rnd);
	int bulk = single || ((rnd >> 8) & 1);
	unsigned int n = single ? 1 : rnd % MODEL_MAX_N;
	unsigned int room = MODEL_CAP - model_len(m);
	unsigned int fs = 0, got, want;

	fill_tokens(objs, n, m->next_in);
	if (single)
		got = enq_one(r, objs, 1, NULL);
	else if (bulk)
		got = v->enq_bulk(r, objs, n, &fs);
	else
		got = v->enq_burst(r, objs, n, &fs);
	want = n <= room ? n : bulk ? 0 : room;
	assert_int_equal(got, want);
	if (!single)
		assert_int_equal(fs, room - got);
	m->next_in += got;
}

static void model_dequeue(struct xp_ring *r, const struct variant *v,
			  struct model *m, uint32_t rnd)
{
	void *objs[MODEL_MAX_N];
	int single = model_single(v, rnd);
	int bulk = single || ((rnd >> 8) & 1);
	unsigned int n = single ? 1 : rnd % MODEL_MAX_N;
	unsigned int len = model_len(m);
	unsigned int av = 0, got, want, i;

	fill_sentinel(objs, MODEL_MAX_N);
	if (single)
		got = deq_one(r, objs, 1, NULL);
	else if (bulk)
		got = v->deq_bulk(r, objs, n, &av);
	else
		got = v->deq_burst(r, objs, n, &av);
	want = n <= len ? n : bulk ? 0 : len;
	assert_int_equal(got, want);
	if (!single)
		assert_int_equal(av, len - got);
	for (i = 0; i < got; i++)
		assert_ptr_equal(objs[i], tok(m->next_out + i));
	check_sentinel(objs, got, MODEL_MAX_N);
	m->next_out += got;
}

/* Random bulks and bursts of 0..40 against the model, from @start. */
static void run_model(const struct variant *v, uint32_t start)
{
	struct model m = { 0, 0 };
	struct xp_ring r;
	void **storage = init_at(&r, MODEL_CAP, v->flags, start);
	uint32_t seed = 0x9e3779b9u, rnd;
	unsigned int op;

	errno = 77;
	for (op = 0; op < MODEL_OPS; op++) {
		rnd = tu_xorshift32(&seed);
		/* Lean towards enqueue, then dequeue, to hit full and empty. */
		if ((op / 500) % 2 == 0 ? rnd % 8 < 5 : rnd % 8 < 3)
			model_enqueue(&r, v, &m, rnd >> 3);
		else
			model_dequeue(&r, v, &m, rnd >> 3);
		check_counts(&r, MODEL_CAP, model_len(&m));
		assert_int_equal((uint32_t)(r.prod.tail - start), m.next_in);
		assert_int_equal((uint32_t)(r.cons.tail - start), m.next_out);
	}
	assert_int_equal(errno, 77);
	/* Enough traffic to have gone round the storage many times. */
	assert_true(m.next_out > 100 * MODEL_CAP);
	free(storage);
}

static void test_model_from_zero(void **state)
{
	run_model(*state, 0);
}

static void test_model_across_wrap(void **state)
{
	run_model(*state, NEAR_WRAP);
}

/* ---- wrap-around of the 32-bit indices ------------------------------- */

/* Fill and drain across 2^32: counts and order hold on both sides. */
static void test_wrap_full_empty(void **state)
{
	enum { CAP = 5 };
	void *objs[CAP + 1];
	struct xp_ring r;
	void **storage = init_at(&r, CAP, 0, 0xfffffffdu);
	unsigned int i;

	(void)state;
	for (i = 0; i < CAP; i++) {
		assert_int_equal(xp_ring_enqueue(&r, tok(i)), 0);
		check_counts(&r, CAP, i + 1);
	}
	/* prod.tail has wrapped to 2, cons.tail is still 0xfffffffd. */
	assert_int_equal(r.prod.tail, 2);
	assert_int_equal(r.cons.tail, 0xfffffffdu);
	assert_int_equal(xp_ring_enqueue(&r, tok(CAP)), -ENOBUFS);
	assert_int_equal(xp_ring_enqueue_burst(&r, objs, 1, NULL), 0);
	check_counts(&r, CAP, CAP);
	assert_int_equal(xp_ring_dequeue_bulk(&r, objs, CAP + 1, NULL), 0);
	assert_int_equal(xp_ring_dequeue_bulk(&r, objs, CAP, NULL), CAP);
	for (i = 0; i < CAP; i++)
		assert_ptr_equal(objs[i], tok(i));
	check_counts(&r, CAP, 0);
	assert_int_equal(r.cons.tail, 2);
	assert_int_equal(xp_ring_dequeue(&r, objs), -ENOENT);
	free(storage);
}

/* Steady traffic from NEAR_WRAP through 2^32 and well beyond it. */
static void test_wrap_stream(void **state)
{
	enum { CAP = 5, N = 3 };
	void *objs[N];
	struct xp_ring r;
	void **storage = init_at(&r, CAP, 0, NEAR_WRAP);
	uintptr_t in = 0, out = 0;
	unsigned int i, k, fs, av;

	(void)state;
	assert_int_equal(xp_ring_enqueue(&r, tok(in++)), 0);
	for (k = 0; k < 600; k++) {
		fill_tokens(objs, N, in);
		assert_int_equal(xp_ring_enqueue_bulk(&r, objs, N, &fs), N);
		assert_int_equal(fs, CAP - 1 - N);
		in += N;
		assert_int_equal(xp_ring_dequeue_bulk(&r, objs, N, &av), N);
		assert_int_equal(av, 1);
		for (i = 0; i < N; i++)
			assert_ptr_equal(objs[i], tok(out + i));
		out += N;
		check_counts(&r, CAP, 1);
	}
	assert_int_equal(r.prod.tail, (uint32_t)(NEAR_WRAP + in));
	assert_true(r.prod.tail < NEAR_WRAP);
	assert_int_equal(r.cons.tail, (uint32_t)(NEAR_WRAP + out));
	assert_true(r.cons.tail < NEAR_WRAP);
	free(storage);
}

/* ---- which variant: a preempted peer ---------------------------------- */

/*
 * A multi-producer (or multi-consumer) call must wait for a peer of its
 * side that reserved earlier and has not published yet; a single one has
 * no peer and never waits.  The test plays the preempted peer by moving a
 * head without its tail, runs the call on a helper thread, and either sees
 * it wait until the peer publishes or sees it finish on its own.  This is
 * also how the unprefixed functions show which variant the flags chose.
 */
struct stall_case {
	const char *name;
	unsigned int flags;
	enq_fn enq; /* exactly one of enq, deq */
	deq_fn deq;
	int waits;
};

struct stall_call {
	const struct stall_case *c;
	struct xp_ring *r;
	void *obj;
	unsigned int ret;
	int done;
};

static void *stall_thread(void *arg)
{
	struct stall_call *call = arg;

	if (call->c->enq != NULL)
		call->ret = call->c->enq(call->r, &call->obj, 1, NULL);
	else
		call->ret = call->c->deq(call->r, &call->obj, 1, NULL);
	__atomic_store_n(&call->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Whether @call finished within @ms milliseconds. */
static int wait_done(struct stall_call *call, unsigned int ms)
{
	const struct timespec tick = { 0, 1000000 };
	unsigned int i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(&call->done, __ATOMIC_ACQUIRE))
			return 1;
		nanosleep(&tick, NULL);
	}
	return __atomic_load_n(&call->done, __ATOMIC_ACQUIRE);
}

/*
 * Ring with A, B, C published (tail 3); the stalled peer holds the next
 * slot of its side: producer slot 3 (holding D, unpublished) or consumer
 * slot 0 (A).  The call moves one object: E in, or B out.
 */
static void test_stall(void **state)
{
	const struct stall_case *c = *state;
	struct xp_ring_headtail *side;
	void *storage[8], *objs[5];
	struct stall_call call;
	struct xp_ring r;
	uint32_t peer_done;
	pthread_t th;
	int early;
	unsigned int count_while_stalled, i;

	assert_int_equal(xp_ring_init(&r, storage, 6, c->flags), 0);
	fill_tokens(objs, 3, 0);
	assert_int_equal(xp_ring_sp_enqueue_bulk(&r, objs, 3, NULL), 3);
	memset(&call, 0, sizeof(call));
	call.c = c;
	call.r = &r;
	if (c->enq != NULL) {
		side = &r.prod;
		storage[3] = tok(3);
		call.obj = tok(4);
	} else {
		side = &r.cons;
	}
	side->head++;
	peer_done = side->head;
	assert_int_equal(pthread_create(&th, NULL, stall_thread, &call), 0);

	/* A call that waits is still waiting after 50 ms; one that does not
	 * finishes on its own, given plenty of time. */
	early = wait_done(&call, c->waits ? 50 : 10000);
	count_while_stalled = xp_ring_count(&r);
	if (!early)
		__atomic_store_n(&side->tail, peer_done, __ATOMIC_RELEASE);
	if (!wait_done(&call, 10000)) {
		/* The thread uses this frame: it must not outlive it. */
		print_error("%s: still blocked after the peer published\n",
			    c->name);
		exit(EXIT_FAILURE);
	}
	assert_int_equal(pthread_join(th, NULL), 0);

	assert_int_equal(early, !c->waits);
	assert_int_equal(call.ret, 1);
	/* Nothing of the call is visible before the peer publishes. */
	if (c->waits)
		assert_int_equal(count_while_stalled, 3);
	if (c->enq != NULL) {
		check_counts(&r, 6, 5);
		assert_int_equal(xp_ring_dequeue_burst(&r, objs, 5, NULL), 5);
		for (i = 0; i < 5; i++)
			assert_ptr_equal(objs[i], tok(i));
	} else {
		assert_ptr_equal(call.obj, tok(1));
		check_counts(&r, 6, 1);
		assert_int_equal(xp_ring_dequeue(&r, objs), 0);
		assert_ptr_equal(objs[0], tok(2));
	}
}

static const struct stall_case stall_cases[] = {
	{ "stall mp_enqueue_bulk", SP | SC, xp_ring_mp_enqueue_bulk, NULL, 1 },
	{ "stall mp_enqueue_burst", SP | SC, xp_ring_mp_enqueue_burst, NULL,
	  1 },
	{ "stall sp_enqueue_bulk", 0, xp_ring_sp_enqueue_bulk, NULL, 0 },
	{ "stall sp_enqueue_burst", 0, xp_ring_sp_enqueue_burst, NULL, 0 },
	{ "stall enqueue_bulk flags 0", 0, xp_ring_enqueue_bulk, NULL, 1 },
	{ "stall enqueue_bulk flags SC", SC, xp_ring_enqueue_bulk, NULL, 1 },
	{ "stall enqueue_bulk flags SP", SP, xp_ring_enqueue_bulk, NULL, 0 },
	{ "stall enqueue_burst flags 0", 0, xp_ring_enqueue_burst, NULL, 1 },
	{ "stall enqueue_burst flags SP|SC", SP | SC, xp_ring_enqueue_burst,
	  NULL, 0 },
	{ "stall enqueue flags 0", 0, enq_one, NULL, 1 },
	{ "stall enqueue flags SP", SP, enq_one, NULL, 0 },
	{ "stall mc_dequeue_bulk", SP | SC, NULL, xp_ring_mc_dequeue_bulk, 1 },
	{ "stall mc_dequeue_burst", SP | SC, NULL, xp_ring_mc_dequeue_burst,
	  1 },
	{ "stall sc_dequeue_bulk", 0, NULL, xp_ring_sc_dequeue_bulk, 0 },
	{ "stall sc_dequeue_burst", 0, NULL, xp_ring_sc_dequeue_burst, 0 },
	{ "stall dequeue_bulk flags 0", 0, NULL, xp_ring_dequeue_bulk, 1 },
	{ "stall dequeue_bulk flags SP", SP, NULL, xp_ring_dequeue_bulk, 1 },
	{ "stall dequeue_bulk flags SC", SC, NULL, xp_ring_dequeue_bulk, 0 },
	{ "stall dequeue_burst flags 0", 0, NULL, xp_ring_dequeue_burst, 1 },
	{ "stall dequeue_burst flags SP|SC", SP | SC, NULL,
	  xp_ring_dequeue_burst, 0 },
	{ "stall dequeue flags 0", 0, NULL, deq_one, 1 },
	{ "stall dequeue flags SC", SC, NULL, deq_one, 0 },
};

#define N_STALL (sizeof(stall_cases) / sizeof(stall_cases[0]))

/* ---- the suite -------------------------------------------------------- */

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_storage_slots_limits),
	cmocka_unit_test(test_storage_slots_next_pow2),
	cmocka_unit_test(test_init_fields),
	cmocka_unit_test(test_init_max_count),
	cmocka_unit_test(test_init_einval),
	cmocka_unit_test(test_create_einval),
	cmocka_unit_test(test_create_fields),
	cmocka_unit_test(test_create_enomem),
	cmocka_unit_test(test_exact_capacity_create),
	cmocka_unit_test(test_exact_capacity_init),
	cmocka_unit_test(test_caller_storage),
	cmocka_unit_test(test_wrap_full_empty),
	cmocka_unit_test(test_wrap_stream),
};

#define N_FIXED (sizeof(fixed_tests) / sizeof(fixed_tests[0]))

static const struct {
	const char *name;
	CMUnitTestFunction fn;
} per_variant[] = {
	{ "bulk_all_or_nothing", test_bulk_all_or_nothing },
	{ "burst_partial", test_burst_partial },
	{ "model_from_zero", test_model_from_zero },
	{ "model_across_wrap", test_model_across_wrap },
};

#define N_PER_VARIANT (sizeof(per_variant) / sizeof(per_variant[0]))
#define N_TESTS (N_FIXED + N_PER_VARIANT * N_VARIANTS + N_STALL)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	static char names[N_PER_VARIANT * N_VARIANTS][64];
	size_t i, j, n = 0;

	for (i = 0; i < N_FIXED; i++)
		tests[n++] = fixed_tests[i];
	for (i = 0; i < N_PER_VARIANT; i++) {
		for (j = 0; j < N_VARIANTS; j++) {
			char *name = names[i * N_VARIANTS + j];

			snprintf(name, sizeof(names[0]), "%s %s",
				 per_variant[i].name, variants[j].name);
			tests[n].name = name;
			tests[n].test_func = per_variant[i].fn;
			tests[n].initial_state = (void *)&variants[j];
			n++;
		}
	}
	for (i = 0; i < N_STALL; i++) {
		tests[n].name = stall_cases[i].name;
		tests[n].test_func = test_stall;
		tests[n].initial_state = (void *)&stall_cases[i];
		n++;
	}
	return _cmocka_run_group_tests("ring", tests, n, NULL, NULL);
}
