/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool: command-line front end of libxenpool.
 *
 *   xenpool handlers      list the registered handlers
 *   xenpool demo [...]    run a get/put workload on a pool and audit it
 *   xenpool mbuf [...]    run an RX/TX-like loop on a packet buffer pool
 *   xenpool chunks [...]  show where a pool's objects live (chunks.c)
 *
 * Exit status: 0 on success, 1 when the library reports a failure (a pool
 * that cannot be created, an audit that fails), 2 on bad usage.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenpool/xenpool.h>

#include "../src/number.h"
#include "cli.h"

/* Limits of the demo's other knobs. */
#define DEMO_MAX_THREADS  256
#define DEMO_MAX_SECONDS  3600
#define DEMO_MAX_BULK	  1024

#define DEMO_POOL_NAME "xenpool-demo"

/* The mbuf loop: bursts as a driver's RX and TX see them. */
#define MBUF_POOL_NAME "xenpool-mbuf"
#define MBUF_BURST     32
#define MBUF_CHAINED   4  /* pairs chained per burst */
#define MBUF_CLONED    4  /* packets cloned per burst */
#define MBUF_FILL      64 /* bytes written into each packet, at most */
/* A burst and its clones must fit. */
#define MBUF_MIN_OBJS  (MBUF_BURST + MBUF_CLONED)

struct demo_opts {
	const char *handler;
	const char *args;
	unsigned int n;
	unsigned int elt_size;
	unsigned int cache;
	unsigned int threads;
	unsigned int seconds;
	unsigned int bulk;
	unsigned int flags;
};

/*
 * Start and stop signals of the workers.  Relaxed is enough: no data is
 * handed over through them, and the results are read after pthread_join(),
 * which orders everything the workers wrote.
 */
static struct {
	atomic_int go;
	atomic_int stop;
} run;

struct worker {
	pthread_t tid;
	struct xp_mempool *mp;
	unsigned int bulk;
	int read_only;   /* read the objects, never write them */
	uint64_t ops;    /* objects got plus objects put */
	uint64_t misses; /* gets refused with -ENOENT */
};

const char *progname = "xenpool";

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: %s [--help | --version] COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  handlers        list the registered mempool handlers\n"
		"  demo            run a get/put workload on a pool, audit it\n"
		"  mbuf            run an RX/TX-like loop on packet buffers\n"
		"  chunks          show where a pool's objects live\n"
		"  help [COMMAND]  show this help, or a command's\n"
		"\n"
		"Options:\n"
		"  -h, --help      show this help\n"
		"  -V, --version   show the version of the tool and library\n"
		"\n"
		"Environment: XENPOOL_LOG (log level),\n"
		"XENPOOL_DEFAULT_HANDLER (default handler),\n"
		"XENPOOL_DEBUG=1 (pools in debug mode).\n",
		progname);
}

static void usage_handlers(FILE *f)
{
	fprintf(f,
		"Usage: %s handlers\n"
		"\n"
		"List the registered mempool handlers in registration\n"
		"order with their flags; '*' marks the process default.\n",
		progname);
}

static void usage_demo(FILE *f)
{
	fprintf(f,
		"Usage: %s demo [OPTIONS]\n"
		"\n"
		"Create a pool; run T threads that, for S seconds, get a\n"
		"bulk of 1 to B objects, write to each (read each, on a\n"
		"pool this process may only read) and put them back;\n"
		"print the throughput, audit the pool and dump it.\n"
		"\n"
		"  -H, --handler NAME  handler serving the pool (default: the\n"
		"                      process default)\n"
		"  -a, --args ARGS     handler argument string\n"
		"  -n, --count N       objects in the pool, 1-%u (8191)\n"
		"  -e, --elt-size S    bytes per object, 1-%u (64)\n"
		"  -c, --cache C       per-thread cache size, 0-%u (256)\n"
		"  -t, --threads T     worker threads, 1-%u (2)\n"
		"  -s, --seconds S     run time, 1-%u (1)\n"
		"  -b, --bulk B        largest bulk, 1-%u and at most N (32)\n"
		"  -d, --debug         create the pool in debug mode\n"
		"  -h, --help          show this help\n",
		progname, DEMO_MAX_OBJS, DEMO_MAX_ELT_SIZE,
		XP_MEMPOOL_CACHE_MAX_SIZE, DEMO_MAX_THREADS, DEMO_MAX_SECONDS,
		DEMO_MAX_BULK);
}

static void usage_mbuf(FILE *f)
{
	fprintf(f,
		"Usage: %s mbuf [OPTIONS]\n"
		"\n"
		"Create a packet buffer pool; for S seconds, take bursts\n"
		"of %u mbufs, write into each (read, when this process may\n"
		"only read the rooms), chain %u pairs, clone %u packets,\n"
		"check every chain and free the burst; print the rate,\n"
		"whether the headers are kept apart from the rooms, and\n"
		"audit the pool.\n"
		"\n"
		"  -H, --handler NAME    handler of the rooms (default: the\n"
		"                        process default)\n"
		"  -a, --args ARGS       handler argument string\n"
		"  -n, --count N         mbufs in the pool, %u-%u (8191)\n"
		"  -r, --data-room S     bytes of each room, headroom\n"
		"                        included, %u-%u (2048)\n"
		"  -c, --cache C         per-thread cache size, 0-%u (256)\n"
		"  -s, --seconds S       run time, 1-%u (1)\n"
		"  -h, --help            show this help\n",
		progname, MBUF_BURST, MBUF_CHAINED, MBUF_CLONED, MBUF_MIN_OBJS,
		DEMO_MAX_OBJS, XP_PKTMBUF_HEADROOM, UINT16_MAX,
		XP_MEMPOOL_CACHE_MAX_SIZE, DEMO_MAX_SECONDS);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", progname, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s%s--help'.\n", progname, cmd ? cmd : "",
		cmd ? " " : "");
	return EXIT_USAGE;
}

/* A decimal number in [min, max]: 0, -EINVAL or -ERANGE (src/number.h). */
static int parse_uint(const char *s, unsigned int min, unsigned int max,
		      unsigned int *out)
{
	uint64_t v;
	int ret = xp__parse_u64(s, min, max, &v);

	if (ret == 0)
		*out = (unsigned int)v;
	return ret;
}

int cmd_number(const char *cmd, const char *opt, const char *s,
	       unsigned int min, unsigned int max, unsigned int *out)
{
	int ret = parse_uint(s, min, max, out);

	if (ret == 0)
		return 0;
	return usage_error(cmd, "%s '%s': %s (expected %u to %u)", opt, s,
			   ret == -ERANGE ? "out of range" : "not a number",
			   min, max);
}

static int demo_number(const char *opt, const char *s, unsigned int min,
		       unsigned int max, unsigned int *out)
{
	return cmd_number("demo", opt, s, min, max, out);
}

int getopt_error(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];
	char shortopt[3] = {'-', (char)optopt, '\0'};

	/* A short option may sit in a cluster ("-dx"): name it alone. */
	if (strncmp(arg, "--", 2) != 0)
		arg = shortopt;
	if (c == ':')
		return usage_error(cmd, "option '%s' needs an argument", arg);
	return usage_error(cmd, "unknown option '%s'", arg);
}

/* ---- handlers -------------------------------------------------------- */

/* Flag names, comma-separated, or "-"; unknown bits in hex so nothing
 * is hidden. */
static const char *flags_str(char *buf, size_t len, unsigned int flags)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{XP_MEMPOOL_OPS_F_SHARED_MEM, "shared-mem"},
		{XP_MEMPOOL_OPS_F_SP_PUT, "sp-put"},
		{XP_MEMPOOL_OPS_F_SC_GET, "sc-get"},
	};
	unsigned int i, unknown = flags & ~XP_MEMPOOL_OPS_F_MASK;
	size_t used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? "," : "",
						 names[i].name);
	if (unknown != 0)
		snprintf(buf + used, len - used, "%s0x%x", used ? "," : "",
			 unknown);
	else if (used == 0)
		snprintf(buf, len, "-");
	return buf;
}

/* Wide enough for the usual names; a longer one shifts its own line only. */
#define NAME_COLUMN 16

static int print_handler(const struct xp_mempool_ops *ops, void *arg)
{
	const char *def = arg;
	char flags[32];

	printf("%c %-*s %s\n", strcmp(ops->name, def) ? ' ' : '*',
	       NAME_COLUMN, ops->name,
	       flags_str(flags, sizeof(flags), ops->flags));
	return 0;
}

static int handlers_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 0; /* glibc: rescan from argv[1] with a fresh state */
	c = getopt_long(argc, argv, "h", longopts, NULL);
	if (c == 'h') {
		usage_handlers(stdout);
		return 0;
	}
	if (c != -1)
		return getopt_error("handlers", c, argv);
	if (optind < argc)
		return usage_error("handlers", "unexpected argument '%s'",
				   argv[optind]);
	return PARSE_GO;
}

static int cmd_handlers(int argc, char **argv)
{
	const char *def = xp_mempool_get_def_handler();
	int ret = handlers_parse(argc, argv);

	if (ret != PARSE_GO)
		return ret;
	printf("  %-*s %s\n", NAME_COLUMN, "NAME", "FLAGS");
	xp_mempool_handler_walk(print_handler, (void *)def);
	printf("(* default)\n");
	if (xp_mempool_handler_lookup(def) == NULL) {
		fprintf(stderr,
			"%s: the default handler '%s' "
			"(XENPOOL_DEFAULT_HANDLER) is not registered\n",
			progname, def);
		return EXIT_FAILURE;
	}
	return 0;
}

/* ---- pools this process may only read -------------------------------- */

/* How this process may touch a pool's objects. */
struct access {
	int read_only; /* read them, never write them */
	char how[96];  /* for the report's "access" line */
};

/* Whether the tool may write the objects, and how the handler says
 * their memory is (xen_dom0's map mode with writable=0: read-only). */
static void pool_access(const struct xp_mempool *mp, struct access *a)
{
	struct xp_mempool_access acc;

	if (xp_mempool_access(mp, &acc) != 0) {
		acc.writable = 1;
		snprintf(acc.how, sizeof(acc.how), "read-write");
	}
	a->read_only = !acc.writable;
	snprintf(a->how, sizeof(a->how), "%s", acc.how);
}

/* Is @p key one of the keys of handler argument string @p args? */
static int args_have_key(const char *args, const char *key)
{
	size_t len = strlen(key);
	const char *p = args;

	for (;;) {
		if (strncmp(p, key, len) == 0 && p[len] == '=')
			return 1;
		p = strchr(p, ',');
		if (p == NULL)
			return 0;
		p++;
	}
}

/* ---- demo: options --------------------------------------------------- */

static const struct option demo_longopts[] = {
	{"handler", required_argument, NULL, 'H'},
	{"args", required_argument, NULL, 'a'},
	{"count", required_argument, NULL, 'n'},
	{"elt-size", required_argument, NULL, 'e'},
	{"cache", required_argument, NULL, 'c'},
	{"threads", required_argument, NULL, 't'},
	{"seconds", required_argument, NULL, 's'},
	{"bulk", required_argument, NULL, 'b'},
	{"debug", no_argument, NULL, 'd'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int demo_parse_number(int c, struct demo_opts *o)
{
	switch (c) {
	case 'n':
		return demo_number("-n", optarg, 1, DEMO_MAX_OBJS, &o->n);
	case 'e':
		return demo_number("--elt-size", optarg, 1, DEMO_MAX_ELT_SIZE,
				   &o->elt_size);
	case 'c':
		return demo_number("--cache", optarg, 0,
				   XP_MEMPOOL_CACHE_MAX_SIZE, &o->cache);
	case 't':
		return demo_number("--threads", optarg, 1, DEMO_MAX_THREADS,
				   &o->threads);
	case 's':
		return demo_number("--seconds", optarg, 1, DEMO_MAX_SECONDS,
				   &o->seconds);
	default:
		return demo_number("--bulk", optarg, 1, DEMO_MAX_BULK,
				   &o->bulk);
	}
}

/* Returns PARSE_GO when the option was taken, else the exit status. */
static int demo_parse_opt(int c, struct demo_opts *o, char **argv)
{
	switch (c) {
	case 'H':
		o->handler = optarg;
		return PARSE_GO;
	case 'a':
		o->args = optarg;
		return PARSE_GO;
	case 'd':
		o->flags |= XP_MEMPOOL_F_DEBUG;
		return PARSE_GO;
	case 'n':
	case 'e':
	case 'c':
	case 't':
	case 's':
	case 'b':
		return demo_parse_number(c, o) ? EXIT_USAGE : PARSE_GO;
	case 'h':
		usage_demo(stdout);
		return 0;
	default:
		return getopt_error("demo", c, argv);
	}
}

/*
 * A handler flagged single-producer or single-consumer takes one putting
 * (getting) thread at a time; every worker gets and puts, so such a
 * handler takes a single worker.  An unknown name is left to the creation
 * to report.
 */
static int demo_check_threads(const struct demo_opts *o)
{
	const char *name = o->handler ? o->handler :
					xp_mempool_get_def_handler();
	const struct xp_mempool_ops *ops = xp_mempool_handler_lookup(name);

	if (o->threads > 1 && ops != NULL &&
	    (ops->flags & (XP_MEMPOOL_OPS_F_SP_PUT | XP_MEMPOOL_OPS_F_SC_GET)))
		return usage_error("demo",
				   "handler '%s' allows one putting or getting "
				   "thread at a time: use --threads 1",
				   name);
	return PARSE_GO;
}

static int demo_parse(int argc, char **argv, struct demo_opts *o)
{
	int c, ret;

	opterr = 0;
	optind = 0; /* glibc: rescan from argv[1] with a fresh state */
	while ((c = getopt_long(argc, argv, ":H:a:n:e:c:t:s:b:dh",
				demo_longopts, NULL)) != -1) {
		ret = demo_parse_opt(c, o, argv);
		if (ret != PARSE_GO)
			return ret;
	}
	if (optind < argc)
		return usage_error("demo", "unexpected argument '%s'",
				   argv[optind]);
	if (o->bulk > o->n)
		return usage_error("demo",
				   "--bulk %u is larger than the pool (-n %u)",
				   o->bulk, o->n);
	return demo_check_threads(o);
}

/* ---- demo: workload -------------------------------------------------- */

/*
 * Write a byte of each object, so that a pool handing out bad memory faults
 * here; only read it from a pool this process may not write.
 */
static void touch(void *const *objs, unsigned int n, int read_only)
{
	unsigned int i;

	if (read_only)
		for (i = 0; i < n; i++)
			(void)*(volatile const unsigned char *)objs[i];
	else
		for (i = 0; i < n; i++)
			*(volatile unsigned char *)objs[i] = (unsigned char)i;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void *objs[DEMO_MAX_BULK];
	uint64_t ops = 0, misses = 0;
	unsigned int k = 0;

	while (!atomic_load_explicit(&run.go, memory_order_relaxed))
		sched_yield();
	while (!atomic_load_explicit(&run.stop, memory_order_relaxed)) {
		k = k % w->bulk + 1;
		if (xp_mempool_get_bulk(w->mp, objs, k) != 0) {
			misses++;
			continue;
		}
		touch(objs, k, w->read_only);
		xp_mempool_put_bulk(w->mp, objs, k);
		ops += 2 * (uint64_t)k;
	}
	w->ops = ops;
	w->misses = misses;
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(unsigned int seconds)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += seconds;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) ==
	       EINTR)
		;
}

/* Returns the elapsed time, or a negative value if a thread did not start. */
static double demo_workload(struct worker *w, unsigned int threads,
			    unsigned int seconds)
{
	unsigned int i, started;
	double start;
	int ret = 0;

	atomic_store_explicit(&run.go, 0, memory_order_relaxed);
	atomic_store_explicit(&run.stop, 0, memory_order_relaxed);
	for (started = 0; started < threads; started++) {
		ret = pthread_create(&w[started].tid, NULL, worker_main,
				     &w[started]);
		if (ret != 0)
			break;
	}
	start = now();
	atomic_store_explicit(&run.go, 1, memory_order_relaxed);
	if (ret == 0)
		sleep_seconds(seconds);
	atomic_store_explicit(&run.stop, 1, memory_order_relaxed);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	if (ret == 0)
		return now() - start;
	fprintf(stderr, "%s demo: cannot start thread %u of %u: %s\n",
		progname, started + 1, threads, strerror(ret));
	return -1.0;
}

static void demo_report(const struct xp_mempool *mp,
			const struct demo_opts *o, const struct access *a,
			const struct worker *w, double elapsed)
{
	uint64_t ops = 0, misses = 0;
	unsigned int i;

	for (i = 0; i < o->threads; i++) {
		ops += w[i].ops;
		misses += w[i].misses;
	}
	printf("pool        %s: %u objects of %u bytes, cache %u%s\n",
	       mp->name, mp->size, o->elt_size, mp->cache_size,
	       mp->flags & XP_MEMPOOL_F_DEBUG ? ", debug" : "");
	printf("handler     %s\n", xp_mempool_handler_name(mp));
	printf("access      %s%s\n", a->how,
	       a->read_only ? ": objects read, not written" : "");
	printf("workload    %u thread(s), bulk 1-%u, %.3f s\n", o->threads,
	       o->bulk, elapsed);
	printf("throughput  %.2f Mops/s total, %.2f Mops/s per thread\n",
	       (double)ops / elapsed / 1e6,
	       (double)ops / elapsed / 1e6 / o->threads);
	for (i = 0; i < o->threads; i++)
		printf("  thread %-3u %.2f Mops/s, %llu empty gets\n", i,
		       (double)w[i].ops / elapsed / 1e6,
		       (unsigned long long)w[i].misses);
	printf("empty gets  %llu (-ENOENT)\n", (unsigned long long)misses);
	printf("avail       %u\n", xp_mempool_avail_count(mp));
	printf("in use      %u\n", xp_mempool_in_use_count(mp));
}

/*
 * Every worker put back what it got and has exited, which returns its cache
 * to the pool: anything still in use, or an audit failure, is a bug.
 */
static int demo_check(struct xp_mempool *mp)
{
	unsigned int in_use = xp_mempool_in_use_count(mp);
	int ret = xp_mempool_audit(mp);

	if (ret == 0)
		printf("audit       clean\n");
	else
		printf("audit       FAILED: %s\n", strerror(-ret));
	if (in_use != 0)
		fprintf(stderr, "%s demo: %u objects lost after the workload\n",
			progname, in_use);
	return ret == 0 && in_use == 0 ? 0 : EXIT_FAILURE;
}

void create_failed(const char *cmd, const char *what, const char *handler,
		   const char *args, int err)
{
	fprintf(stderr,
		"%s %s: cannot create a pool of %s, on handler '%s'%s%s%s: "
		"%s\n",
		progname, cmd, what,
		handler ? handler : xp_mempool_get_def_handler(),
		args ? " with args '" : "", args ? args : "", args ? "'" : "",
		strerror(err));
	if (err == ENOENT)
		fprintf(stderr, "Try '%s handlers' for the list.\n", progname);
	/* xen_dom0 maps a read-only grant only when asked to map read-only;
	 * Linux's gntdev refuses every mapping with EINVAL, bad refs too. */
	if (err == EINVAL && args != NULL && args_have_key(args, "map"))
		fprintf(stderr, "If the guest granted its pages read-only, "
				"add writable=0.\n");
}

static struct xp_mempool *demo_create(const struct demo_opts *o)
{
	struct xp_mempool *mp;
	char what[96];
	int err;

	mp = xp_mempool_create_ex(DEMO_POOL_NAME, o->n, o->elt_size, o->cache,
				  0, NULL, NULL, o->flags, o->handler, o->args);
	if (mp != NULL)
		return mp;
	err = errno;
	snprintf(what, sizeof(what), "%u objects of %u bytes, cache %u", o->n,
		 o->elt_size, o->cache);
	create_failed("demo", what, o->handler, o->args, err);
	return NULL;
}

static int cmd_demo(int argc, char **argv)
{
	struct demo_opts o = {
		.n = 8191,
		.elt_size = 64,
		.cache = 256,
		.threads = 2,
		.seconds = 1,
		.bulk = 32,
	};
	struct xp_mempool *mp;
	struct access acc;
	struct worker *w;
	double elapsed;
	unsigned int i;
	int ret;

	ret = demo_parse(argc, argv, &o);
	if (ret != PARSE_GO)
		return ret;
	mp = demo_create(&o);
	if (mp == NULL)
		return EXIT_FAILURE;
	w = calloc(o.threads, sizeof(*w));
	if (w == NULL) {
		fprintf(stderr, "%s demo: %s\n", progname, strerror(ENOMEM));
		xp_mempool_free(mp);
		return EXIT_FAILURE;
	}
	pool_access(mp, &acc);
	for (i = 0; i < o.threads; i++) {
		w[i].mp = mp;
		w[i].bulk = o.bulk;
		w[i].read_only = acc.read_only;
	}
	elapsed = demo_workload(w, o.threads, o.seconds);
	if (elapsed < 0) {
		ret = EXIT_FAILURE;
	} else {
		demo_report(mp, &o, &acc, w, elapsed);
		ret = demo_check(mp);
		xp_mempool_dump(stdout, mp);
	}
	free(w);
	xp_mempool_free(mp);
	return ret;
}

/* ---- mbuf: options --------------------------------------------------- */

struct mbuf_opts {
	const char *handler;
	const char *args;
	unsigned int n;
	unsigned int data_room;
	unsigned int cache;
	unsigned int seconds;
};

static const struct option mbuf_longopts[] = {
	{"handler", required_argument, NULL, 'H'},
	{"args", required_argument, NULL, 'a'},
	{"count", required_argument, NULL, 'n'},
	{"data-room", required_argument, NULL, 'r'},
	{"cache", required_argument, NULL, 'c'},
	{"seconds", required_argument, NULL, 's'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Returns PARSE_GO when the option was taken, else the exit status. */
static int mbuf_parse_opt(int c, struct mbuf_opts *o, char **argv)
{
	switch (c) {
	case 'H':
		o->handler = optarg;
		return PARSE_GO;
	case 'a':
		o->args = optarg;
		return PARSE_GO;
	case 'n':
		return cmd_number("mbuf", "-n", optarg, MBUF_MIN_OBJS,
				  DEMO_MAX_OBJS, &o->n) ? EXIT_USAGE
							: PARSE_GO;
	case 'r':
		return cmd_number("mbuf", "--data-room", optarg,
				  XP_PKTMBUF_HEADROOM, UINT16_MAX,
				  &o->data_room) ? EXIT_USAGE : PARSE_GO;
	case 'c':
		return cmd_number("mbuf", "--cache", optarg, 0,
				  XP_MEMPOOL_CACHE_MAX_SIZE, &o->cache)
			       ? EXIT_USAGE
			       : PARSE_GO;
	case 's':
		return cmd_number("mbuf", "--seconds", optarg, 1,
				  DEMO_MAX_SECONDS, &o->seconds)
			       ? EXIT_USAGE
			       : PARSE_GO;
	case 'h':
		usage_mbuf(stdout);
		return 0;
	default:
		return getopt_error("mbuf", c, argv);
	}
}

static int mbuf_parse(int argc, char **argv, struct mbuf_opts *o)
{
	int c, ret;

	opterr = 0;
	optind = 0; /* glibc: rescan from argv[1] with a fresh state */
	while ((c = getopt_long(argc, argv, ":H:a:n:r:c:s:h", mbuf_longopts,
				NULL)) != -1) {
		ret = mbuf_parse_opt(c, o, argv);
		if (ret != PARSE_GO)
			return ret;
	}
	if (optind < argc)
		return usage_error("mbuf", "unexpected argument '%s'",
				   argv[optind]);
	return PARSE_GO;
}

/* ---- mbuf: the loop ---------------------------------------------------- */

struct mbuf_stats {
	uint64_t bursts;
	uint64_t chained;
	uint64_t cloned; /* chains and clones are each checked once */
	uint64_t bad;   /* chains the check refused, chaining that failed */
	uint64_t empty; /* bursts or clones refused for want of mbufs */
};

/*
 * Append up to MBUF_FILL bytes to each packet and write a pattern into
 * them, as a NIC would on RX; in rooms this process may only read, read
 * them instead, as a TX path reads what a guest granted.
 */
static void mbuf_fill(struct xp_mbuf **pkts, uint64_t burst, int read_only)
{
	unsigned int i, j;

	for (i = 0; i < MBUF_BURST; i++) {
		uint16_t room = xp_pktmbuf_tailroom(pkts[i]);
		uint16_t len = room < MBUF_FILL ? room : MBUF_FILL;
		char *p = xp_pktmbuf_append(pkts[i], len);

		if (p == NULL)
			continue;
		if (read_only)
			for (j = 0; j < len; j++)
				(void)((volatile const char *)p)[j];
		else
			memset(p, (int)(burst + i), len);
	}
}

static void mbuf_check(const struct xp_mbuf *m, struct mbuf_stats *st)
{
	if (xp_pktmbuf_check(m) != 0)
		st->bad++;
}

/*
 * One burst: take MBUF_BURST mbufs at once (all or nothing), fill them,
 * chain the first pairs (the second of each pair leaves the burst array:
 * it is freed with its chain), clone the next packets, check the chains
 * and clones, free everything in bulk.
 */
static void mbuf_burst(struct xp_mempool *mp, int read_only,
		       struct mbuf_stats *st)
{
	struct xp_mbuf *pkts[MBUF_BURST], *clones[MBUF_CLONED];
	unsigned int i;

	if (xp_pktmbuf_alloc_bulk(mp, pkts, MBUF_BURST) != 0) {
		st->empty++;
		return;
	}
	mbuf_fill(pkts, st->bursts, read_only);
	for (i = 0; i < 2 * MBUF_CHAINED; i += 2) {
		if (xp_pktmbuf_chain(pkts[i], pkts[i + 1]) != 0) {
			st->bad++;
			continue;
		}
		pkts[i + 1] = NULL;
		st->chained++;
		mbuf_check(pkts[i], st);
	}
	for (i = 0; i < MBUF_CLONED; i++) {
		clones[i] = xp_pktmbuf_clone(pkts[2 * MBUF_CHAINED + i], mp);
		if (clones[i] == NULL) {
			st->empty++;
			continue;
		}
		st->cloned++;
		mbuf_check(clones[i], st);
	}
	xp_pktmbuf_free_bulk(pkts, MBUF_BURST);
	xp_pktmbuf_free_bulk(clones, MBUF_CLONED);
	st->bursts++;
}

/* Bursts for @seconds; returns the elapsed time. */
static double mbuf_loop(struct xp_mempool *mp, unsigned int seconds,
			int read_only, struct mbuf_stats *st)
{
	double start = now(), elapsed;
	unsigned int i;

	do {
		/* Reading the clock costs a burst's time: not every time. */
		for (i = 0; i < 64; i++)
			mbuf_burst(mp, read_only, st);
		elapsed = now() - start;
	} while (elapsed < seconds);
	return elapsed;
}

static struct xp_mempool *mbuf_create(const struct mbuf_opts *o)
{
	struct xp_mempool *mp;
	char what[96];
	int err;

	mp = xp_pktmbuf_pool_create_ex(MBUF_POOL_NAME, o->n, o->cache, 0,
				       (uint16_t)o->data_room, o->handler,
				       o->args);
	if (mp != NULL)
		return mp;
	err = errno;
	snprintf(what, sizeof(what), "%u mbufs with rooms of %u bytes, cache %u",
		 o->n, o->data_room, o->cache);
	create_failed("mbuf", what, o->handler, o->args, err);
	return NULL;
}

/* The pool of the rooms: a pool of its own when split, else the mbufs'. */
static struct xp_mempool *mbuf_rooms(struct xp_mempool *mp)
{
	const struct xp_pktmbuf_pool_private *p = xp_mempool_get_priv(mp);

	return p->split ? p->room_pool : mp;
}

static void mbuf_report(struct xp_mempool *mp, const struct access *a,
			const struct mbuf_stats *st, double elapsed)
{
	const struct xp_pktmbuf_pool_private *p = xp_mempool_get_priv(mp);
	const struct xp_mempool *rooms = mbuf_rooms(mp);

	printf("pool        %s: %u mbufs, data room %u, cache %u%s\n",
	       mp->name, mp->size, xp_pktmbuf_data_room_size(mp),
	       mp->cache_size, mp->flags & XP_MEMPOOL_F_DEBUG ? ", debug" : "");
	printf("handler     %s\n", xp_mempool_handler_name(rooms));
	if (p->split)
		printf("headers     split: private memory (%s), rooms in %s "
		       "(%s)\n",
		       xp_mempool_handler_name(mp), rooms->name,
		       xp_mempool_handler_name(rooms));
	else
		printf("headers     with the rooms: one %zu-byte object per "
		       "mbuf\n",
		       mp->elt_size);
	printf("access      rooms %s%s\n", a->how,
	       a->read_only ? ": payload read, not written" : "");
	printf("workload    bursts of %u, %llu chains, %llu clones, %.3f s\n",
	       MBUF_BURST, (unsigned long long)st->chained,
	       (unsigned long long)st->cloned, elapsed);
	printf("rate        %.2f Mpps\n",
	       (double)st->bursts * MBUF_BURST / elapsed / 1e6);
	printf("checks      %llu, %llu bad\n",
	       (unsigned long long)(st->chained + st->cloned),
	       (unsigned long long)st->bad);
	printf("empty       %llu (-ENOENT)\n", (unsigned long long)st->empty);
	printf("in use      %u\n", xp_mempool_in_use_count(mp));
}

/* Audit the headers' pool and, when split, the rooms' pool. */
static int mbuf_audit(struct xp_mempool *mp)
{
	const struct xp_pktmbuf_pool_private *p = xp_mempool_get_priv(mp);
	int ret = xp_mempool_audit(mp);

	if (ret == 0 && p->split)
		ret = xp_mempool_audit(p->room_pool);
	if (ret == 0)
		printf("audit       clean\n");
	else
		printf("audit       FAILED: %s\n", strerror(-ret));
	return ret;
}

static int cmd_mbuf(int argc, char **argv)
{
	struct mbuf_opts o = {
		.n = 8191,
		.data_room = 2048,
		.cache = 256,
		.seconds = 1,
	};
	struct mbuf_stats st = {0};
	struct xp_mempool *mp;
	struct access acc;
	unsigned int in_use;
	double elapsed;
	int ret;

	ret = mbuf_parse(argc, argv, &o);
	if (ret != PARSE_GO)
		return ret;
	mp = mbuf_create(&o);
	if (mp == NULL)
		return EXIT_FAILURE;
	pool_access(mbuf_rooms(mp), &acc);
	elapsed = mbuf_loop(mp, o.seconds, acc.read_only, &st);
	mbuf_report(mp, &acc, &st, elapsed);
	in_use = xp_mempool_in_use_count(mp);
	ret = mbuf_audit(mp);
	if (in_use != 0)
		fprintf(stderr, "%s mbuf: %u mbufs lost after the loop\n",
			progname, in_use);
	if (st.bad != 0)
		fprintf(stderr, "%s mbuf: %llu chains failed the check\n",
			progname, (unsigned long long)st.bad);
	if (st.bursts == 0)
		fprintf(stderr, "%s mbuf: no burst completed (the pool never "
				"had %u free mbufs)\n",
			progname, MBUF_BURST);
	xp_mempool_free(mp);
	return ret == 0 && in_use == 0 && st.bad == 0 && st.bursts > 0
		       ? 0
		       : EXIT_FAILURE;
}

/* ---- main ------------------------------------------------------------ */

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stdout);
		return 0;
	}
	if (argc > 2)
		return usage_error(NULL, "help: unexpected argument '%s'",
				   argv[2]);
	if (strcmp(argv[1], "handlers") == 0)
		usage_handlers(stdout);
	else if (strcmp(argv[1], "demo") == 0)
		usage_demo(stdout);
	else if (strcmp(argv[1], "mbuf") == 0)
		usage_mbuf(stdout);
	else if (strcmp(argv[1], "chunks") == 0)
		usage_chunks(stdout);
	else if (strcmp(argv[1], "help") == 0)
		usage_main(stdout);
	else
		return usage_error(NULL, "help: unknown command '%s'", argv[1]);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"handlers", cmd_handlers},
	{"demo", cmd_demo},
	{"mbuf", cmd_mbuf},
	{"chunks", cmd_chunks},
	{"help", cmd_help},
};

static int run_command(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(argc, argv);
	return usage_error(NULL, "unknown command '%s'", argv[0]);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	/* '+': stop at the command; its options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage_main(stdout);
			return 0;
		case 'V':
			printf("xenpool %s (libxenpool %s)\n", PACKAGE_VERSION,
			       xp_version());
			return 0;
		default:
			return getopt_error(NULL, c, argv);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "missing command (handlers, demo, "
					 "mbuf, chunks or help)");
	return run_command(argc - optind, argv + optind);
}
