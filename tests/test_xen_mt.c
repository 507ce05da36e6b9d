/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xen_dom0 handler under a hostile peer: worker threads get and put
 * random bulks, through their caches, while the shim's scribbler writes
 * random bytes over every granted page, again and again.  The handler keeps
 * all its metadata in private memory, so nothing may go wrong: no crash,
 * no object handed to two threads at once, a clean audit, every object back
 * exactly once, and the bus addresses unchanged.
 *
 * Worker threads never call cmocka asserts (their failure would longjmp into
 * another thread's stack): they count what they saw, and the main thread
 * asserts on the counts after pthread_join.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <xenpool/xenpool.h>
#include <xenpool/xen.h>

#include "testutil.h"
#include "xentest.h"

#define THREADS 4
#define BULK_MAX 32

struct worker {
	pthread_t th;
	struct xp_mempool *mp;
	const struct tu_objset *set;
	unsigned int *owner;   /* per object: the thread holding it, or 0 */
	unsigned int id;
	uint64_t rng;
	unsigned long rounds;
	unsigned long empty;   /* gets that found too few objects */
	unsigned long bad;     /* not an object, or held by another thread */
};

static int stop;

/* Claim (or release) the objects: each must be free (or ours). */
static void claim(struct worker *w, void *const *objs, unsigned int n,
		  int take)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		long k = tu_objset_find(w->set, objs[i]);
		unsigned int from = take ? 0 : w->id, to = take ? w->id : 0;

		if (k < 0 || !__atomic_compare_exchange_n(&w->owner[k], &from,
							  to, 0,
							  __ATOMIC_ACQ_REL,
							  __ATOMIC_ACQUIRE))
			w->bad++;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = (struct worker *)arg;
	void *held[2][BULK_MAX];
	unsigned int nheld[2] = {0, 0}, slot = 0, i;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned int n = 1 + (unsigned int)(tu_xorshift64(&w->rng) %
						    BULK_MAX);

		/* Hold two bulks at a time, so that caches miss and flush. */
		slot ^= 1;
		if (nheld[slot] > 0) {
			claim(w, held[slot], nheld[slot], 0);
			xp_mempool_put_bulk(w->mp, held[slot], nheld[slot]);
			nheld[slot] = 0;
		}
		if (xp_mempool_get_bulk(w->mp, held[slot], n) != 0) {
			w->empty++;
			continue;
		}
		claim(w, held[slot], n, 1);
		for (i = 0; i < n; i++)
			memset(held[slot][i], (int)w->id, w->mp->elt_size);
		nheld[slot] = n;
		w->rounds++;
	}
	for (slot = 0; slot < 2; slot++) {
		claim(w, held[slot], nheld[slot], 0);
		xp_mempool_put_bulk(w->mp, held[slot], nheld[slot]);
	}
	return NULL;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* @threads workers on @mp for @ms while the peer scribbles. */
static void hostile_run(struct xp_mempool *mp, unsigned int threads,
			unsigned long ms)
{
	struct worker w[THREADS];
	struct tu_objset set;
	unsigned int *owner, i;
	unsigned long passes;

	tu_objset_init(&set, mp);
	owner = calloc(mp->size, sizeof(*owner));
	assert_non_null(owner);
	memset(w, 0, sizeof(w));
	__atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
	assert_int_equal(xpshim_scribbler_start(), 0);
	for (i = 0; i < threads; i++) {
		w[i].mp = mp;
		w[i].set = &set;
		w[i].owner = owner;
		w[i].id = i + 1;
		w[i].rng = 0x9e3779b97f4a7c15ull * (i + 1);
		assert_int_equal(pthread_create(&w[i].th, NULL, worker_main,
						&w[i]),
				 0);
	}
	sleep_ms(ms);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < threads; i++)
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
	passes = xpshim_scribbler_stop();
	/* The peer really wrote while the threads ran. */
	assert_true(passes >= 1);
	for (i = 0; i < threads; i++) {
		assert_true(w[i].rounds > 0);
		assert_int_equal(w[i].bad, 0);
	}
	for (i = 0; i < mp->size; i++)
		assert_int_equal(owner[i], 0);
	free(owner);
	tu_objset_fini(&set);
}

static void test_hostile_peer(void **state)
{
	struct xp_mempool *mp;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 31);
	xt_shim_reset();
	mp = xt_create_ok(2048, 128, 64, 0, "peer=7,batch=16");
	hostile_run(mp, THREADS, tu_scaled(1500, 300));
	/* The exited threads' caches are back. */
	assert_int_equal(xp_mempool_audit(mp), 0);
	assert_int_equal(xp_mempool_avail_count(mp), mp->size);
	tu_check_all_free(mp);
	xt_check_pool(mp, 31);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

/* Debug mode sees nothing wrong either: the peer's writes are no puts. */
static void test_hostile_peer_debug(void **state)
{
	struct xp_mempool_debug_stats st;
	struct xp_mempool *mp;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_NONE, 1, 1);
	xt_shim_reset();
	mp = xt_create_ok(512, 200, 0, XP_MEMPOOL_F_DEBUG, "peer=7,batch=8");
	hostile_run(mp, 2, tu_scaled(500, 100));
	assert_int_equal(xp_mempool_get_debug_stats(mp, &st), 0);
	assert_true(st.double_put == 0 && st.foreign_put == 0 &&
		    st.overrun == 0);
	assert_int_equal(xp_mempool_audit(mp), 0);
	tu_check_all_free(mp);
	xt_check_pool(mp, 32);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_peer),
		cmocka_unit_test(test_hostile_peer_debug),
	};

	return cmocka_run_group_tests(tests, xt_group_setup, NULL);
}
