/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: xenpool and DPDK 22.11 on the same work in one process.
 *
 * The driver (main.c and the files bench/driver.h lists) owns the rows,
 * the threads, the timing and the output; each library is a back end
 * (bench_xp.c, bench_dpdk.c) that creates what a row needs and runs one
 * thread's part of it.  Both back ends are compiled with the same flags,
 * so the inline fast paths of both libraries are built alike.
 */
#ifndef XP_BENCH_H
#define XP_BENCH_H

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Objects in every pool of the benchmark (2^12 - 1: DPDK's best ring fill;
 * enough for two threads each holding 512 objects and a full cache). */
#define BENCH_POOL_SIZE 4095u
/* Largest n_keep of a row, and the objects held by the virt2phy rows. */
#define BENCH_MAX_KEEP 512u
/*
 * The callers' arrays of the measured loops (the objects of a get, the
 * mbufs of an alloc) move by a few cache lines from one run to the next,
 * through a 4 KiB window, the same for both libraries in a given run.
 * Where such an array lies modulo 4 KiB relative to a library's own arrays
 * decides whether loads wait for unrelated stores that share their low 12
 * address bits ("4K aliasing"): with one placement for every run, what had
 * been allocated before a row would decide its figure (doc/performance.md,
 * "How it measures", has the figures).  bench_shift is the current offset
 * in pointers, a multiple of 8 below BENCH_SHIFT_SPAN.
 */
#define BENCH_SHIFT_SPAN 512u
extern unsigned int bench_shift;

/* Data room of the packet buffer rows (DPDK's RTE_MBUF_DEFAULT_BUF_SIZE). */
#define BENCH_MBUF_ROOM (2048u + 128u)

enum bench_kind {
	BK_POOL,     /* get n_keep objects in bulks, put them back in bulks */
	BK_PRODCONS, /* role 0 gets and passes objects on, role 1 puts them */
	BK_HANDLER,  /* no cache: straight through the handler (ops) */
	BK_RING,     /* the bare ring, without a pool */
	BK_V2P_POOL, /* virt2phy against rte_mempool_virt2iova */
	BK_V2P_MEM,  /* virt2phy against rte_mem_virt2iova */
	BK_MBUF,     /* packet buffer alloc_bulk + free_bulk */
	BK_TXC,      /* get a constant 32, put it back in runtime counts */
	BK_MEMCPY,   /* the floor: memcpy of the bursts out and back */
};

struct bench_row {
	char name[40];
	enum bench_kind kind;
	unsigned int cache;   /* cache_size of the pool */
	unsigned int bulk;    /* objects per get and per put */
	unsigned int keep;    /* objects held before putting back */
	unsigned int elt;     /* element size */
	unsigned int threads; /* 1 or 2 */
	unsigned int rt;      /* 1: bulk known only at run time */
	int fill;             /* cache fill at entry: -1 any, 0 even, 1 odd */
};

/* Memory of one pool, as the back end computes it from its structures. */
struct bench_mem {
	double obj_bytes;     /* per object: header + element + trailer */
	unsigned int hdr_bytes, elt_bytes, trl_bytes;
	double slot_bytes;    /* per object: the handler's ring slot */
	size_t objects;       /* per pool: object memory */
	size_t ring;          /* per pool: the handler's ring */
	size_t pool;          /* per pool: the pool structure */
	size_t caches;        /* per pool: cache memory */
	unsigned int ncaches; /* caches allocated */
	size_t cache_each;    /* bytes of one cache */
	size_t mapped;        /* mapped outside the allocator heap_used sees */
};

/* A library under test.  run() does @iters iterations of @role's part of
 * the row (see the row kinds); it returns 0 or a negative errno. */
struct bench_lib {
	const char *name;
	void *(*prepare)(const struct bench_row *row);
	int (*run)(void *ctx, unsigned int role, uint64_t iters);
	void (*release)(void *ctx);
	/* Fill @m for a pool made by prepare() (BK_POOL) and used since. */
	void (*memory)(void *ctx, struct bench_mem *m);
	/* Bytes the library's allocator has handed out so far (0: unknown;
	 * sanitizers replace malloc and keep their own accounts). */
	uint64_t (*heap_used)(void);
};

extern const struct bench_lib bench_xp_lib;
#ifdef XP_HAVE_DPDK
extern const struct bench_lib bench_dpdk_lib;
/* EAL started as the benchmark needs it on @cpu; 0 or -1. */
int bench_dpdk_init(unsigned int cpu, int verbose);
void bench_dpdk_fini(void);
const char *bench_dpdk_version(void);
const char *bench_dpdk_eal_args(void);
int bench_dpdk_iova_va(void);
/* Give the calling (non-EAL) thread an lcore id, so it has caches. */
int bench_dpdk_thread_register(void);
void bench_dpdk_thread_unregister(void);
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BENCH_SANITIZED 1
#endif
#endif
#ifndef BENCH_SANITIZED
#define BENCH_SANITIZED 0
#endif

/* Context memory outside the allocators whose use the memory rows measure. */
void *bench_ctx_alloc(size_t size);
void bench_ctx_free(void *p, size_t size);

/* Keeps the results of loops whose only output is a value. */
extern volatile uint64_t bench_sink;

/* The loops are inlined into the switch that picks their bulk size. */
#define BENCH_INLINE static inline __attribute__((always_inline))

/*
 * Calls fn(..., b) with b a constant for the bulk sizes of the rows, so the
 * fast paths are compiled for a constant size as in real callers (a PMD's
 * burst of 32); any other size goes through the variable version.
 */
#define BENCH_BULK_CALL(b, fn, ...)                                           \
	((b) == 1 ? fn(__VA_ARGS__, 1) :                                      \
	 (b) == 4 ? fn(__VA_ARGS__, 4) :                                      \
	 (b) == 32 ? fn(__VA_ARGS__, 32) : fn(__VA_ARGS__, (b)))

/*
 * The same with the sizes of the burst rows (doc/performance.md, "Burst
 * shapes"), for the rows whose bulk is a constant.
 */
#define BENCH_BURST_CALL(b, fn, ...)                                          \
	((b) == 1 ? fn(__VA_ARGS__, 1) :                                      \
	 (b) == 2 ? fn(__VA_ARGS__, 2) :                                      \
	 (b) == 4 ? fn(__VA_ARGS__, 4) :                                      \
	 (b) == 8 ? fn(__VA_ARGS__, 8) :                                      \
	 (b) == 13 ? fn(__VA_ARGS__, 13) :                                    \
	 (b) == 16 ? fn(__VA_ARGS__, 16) :                                    \
	 (b) == 31 ? fn(__VA_ARGS__, 31) :                                    \
	 (b) == 32 ? fn(__VA_ARGS__, 32) :                                    \
	 (b) == 64 ? fn(__VA_ARGS__, 64) : fn(__VA_ARGS__, (b)))

/*
 * Runtime bursts: the loops of the rt rows are functions of their own that
 * the compiler may neither inline nor clone for a known argument, and the
 * bulk reaches them through a volatile read, so nothing is specialised for
 * it -- as in an application whose count comes from a receive call.
 */
#define BENCH_OPAQUE __attribute__((noinline, noclone))

static inline unsigned int bench_opaque(unsigned int v)
{
	volatile unsigned int x = v;

	return x;
}

/*
 * The transmit-completion rows put back what they got (a constant 32) in
 * runtime counts, this sequence over and over: every tenth of it sums to 32
 * (ten ways of splitting 32, from one put of 32 to eight puts of 4).  Writable,
 * so the compiler cannot read the counts at build time.
 */
#define BENCH_TXC_LEN 31u
extern unsigned int bench_txc_counts[BENCH_TXC_LEN];

/*
 * The floor of a burst of @n objects (BK_MEMCPY): what any pool must do at
 * least, copying 8n bytes out of its store and back with the C library's
 * memcpy, @n at run time.  The same function for both back ends.
 */
int bench_memcpy_loop(void **objs, unsigned int keep, uint64_t iters,
		      unsigned int n);

static inline void bench_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Spin politely while the other thread catches up: pause, and now and then
 * give the CPU away (two vCPUs may share a core). */
static inline void bench_wait_a_little(unsigned int *spins)
{
	bench_pause();
	if (++*spins % 1024u == 0)
		sched_yield();
}

/*
 * The single-producer single-consumer ring that carries objects from the
 * getting thread to the putting thread in the producer/consumer rows.  It
 * is the benchmark's own, the same for both libraries, so that only the
 * pools differ.
 */
#define BENCH_SPSC_SLOTS 1024u

struct bench_spsc {
	_Alignas(64) _Atomic uint32_t head; /* written by the producer */
	_Alignas(64) _Atomic uint32_t tail; /* written by the consumer */
	_Alignas(64) void *slot[BENCH_SPSC_SLOTS];
};

/* Enqueue all @n or nothing; returns 1 or 0. */
static inline int bench_spsc_put(struct bench_spsc *q, void *const *objs,
				 unsigned int n)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	/* Acquire pairs with the consumer's release of tail: the slots it
	 * emptied are no longer read when we overwrite them. */
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
	unsigned int i;

	if (BENCH_SPSC_SLOTS - (h - t) < n)
		return 0;
	for (i = 0; i < n; i++)
		q->slot[(h + i) & (BENCH_SPSC_SLOTS - 1)] = objs[i];
	/* Release pairs with the consumer's acquire of head. */
	atomic_store_explicit(&q->head, h + n, memory_order_release);
	return 1;
}

/* Dequeue all @n or nothing; returns 1 or 0. */
static inline int bench_spsc_get(struct bench_spsc *q, void **objs,
				 unsigned int n)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	/* Acquire pairs with the producer's release of head. */
	uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
	unsigned int i;

	if (h - t < n)
		return 0;
	for (i = 0; i < n; i++)
		objs[i] = q->slot[(t + i) & (BENCH_SPSC_SLOTS - 1)];
	/* Release pairs with the producer's acquire of tail. */
	atomic_store_explicit(&q->tail, t + n, memory_order_release);
	return 1;
}

#endif /* XP_BENCH_H */
