/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xp_ring under concurrency: for each producer/consumer variant, four
 * threads (two for SPSC) move millions of distinct tokens through a ring of
 * tens to hundreds of entries, with bulks and bursts of 1..32, across the
 * 2^32 wrap of the indices.  Then every token is checked to have come out
 * exactly once, and each consumer to have seen each producer's tokens in
 * order.
 *
 * XP_TEST_SCALE (a positive number, default 1) scales the number of tokens,
 * for slow builds.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <xenpool/ring.h>

#include "testutil.h"

#define SP XP_RING_F_SP_ENQ
#define SC XP_RING_F_SC_DEQ

enum { MAX_BATCH = 32, MAX_THREADS = 4 };

/* A run that consumes nothing for this long has lost tokens or hangs. */
#define STALL_S 30

typedef unsigned int (*enq_fn)(struct xp_ring *, void *const *, unsigned int,
			       unsigned int *);
typedef unsigned int (*deq_fn)(struct xp_ring *, void **, unsigned int,
			       unsigned int *);

/*
 * One variant: dedicated producer and consumer threads, or threads that
 * do both.  Each call picks the explicit function or the unprefixed one
 * (the ring's flags make it the same variant), bulk or burst.
 */
struct mt_config {
	const char *name;
	unsigned int flags;
	unsigned int producers, consumers, mixed;
	unsigned int capacity;
	unsigned long tokens; /* before scaling */
	enq_fn enq_bulk, enq_burst;
	deq_fn deq_bulk, deq_burst;
};

struct mt_run {
	const struct mt_config *cfg;
	struct xp_ring *r;
	unsigned int n_producers;
	unsigned long per_producer;
	unsigned long total;
	unsigned char *seen; /* per token, incremented atomically */
	unsigned long consumed;
	pthread_barrier_t start;
};

struct mt_thread {
	struct mt_run *run;
	pthread_t th;
	int produces, consumes;
	unsigned int producer; /* index, if it produces */
	uint32_t seed;
	unsigned long next_seq; /* next token to produce */
	/* Per producer: 1 + last sequence number this thread consumed. */
	unsigned long last[MAX_THREADS];
	unsigned long got;
	unsigned long bad_token, order, gap, bad_return, bad_room;
};

/* Token of producer @p, sequence @seq: distinct, never NULL. */
static void *make_token(const struct mt_run *run, unsigned int p,
			unsigned long seq)
{
	return (void *)(uintptr_t)(1 + p * run->per_producer + seq);
}

/*
 * Nothing moved: let the other side run.  Yield first; if that keeps not
 * helping (a lone producer or consumer facing three peers on a loaded
 * machine), sleep a little so that the scheduler runs it.
 */
static void backoff(unsigned int idle)
{
	const struct timespec nap = { 0, 20000 };

	if (idle < 16)
		sched_yield();
	else
		nanosleep(&nap, NULL);
}

/* One enqueue call of 1..32 tokens; false when nothing went in. */
static int produce_once(struct mt_thread *t)
{
	struct mt_run *run = t->run;
	const struct mt_config *cfg = run->cfg;
	void *objs[MAX_BATCH];
	uint32_t rnd = tu_xorshift32(&t->seed);
	unsigned long left = run->per_producer - t->next_seq;
	unsigned int n = 1 + rnd % MAX_BATCH, i, got, fs = 0;
	int bulk = (rnd >> 8) & 1;

	if (n > left)
		n = (unsigned int)left;
	for (i = 0; i < n; i++)
		objs[i] = make_token(run, t->producer, t->next_seq + i);
	switch ((rnd >> 9) % 3) {
	case 0:
		got = (bulk ? cfg->enq_bulk : cfg->enq_burst)(run->r, objs, n,
							      &fs);
		break;
	case 1:
		got = (bulk ? xp_ring_enqueue_bulk : xp_ring_enqueue_burst)(
			run->r, objs, n, &fs);
		break;
	default:
		got = (bulk ? cfg->enq_bulk : cfg->enq_burst)(run->r, objs, n,
							      NULL);
		fs = 0;
		break;
	}
	if (got > n || (bulk && got != 0 && got != n))
		t->bad_return++;
	if (fs > cfg->capacity)
		t->bad_room++;
	t->next_seq += got;
	return got != 0;
}

/* Check and record one token seen by this consumer. */
static void consume_token(struct mt_thread *t, void *obj)
{
	struct mt_run *run = t->run;
	uintptr_t k = (uintptr_t)obj - 1;
	unsigned long seq;
	unsigned int p;

	if (obj == NULL || k >= run->total) {
		t->bad_token++;
		return;
	}
	__atomic_fetch_add(&run->seen[k], 1, __ATOMIC_RELAXED);
	p = (unsigned int)(k / run->per_producer);
	seq = k % run->per_producer;
	if (seq < t->last[p])
		t->order++;
	/* A single consumer sees each producer's tokens without gaps. */
	else if ((run->cfg->flags & SC) && seq != t->last[p])
		t->gap++;
	t->last[p] = seq + 1;
}

/* One dequeue call of up to 1..32 tokens; false when nothing came out. */
static int consume_once(struct mt_thread *t)
{
	struct mt_run *run = t->run;
	const struct mt_config *cfg = run->cfg;
	void *objs[MAX_BATCH];
	uint32_t rnd = tu_xorshift32(&t->seed);
	unsigned int n = 1 + rnd % MAX_BATCH, i, got, av = 0;
	int bulk = (rnd >> 8) & 1;

	switch ((rnd >> 9) % 3) {
	case 0:
		got = (bulk ? cfg->deq_bulk : cfg->deq_burst)(run->r, objs, n,
							      &av);
		break;
	case 1:
		got = (bulk ? xp_ring_dequeue_bulk : xp_ring_dequeue_burst)(
			run->r, objs, n, &av);
		break;
	default:
		got = (bulk ? cfg->deq_bulk : cfg->deq_burst)(run->r, objs, n,
							      NULL);
		av = 0;
		break;
	}
	if (got > n || (bulk && got != 0 && got != n))
		t->bad_return++;
	if (av > cfg->capacity)
		t->bad_room++;
	for (i = 0; i < got && i < n; i++)
		consume_token(t, objs[i]);
	t->got += got;
	__atomic_fetch_add(&run->consumed, got, __ATOMIC_RELAXED);
	return got != 0;
}

static int all_consumed(struct mt_run *run)
{
	return __atomic_load_n(&run->consumed, __ATOMIC_RELAXED) >= run->total;
}

static void *mt_thread_main(void *arg)
{
	struct mt_thread *t = arg;
	struct mt_run *run = t->run;
	unsigned int idle = 0;
	int moved;

	pthread_barrier_wait(&run->start);
	/* Also ends producers if a broken ring duplicated tokens. */
	while (!all_consumed(run)) {
		moved = 0;
		if (t->produces) {
			if (t->next_seq == run->per_producer && !t->consumes)
				break;
			if (t->next_seq < run->per_producer)
				moved |= produce_once(t);
		}
		if (t->consumes)
			moved |= consume_once(t);
		idle = moved ? 0 : idle + 1;
		if (!moved)
			backoff(idle);
	}
	return NULL;
}

static uint32_t load_index(const uint32_t *idx)
{
	return __atomic_load_n(idx, __ATOMIC_RELAXED);
}

/*
 * Wait until every token is consumed.  A run that stops making progress has
 * lost tokens or has threads stuck inside the ring, which cannot be joined:
 * report and exit rather than hang.
 */
static void wait_consumed(struct mt_run *run)
{
	const struct timespec tick = { 0, 10000000 };
	const struct xp_ring *r = run->r;
	unsigned long last = 0, now;
	unsigned int idle = 0;

	while ((now = __atomic_load_n(&run->consumed, __ATOMIC_RELAXED)) <
	       run->total) {
		nanosleep(&tick, NULL);
		idle = now == last ? idle + 1 : 0;
		last = now;
		if (idle < STALL_S * 100)
			continue;
		print_error("%s: no progress for %d s: %lu of %lu tokens "
			    "consumed, prod %08x/%08x cons %08x/%08x\n",
			    run->cfg->name, STALL_S, now, run->total,
			    load_index(&r->prod.head),
			    load_index(&r->prod.tail),
			    load_index(&r->cons.head),
			    load_index(&r->cons.tail));
		exit(EXIT_FAILURE);
	}
}

/* Every token came out once: walk the whole table, not just the totals. */
static void check_seen(const struct mt_run *run)
{
	unsigned long k, missing = 0, dup = 0;

	for (k = 0; k < run->total; k++) {
		if (run->seen[k] == 0)
			missing++;
		else if (run->seen[k] > 1)
			dup++;
		if ((run->seen[k] != 1) && missing + dup <= 5)
			print_error("token %lu (producer %lu seq %lu) seen %u "
				    "times\n",
				    k + 1, k / run->per_producer,
				    k % run->per_producer, run->seen[k]);
	}
	assert_int_equal(missing, 0);
	assert_int_equal(dup, 0);
}

static void check_threads(const struct mt_run *run, const struct mt_thread *t,
			  unsigned int n)
{
	unsigned long got = 0;
	unsigned int i, p;

	for (i = 0; i < n; i++) {
		assert_int_equal(t[i].bad_token, 0);
		assert_int_equal(t[i].order, 0);
		assert_int_equal(t[i].gap, 0);
		assert_int_equal(t[i].bad_return, 0);
		assert_int_equal(t[i].bad_room, 0);
		if (t[i].produces)
			assert_int_equal(t[i].next_seq, run->per_producer);
		if (!t[i].consumes) {
			assert_int_equal(t[i].got, 0);
			continue;
		}
		got += t[i].got;
		/* A single consumer saw every token of every producer. */
		if (run->cfg->flags & SC)
			for (p = 0; p < run->n_producers; p++)
				assert_int_equal(t[i].last[p],
						 run->per_producer);
	}
	assert_int_equal(got, run->total);
}

static void check_ring_drained(const struct mt_run *run, uint32_t start)
{
	const struct xp_ring *r = run->r;
	uint32_t end = start + (uint32_t)run->total;

	assert_int_equal(xp_ring_count(r), 0);
	assert_true(xp_ring_empty(r));
	assert_int_equal(xp_ring_free_count(r), run->cfg->capacity);
	assert_int_equal(r->prod.head, end);
	assert_int_equal(r->prod.tail, end);
	assert_int_equal(r->cons.head, end);
	assert_int_equal(r->cons.tail, end);
}

static void test_mt(void **state)
{
	const struct mt_config *cfg = *state;
	unsigned int n = cfg->producers + cfg->consumers + cfg->mixed;
	struct mt_thread t[MAX_THREADS];
	struct mt_run run;
	uint32_t start;
	unsigned int i;

	assert_true(n <= MAX_THREADS);
	memset(&run, 0, sizeof(run));
	memset(t, 0, sizeof(t));
	run.cfg = cfg;
	run.n_producers = cfg->producers + cfg->mixed;
	run.per_producer = tu_scaled(cfg->tokens / run.n_producers, 1000);
	run.total = run.per_producer * run.n_producers;
	run.seen = calloc(run.total, 1);
	assert_non_null(run.seen);
	run.r = xp_ring_create(cfg->capacity, cfg->flags);
	assert_non_null(run.r);
	/* Cross 2^32 halfway through: the indices are public ABI. */
	start = 0u - (uint32_t)(run.total / 2);
	run.r->prod.head = run.r->prod.tail = start;
	run.r->cons.head = run.r->cons.tail = start;
	assert_int_equal(pthread_barrier_init(&run.start, NULL, n), 0);

	for (i = 0; i < n; i++) {
		t[i].run = &run;
		t[i].seed = 0x9e3779b9u * (i + 1);
		t[i].produces = i < cfg->producers ||
				i >= cfg->producers + cfg->consumers;
		t[i].consumes = i >= cfg->producers;
		if (i < cfg->producers)
			t[i].producer = i;
		else if (t[i].produces)
			t[i].producer = i - cfg->consumers;
		assert_int_equal(pthread_create(&t[i].th, NULL, mt_thread_main,
						&t[i]),
				 0);
	}
	wait_consumed(&run);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i].th, NULL), 0);
	pthread_barrier_destroy(&run.start);

	check_seen(&run);
	check_threads(&run, t, n);
	check_ring_drained(&run, start);
	xp_ring_free(run.r);
	free(run.seen);
}

static const struct mt_config configs[] = {
	{ "mpmc 2 producers 2 consumers", 0, 2, 2, 0, 257, 8000000,
	  xp_ring_mp_enqueue_bulk, xp_ring_mp_enqueue_burst,
	  xp_ring_mc_dequeue_bulk, xp_ring_mc_dequeue_burst },
	{ "mpmc 4 threads producing and consuming", 0, 0, 0, 4, 61, 8000000,
	  xp_ring_mp_enqueue_bulk, xp_ring_mp_enqueue_burst,
	  xp_ring_mc_dequeue_bulk, xp_ring_mc_dequeue_burst },
	{ "mpsc 3 producers 1 consumer", SC, 3, 1, 0, 500, 8000000,
	  xp_ring_mp_enqueue_bulk, xp_ring_mp_enqueue_burst,
	  xp_ring_sc_dequeue_bulk, xp_ring_sc_dequeue_burst },
	{ "spmc 1 producer 3 consumers", SP, 1, 3, 0, 333, 8000000,
	  xp_ring_sp_enqueue_bulk, xp_ring_sp_enqueue_burst,
	  xp_ring_mc_dequeue_bulk, xp_ring_mc_dequeue_burst },
	{ "spsc 1 producer 1 consumer", SP | SC, 1, 1, 0, 1000, 8000000,
	  xp_ring_sp_enqueue_bulk, xp_ring_sp_enqueue_burst,
	  xp_ring_sc_dequeue_bulk, xp_ring_sc_dequeue_burst },
};

#define N_CONFIGS (sizeof(configs) / sizeof(configs[0]))

int main(void)
{
	static struct CMUnitTest tests[N_CONFIGS];
	size_t i;

	for (i = 0; i < N_CONFIGS; i++) {
		tests[i].name = configs[i].name;
		tests[i].test_func = test_mt;
		tests[i].initial_state = (void *)&configs[i];
	}
	return _cmocka_run_group_tests("ring_mt", tests, N_CONFIGS, NULL,
				       NULL);
}
