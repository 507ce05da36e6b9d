/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulated hypervisor behind the stand-in Xen libraries, and the
 * control API of xpshim.h.
 *
 * Memory: every granted page lives in one memfd, the arena, so that the same
 * page can be mapped several times at once: by its granter (the local mapping
 * of xengntshr_share_pages), by its grantee (xengnttab_map_*, or a test's
 * xpshim_peer_map) and by the hypervisor itself (a backing's view, through
 * which the hostile peer writes).  One file rather than one per grant, so
 * that a thousand one-page shares do not use up the process's descriptors.
 * Arena offsets are never reused (a released page is punched out, which also
 * frees its memory): a page always starts zeroed, and a stale mapping never
 * aliases a newer grant.
 *
 * Grant tables: an array of entries per domain, created on first use; refs
 * below GNTTAB_NR_RESERVED_ENTRIES are never handed out, as in Xen.  An entry
 * points at its backing (the pages granted together); a backing lives while
 * any of its entries is in use.  An entry whose owner lets go (unshare) while
 * it is still mapped stays in use, as an orphan, until the last mapping goes:
 * Linux defers the release the same way.
 *
 * One mutex guards all of it: the shimmed functions are control-path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>

#include "xpshim.h"
#include "xpshim_int.h"

#define PAGE XPSHIM_PAGE_SIZE
#define REF_FIRST GNTTAB_NR_RESERVED_ENTRIES
#define MAX_TABLE_FRAMES 1024u
#define TABLE_NAME "xpshim-table-"

static const char *const fn_names[XPSHIM_FN_COUNT] = {
	[XPSHIM_FN_GNTSHR_OPEN] = "xengntshr_open",
	[XPSHIM_FN_GNTSHR_CLOSE] = "xengntshr_close",
	[XPSHIM_FN_GNTSHR_SHARE_PAGES] = "xengntshr_share_pages",
	[XPSHIM_FN_GNTSHR_UNSHARE] = "xengntshr_unshare",
	[XPSHIM_FN_GNTTAB_OPEN] = "xengnttab_open",
	[XPSHIM_FN_GNTTAB_CLOSE] = "xengnttab_close",
	[XPSHIM_FN_GNTTAB_MAP_GRANT_REF] = "xengnttab_map_grant_ref",
	[XPSHIM_FN_GNTTAB_MAP_GRANT_REFS] = "xengnttab_map_grant_refs",
	[XPSHIM_FN_GNTTAB_MAP_DOMAIN_GRANT_REFS] =
		"xengnttab_map_domain_grant_refs",
	[XPSHIM_FN_GNTTAB_UNMAP] = "xengnttab_unmap",
	[XPSHIM_FN_GNTTAB_SET_MAX_GRANTS] = "xengnttab_set_max_grants",
	[XPSHIM_FN_XC_INTERFACE_OPEN] = "xc_interface_open",
	[XPSHIM_FN_XC_INTERFACE_CLOSE] = "xc_interface_close",
	[XPSHIM_FN_XC_GNTTAB_GET_VERSION] = "xc_gnttab_get_version",
	[XPSHIM_FN_XC_GNTTAB_QUERY_SIZE] = "xc_gnttab_query_size",
	[XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V1] = "xc_gnttab_map_table_v1",
	[XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V2] = "xc_gnttab_map_table_v2",
};

/* Arena pages granted together. */
struct backing {
	uint64_t first;      /* arena page index */
	unsigned int npages;
	unsigned int users;  /* entries in use that point here */
	uint8_t *view;       /* the hypervisor's mapping, read-write */
};

struct entry {
	struct backing *b;   /* NULL: free */
	unsigned int page;   /* in b */
	uint64_t frame;
	uint32_t grantee;
	bool readonly;
	bool guest;          /* made by xpshim_guest_grant */
	bool orphan;         /* its owner let go while it was mapped */
	unsigned int maps;   /* local and peer mappings */
};

struct domain {
	uint32_t domid;
	unsigned int used;
	struct entry *e;     /* table_entries() of them */
};

struct handle {
	struct handle *next;
	enum xpshim_kind kind;
};

struct share {
	struct share *next;
	uint8_t *addr;
	unsigned int count;
	uint32_t refs[];     /* of the self domain */
};

struct map {
	struct map *next;
	struct handle *h;    /* NULL once the handle is closed */
	uint8_t *addr;
	unsigned int count;
	struct {
		uint32_t domid, ref;
	} g[];
};

struct peer_map {
	struct peer_map *next;
	uint32_t peer, granter, ref;
	void *addr;
};

/* A grant-table snapshot, known by the name of its memfd. */
struct table_map {
	struct table_map *next;
	unsigned long id;
	bool seen;
};

static struct {
	pthread_mutex_t lock;
	struct xpshim_config cfg;
	int arena;             /* memfd; -1 until the first grant */
	uint64_t arena_pages;  /* handed out so far; never reused */
	uint64_t rng;
	uint64_t next_frame;
	struct domain **doms;
	unsigned int ndoms;
	struct handle *handles;
	struct share *shares;
	struct map *maps;
	struct peer_map *peers;
	struct table_map *tables;
	unsigned long table_seq;
	unsigned int shared;   /* gntalloc's count: shared, not unshared */
	unsigned long calls[XPSHIM_FN_COUNT];
	struct {
		bool armed, fired;
		int fn;        /* -1: any */
		unsigned long left;
		int err;
	} fault;
} st = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.arena = -1,
};

/* Read by every call's logging without the lock. */
static atomic_int log_on;

static struct {
	pthread_mutex_t lock; /* serialises start and stop */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_ulong passes;
} scrib = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* ---- configuration ---------------------------------------------------- */

void xpshim_default_config(struct xpshim_config *cfg)
{
	*cfg = (struct xpshim_config){
		.self_domid = 0,
		.limit = 1024,
		.table_frames = 64,
		.gnttab_version = 1,
		.contig = XPSHIM_CONTIG_RANDOM,
		.max_run = 16,
		.seed = 1,
		.hvm = 0,
		.absent = XPSHIM_PRESENT,
		.unprivileged = 0,
		.log = 0,
	};
}

static void env_warn(const char *name, const char *val)
{
	fprintf(stderr, "xpshim: ignoring %s=%s\n", name, val);
}

static void env_num(const char *name, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0')
		return;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || *s == '-' || v < min || v > max)
		env_warn(name, s);
	else
		*out = v;
}

/* Sets @p out to the index of the value in @p words. */
static void env_word(const char *name, const char *const *words,
		     unsigned int n, int *out)
{
	const char *s = getenv(name);
	unsigned int i;

	if (s == NULL || *s == '\0')
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(s, words[i]) == 0) {
			*out = (int)i;
			return;
		}
	}
	env_warn(name, s);
}

static void config_from_env(struct xpshim_config *cfg)
{
	static const char *const bools[] = { "0", "1" };
	static const char *const contigs[] = { "full", "none", "random" };
	static const char *const modes[] = { "pv", "hvm" };
	static const char *const absents[] = { "0", "enoent", "noerrno" };
	uint64_t v;
	int w;

	xpshim_default_config(cfg);
	v = cfg->self_domid;
	env_num("XPSHIM_SELF", 0, DOMID_FIRST_RESERVED - 1, &v);
	cfg->self_domid = (uint32_t)v;
	v = cfg->limit;
	env_num("XPSHIM_LIMIT", 0, UINT32_MAX, &v);
	cfg->limit = (unsigned int)v;
	v = cfg->table_frames;
	env_num("XPSHIM_TABLE_FRAMES", 1, MAX_TABLE_FRAMES, &v);
	cfg->table_frames = (unsigned int)v;
	v = (uint64_t)cfg->gnttab_version;
	env_num("XPSHIM_GNTTAB_VERSION", 1, 2, &v);
	cfg->gnttab_version = (int)v;
	w = (int)cfg->contig;
	env_word("XPSHIM_CONTIG", contigs, 3, &w);
	cfg->contig = (enum xpshim_contig)w;
	v = cfg->max_run;
	env_num("XPSHIM_MAX_RUN", 1, UINT32_MAX, &v);
	cfg->max_run = (unsigned int)v;
	env_num("XPSHIM_SEED", 0, UINT64_MAX, &cfg->seed);
	env_word("XPSHIM_MODE", modes, 2, &cfg->hvm);
	w = (int)cfg->absent;
	env_word("XPSHIM_ABSENT", absents, 3, &w);
	cfg->absent = (enum xpshim_absent)w;
	env_word("XPSHIM_UNPRIVILEGED", bools, 2, &cfg->unprivileged);
	env_word("XPSHIM_LOG", bools, 2, &cfg->log);
}

static void config_check(const struct xpshim_config *c)
{
	if (c->self_domid < DOMID_FIRST_RESERVED && c->table_frames >= 1 &&
	    c->table_frames <= MAX_TABLE_FRAMES &&
	    (c->gnttab_version == 1 || c->gnttab_version == 2) &&
	    c->contig <= XPSHIM_CONTIG_RANDOM && c->max_run >= 1 &&
	    c->absent <= XPSHIM_ABSENT_NOERRNO)
		return;
	fprintf(stderr, "xpshim: invalid configuration\n");
	abort();
}

/* ---- small helpers ---------------------------------------------------- */

/* splitmix64: tiny, seedable with any value, good enough to scramble. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int rng_below(uint64_t *s, unsigned int n)
{
	return (unsigned int)(rng_next(s) % n);
}

static void lock_raw(void)
{
	pthread_mutex_lock(&st.lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&st.lock);
}

static void apply_locked(const struct xpshim_config *cfg);

static void init_from_env(void)
{
	struct xpshim_config cfg;

	config_from_env(&cfg);
	lock_raw();
	apply_locked(&cfg);
	unlock();
}

/* Every entry point locks through here: the first one reads the
 * environment. */
static void lock(void)
{
	pthread_once(&init_once, init_from_env);
	lock_raw();
}

static unsigned int table_entries(void)
{
	size_t esz = st.cfg.gnttab_version == 1 ? sizeof(grant_entry_v1_t)
						: sizeof(grant_entry_v2_t);

	return (unsigned int)(st.cfg.table_frames * PAGE / esz);
}

/* DOMID_SELF resolves to this domain; other reserved ids are invalid. */
static int resolve(uint32_t domid, uint32_t *out)
{
	if (domid == XPSHIM_DOMID_SELF)
		domid = st.cfg.self_domid;
	else if (domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	*out = domid;
	return 0;
}

static struct domain *domain_find(uint32_t domid)
{
	unsigned int i;

	for (i = 0; i < st.ndoms; i++)
		if (st.doms[i]->domid == domid)
			return st.doms[i];
	return NULL;
}

static struct domain *domain_get(uint32_t domid)
{
	struct domain *d = domain_find(domid), **doms;

	if (d != NULL)
		return d;
	doms = realloc(st.doms, (st.ndoms + 1) * sizeof(*doms));
	if (doms == NULL)
		return NULL;
	st.doms = doms;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->e = calloc(table_entries(), sizeof(*d->e));
	if (d->e == NULL) {
		free(d);
		return NULL;
	}
	d->domid = domid;
	st.doms[st.ndoms++] = d;
	return d;
}

/* Entry @p ref of @p granter if it is in use, else NULL. */
static struct entry *entry_get(uint32_t granter, uint32_t ref)
{
	struct domain *d = domain_find(granter);

	if (d == NULL || ref < REF_FIRST || ref >= table_entries() ||
	    d->e[ref].b == NULL)
		return NULL;
	return &d->e[ref];
}

static uint8_t *entry_view(const struct entry *e)
{
	return e->b->view + (size_t)e->page * PAGE;
}

static off_t entry_offset(const struct entry *e)
{
	return (off_t)((e->b->first + e->page) * PAGE);
}

static struct handle *handle_find(const void *h, enum xpshim_kind kind)
{
	struct handle *hd;

	for (hd = st.handles; hd != NULL; hd = hd->next)
		if (hd == h && hd->kind == kind)
			return hd;
	return NULL;
}

/* ---- memory and frames ------------------------------------------------ */

static int backing_new(unsigned int n, struct backing **out)
{
	size_t len = (size_t)n * PAGE;
	struct backing *b = calloc(1, sizeof(*b));
	int rc;

	if (b == NULL)
		return -ENOMEM;
	if (st.arena < 0)
		st.arena = memfd_create("xpshim-memory", MFD_CLOEXEC);
	if (st.arena < 0 ||
	    ftruncate(st.arena, (off_t)((st.arena_pages + n) * PAGE)) < 0)
		goto err;
	b->view = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       st.arena, (off_t)(st.arena_pages * PAGE));
	if (b->view == MAP_FAILED)
		goto err;
	b->first = st.arena_pages;
	b->npages = n;
	st.arena_pages += n;
	*out = b;
	return 0;
err:
	rc = -errno;
	free(b);
	return rc;
}

static void backing_put(struct backing *b)
{
	size_t len = (size_t)b->npages * PAGE;

	if (--b->users > 0)
		return;
	munmap(b->view, len);
	/* Gives the memory back; the offsets are never used again. */
	fallocate(st.arena, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)(b->first * PAGE), (off_t)len);
	free(b);
}

static unsigned int run_length(unsigned int left)
{
	unsigned int len;

	switch (st.cfg.contig) {
	case XPSHIM_CONTIG_FULL:
		return left;
	case XPSHIM_CONTIG_NONE:
		return 1;
	default:
		len = 1 + rng_below(&st.rng, st.cfg.max_run);
		return len < left ? len : left;
	}
}

/*
 * Frames for @p n pages granted together.  Runs of consecutive frames are
 * cut from a rising cursor with at least one unused frame between runs, so
 * that no two runs ever join (in "none", where every run is one frame, no
 * two frames the shim hands out are consecutive); unless contiguity is
 * full, the runs are then shuffled, so that frames do not even rise with
 * the address.
 */
static int alloc_frames(unsigned int n, uint64_t *frames)
{
	struct {
		uint64_t first;
		unsigned int len;
	} *runs = malloc(n * sizeof(*runs)), tmp;
	unsigned int nruns = 0, i, k, at = 0;

	if (runs == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i += runs[nruns++].len) {
		st.next_frame += 1 + rng_below(&st.rng, 8);
		runs[nruns].first = st.next_frame;
		runs[nruns].len = run_length(n - i);
		st.next_frame += runs[nruns].len;
	}
	if (st.cfg.contig != XPSHIM_CONTIG_FULL) {
		for (i = nruns; i > 1; i--) {
			k = rng_below(&st.rng, i);
			tmp = runs[i - 1];
			runs[i - 1] = runs[k];
			runs[k] = tmp;
		}
	}
	for (i = 0; i < nruns; i++)
		for (k = 0; k < runs[i].len; k++)
			frames[at++] = runs[i].first + k;
	free(runs);
	return 0;
}

/*
 * @p granter grants @p n fresh pages to @p grantee: entries, a backing and
 * frames.  Writes @p refs only on success; changes nothing on failure.
 */
static int grant(uint32_t granter, uint32_t grantee, unsigned int n,
		 bool readonly, bool guest, uint32_t *refs,
		 struct backing **out)
{
	struct domain *d = domain_get(granter);
	struct backing *b = NULL;
	uint64_t *frames;
	unsigned int i;
	uint32_t r;
	int rc;

	if (d == NULL)
		return -ENOMEM;
	if (table_entries() - REF_FIRST - d->used < n)
		return -ENOSPC;
	frames = malloc(n * sizeof(*frames));
	if (frames == NULL)
		return -ENOMEM;
	rc = backing_new(n, &b);
	if (rc == 0)
		rc = alloc_frames(n, frames);
	if (rc != 0) {
		if (b != NULL) {
			b->users = 1;
			backing_put(b);
		}
		free(frames);
		return rc;
	}
	for (r = REF_FIRST, i = 0; i < n; r++) {
		if (d->e[r].b != NULL)
			continue;
		d->e[r] = (struct entry){
			.b = b,
			.page = i,
			.frame = frames[i],
			.grantee = grantee,
			.readonly = readonly,
			.guest = guest,
		};
		refs[i++] = r;
	}
	free(frames);
	b->users = n;
	d->used += n;
	if (out != NULL)
		*out = b;
	return 0;
}

static void entry_free(uint32_t granter, uint32_t ref)
{
	struct domain *d = domain_find(granter);
	struct backing *b = d->e[ref].b;

	memset(&d->e[ref], 0, sizeof(d->e[ref]));
	d->used--;
	backing_put(b);
}

/* The owner lets go of @p ref: freed now, or when its last mapping goes. */
static void entry_release(uint32_t granter, uint32_t ref)
{
	struct entry *e = entry_get(granter, ref);

	if (e->maps > 0)
		e->orphan = true;
	else
		entry_free(granter, ref);
}

static void entry_unmapped(uint32_t granter, uint32_t ref)
{
	struct entry *e = entry_get(granter, ref);

	if (--e->maps == 0 && e->orphan)
		entry_free(granter, ref);
}

/* ---- reset and the calls' prologue and epilogue ---------------------- */

static void teardown_locked(void)
{
	unsigned int i;
	uint32_t r;

	while (st.shares != NULL) {
		struct share *s = st.shares;

		st.shares = s->next;
		munmap(s->addr, (size_t)s->count * PAGE);
		free(s);
	}
	while (st.maps != NULL) {
		struct map *m = st.maps;

		st.maps = m->next;
		munmap(m->addr, (size_t)m->count * PAGE);
		free(m);
	}
	while (st.peers != NULL) {
		struct peer_map *p = st.peers;

		st.peers = p->next;
		munmap(p->addr, PAGE);
		free(p);
	}
	/* Snapshots are the caller's memory: forgotten, not unmapped. */
	while (st.tables != NULL) {
		struct table_map *t = st.tables;

		st.tables = t->next;
		free(t);
	}
	while (st.handles != NULL) {
		struct handle *h = st.handles;

		st.handles = h->next;
		free(h);
	}
	for (i = 0; i < st.ndoms; i++) {
		for (r = 0; r < table_entries(); r++)
			if (st.doms[i]->e[r].b != NULL)
				backing_put(st.doms[i]->e[r].b);
		free(st.doms[i]->e);
		free(st.doms[i]);
	}
	free(st.doms);
	st.doms = NULL;
	st.ndoms = 0;
	if (st.arena >= 0)
		close(st.arena);
	st.arena = -1;
	st.arena_pages = 0;
	st.shared = 0;
	memset(st.calls, 0, sizeof(st.calls));
	memset(&st.fault, 0, sizeof(st.fault));
}

static void apply_locked(const struct xpshim_config *cfg)
{
	config_check(cfg);
	teardown_locked();
	st.cfg = *cfg;
	st.rng = cfg->seed;
	st.next_frame = (cfg->hvm ? XPSHIM_HVM_FRAME_BASE
				  : XPSHIM_PV_FRAME_BASE) +
			rng_below(&st.rng, 8192);
	atomic_store(&log_on, cfg->log);
}

void xpshim_reset(const struct xpshim_config *cfg)
{
	struct xpshim_config env;

	if (cfg == NULL) {
		config_from_env(&env);
		cfg = &env;
	}
	lock();
	apply_locked(cfg);
	unlock();
}

/* Index of shimmed function @p name; a name the shim does not know is a
 * bug in the test. */
static int fn_index(const char *name)
{
	int i;

	for (i = 0; i < XPSHIM_FN_COUNT; i++)
		if (strcmp(fn_names[i], name) == 0)
			return i;
	fprintf(stderr, "xpshim: %s is not a shimmed function\n", name);
	abort();
}

int xpshim__begin(struct xpshim_call *c, enum xpshim_fn fn)
{
	*c = (struct xpshim_call){ .fn = fn };
	lock();
	st.calls[fn]++;
	if (st.fault.armed && (st.fault.fn < 0 || st.fault.fn == (int)fn) &&
	    --st.fault.left == 0) {
		st.fault.armed = false;
		st.fault.fired = true;
		c->failed = 1;
		c->err = st.fault.err;
	}
	unlock();
	return !c->failed;
}

/* Logs "name(args) = result" in one write, keeping errno. */
static void log_call(const struct xpshim_call *c, const char *fmt,
		     va_list ap, const char *result)
{
	int saved = errno;
	char args[256];

	vsnprintf(args, sizeof(args), fmt, ap);
	fprintf(stderr, "xpshim: %s(%s) = %s%s\n", fn_names[c->fn], args,
		result, c->failed ? " (injected)" : "");
	errno = saved;
}

/* The errno of a failed call, or -1 if it succeeded. */
static int call_errno(const struct xpshim_call *c, int rc)
{
	if (c->failed)
		return c->err;
	if (rc == XPSHIM_FAIL_NOERRNO)
		return 0;
	return rc < 0 ? -rc : -1;
}

int xpshim__end_int(const struct xpshim_call *c, int rc, const char *fmt, ...)
{
	int err = call_errno(c, rc);
	char result[64];
	va_list ap;

	if (atomic_load(&log_on)) {
		if (err >= 0)
			snprintf(result, sizeof(result), "-1, errno %d", err);
		else
			snprintf(result, sizeof(result), "%d", rc);
		va_start(ap, fmt);
		log_call(c, fmt, ap, result);
		va_end(ap);
	}
	if (err < 0)
		return rc;
	errno = err;
	return -1;
}

void *xpshim__end_ptr(const struct xpshim_call *c, int rc, void *p,
		      const char *fmt, ...)
{
	int err = call_errno(c, rc);
	char result[64];
	va_list ap;

	if (atomic_load(&log_on)) {
		if (err >= 0)
			snprintf(result, sizeof(result), "NULL, errno %d", err);
		else
			snprintf(result, sizeof(result), "%p", p);
		va_start(ap, fmt);
		log_call(c, fmt, ap, result);
		va_end(ap);
	}
	if (err < 0)
		return p;
	errno = err;
	return NULL;
}

/* ---- handles ----------------------------------------------------------- */

int xpshim__open(enum xpshim_kind kind, void **out)
{
	struct handle *h;
	int rc = 0;

	lock();
	if (st.cfg.absent == XPSHIM_ABSENT_ENOENT)
		rc = -ENOENT;
	else if (st.cfg.absent == XPSHIM_ABSENT_NOERRNO)
		rc = XPSHIM_FAIL_NOERRNO;
	else if (kind == XPSHIM_XC && st.cfg.unprivileged)
		rc = -EPERM;
	else if ((h = calloc(1, sizeof(*h))) == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		h->kind = kind;
		h->next = st.handles;
		st.handles = h;
		*out = h;
	}
	unlock();
	return rc;
}

int xpshim__close(enum xpshim_kind kind, void *h)
{
	struct handle **pp;
	struct map *m;
	int rc = -EBADF;

	if (h == NULL)
		return 0;
	lock();
	for (pp = &st.handles; *pp != NULL; pp = &(*pp)->next) {
		if (*pp != h || (*pp)->kind != kind)
			continue;
		*pp = (*pp)->next;
		/* Its mappings stay (as a vma keeps the device open): leaks. */
		for (m = st.maps; m != NULL; m = m->next)
			if (m->h == h)
				m->h = NULL;
		free(h);
		rc = 0;
		break;
	}
	unlock();
	return rc;
}

void *xpshim__open_call(enum xpshim_fn fn, enum xpshim_kind kind,
			unsigned int open_flags)
{
	struct xpshim_call c;
	void *h = NULL;
	int rc = 0;

	if (xpshim__begin(&c, fn))
		rc = xpshim__open(kind, &h);
	return xpshim__end_ptr(&c, rc, h, "%#x", open_flags);
}

int xpshim__close_call(enum xpshim_fn fn, enum xpshim_kind kind, void *h)
{
	struct xpshim_call c;
	int rc = 0, ok, closed;

	ok = xpshim__begin(&c, fn);
	closed = xpshim__close(kind, h);
	if (ok)
		rc = closed;
	return xpshim__end_int(&c, rc, "%p", h);
}

/* Accepted and ignored: Linux's gntdev has no such limit any more, and
 * libxengnttab ignores the ENOTTY it gets. */
int xpshim__set_max_grants(void *h, uint32_t nr)
{
	int rc;

	lock();
	rc = handle_find(h, XPSHIM_GNTTAB) != NULL ? 0 : -EBADF;
	unlock();
	return rc;
}

/* ---- share mode -------------------------------------------------------- */

static int share_locked(uint32_t grantee, unsigned int n, bool readonly,
			uint32_t *refs, void **out)
{
	size_t len = (size_t)n * PAGE;
	struct backing *b;
	struct share *s;
	unsigned int i;
	int rc;

	s = malloc(sizeof(*s) + n * sizeof(s->refs[0]));
	if (s == NULL)
		return -ENOMEM;
	rc = grant(st.cfg.self_domid, grantee, n, readonly, false, s->refs,
		   &b);
	if (rc != 0)
		goto err;
	/* The granter's own mapping is writable even for a read-only grant. */
	s->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, st.arena,
		       (off_t)(b->first * PAGE));
	if (s->addr == MAP_FAILED) {
		rc = -errno;
		for (i = 0; i < n; i++)
			entry_free(st.cfg.self_domid, s->refs[i]);
		goto err;
	}
	s->count = n;
	s->next = st.shares;
	st.shares = s;
	st.shared += n;
	memcpy(refs, s->refs, n * sizeof(*refs));
	*out = s->addr;
	return 0;
err:
	free(s);
	return rc;
}

int xpshim__share(void *h, uint32_t domid, int count, uint32_t *refs,
		  int writable, void **out)
{
	uint32_t grantee;
	int rc;

	lock();
	if (handle_find(h, XPSHIM_GNTSHR) == NULL)
		rc = -EBADF;
	else if (count <= 0 || refs == NULL)
		rc = -EINVAL;
	else
		rc = resolve(domid, &grantee);
	/* gntalloc's limit counts pages of all its files, as Linux does. */
	if (rc == 0 && (unsigned int)count > st.cfg.limit - st.shared)
		rc = -ENOSPC;
	if (rc == 0)
		rc = share_locked(grantee, (unsigned int)count, !writable, refs,
				  out);
	unlock();
	return rc;
}

/* As with Linux's gntalloc (where unshare is munmap), the handle does not
 * matter; address and count must match one share exactly. */
int xpshim__unshare(void *h, void *addr, uint32_t count)
{
	struct share **pp, *s;
	unsigned int i;
	int rc = -EINVAL;

	lock();
	for (pp = &st.shares; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->addr == addr)
			break;
	s = *pp;
	if (s != NULL && s->count == count) {
		*pp = s->next;
		munmap(s->addr, (size_t)count * PAGE);
		for (i = 0; i < count; i++)
			entry_release(st.cfg.self_domid, s->refs[i]);
		st.shared -= count;
		free(s);
		rc = 0;
	}
	unlock();
	return rc;
}

/* ---- map mode ---------------------------------------------------------- */

/* Reserve one range, then place each page over it from the arena. */
static int map_pages(struct map *m, int prot)
{
	size_t len = (size_t)m->count * PAGE;
	unsigned int i;
	uint8_t *addr;
	int rc;

	addr = mmap(NULL, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (addr == MAP_FAILED)
		return -errno;
	for (i = 0; i < m->count; i++) {
		struct entry *e = entry_get(m->g[i].domid, m->g[i].ref);

		if (mmap(addr + (size_t)i * PAGE, PAGE, prot,
			 MAP_SHARED | MAP_FIXED, st.arena,
			 entry_offset(e)) == MAP_FAILED) {
			rc = -errno;
			munmap(addr, len);
			return rc;
		}
	}
	m->addr = addr;
	return 0;
}

static int map_check(uint32_t granter, uint32_t ref, int prot)
{
	const struct entry *e = entry_get(granter, ref);

	if (e == NULL)
		return -ENOENT;
	if (e->grantee != st.cfg.self_domid ||
	    ((prot & PROT_WRITE) && e->readonly))
		return -EPERM;
	return 0;
}

static int map_locked(struct handle *h, uint32_t count,
		      const uint32_t *domids, size_t domid_step,
		      const uint32_t *refs, int prot, void **out)
{
	struct map *m = malloc(sizeof(*m) + count * sizeof(m->g[0]));
	unsigned int i;
	int rc = 0;

	if (m == NULL)
		return -ENOMEM;
	m->h = h;
	m->count = count;
	for (i = 0; i < count && rc == 0; i++) {
		m->g[i].ref = refs[i];
		rc = resolve(domids[i * domid_step], &m->g[i].domid);
		if (rc == 0)
			rc = map_check(m->g[i].domid, refs[i], prot);
	}
	if (rc == 0)
		rc = map_pages(m, prot);
	if (rc != 0) {
		free(m);
		return rc;
	}
	for (i = 0; i < count; i++)
		entry_get(m->g[i].domid, m->g[i].ref)->maps++;
	m->next = st.maps;
	st.maps = m;
	*out = m->addr;
	return 0;
}

int xpshim__map(void *h, uint32_t count, const uint32_t *domids,
		size_t domid_step, const uint32_t *refs, int prot, void **out)
{
	struct handle *hd;
	int rc;

	lock();
	hd = handle_find(h, XPSHIM_GNTTAB);
	if (hd == NULL)
		rc = -EBADF;
	else if (count == 0 || domids == NULL || refs == NULL ||
		 (prot & ~(PROT_READ | PROT_WRITE)) != 0)
		rc = -EINVAL;
	else
		rc = map_locked(hd, count, domids, domid_step, refs, prot, out);
	unlock();
	return rc;
}

/* Linux finds the mapping by address in the handle's own file: another
 * handle's mapping, or a different count, is EINVAL. */
int xpshim__unmap(void *h, void *addr, uint32_t count)
{
	struct map **pp, *m;
	unsigned int i;
	int rc = -EINVAL;

	lock();
	for (pp = &st.maps; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->addr == addr)
			break;
	m = *pp;
	if (m != NULL && m->h != NULL && m->h == h && m->count == count) {
		*pp = m->next;
		munmap(m->addr, (size_t)count * PAGE);
		for (i = 0; i < count; i++)
			entry_unmapped(m->g[i].domid, m->g[i].ref);
		free(m);
		rc = 0;
	}
	unlock();
	return rc;
}

/* ---- libxenctrl -------------------------------------------------------- */

int xpshim__gnttab_version(void *h, uint32_t domid)
{
	int rc;

	lock();
	if (handle_find(h, XPSHIM_XC) == NULL)
		rc = -EBADF;
	else
		rc = resolve(domid, &domid);
	if (rc == 0)
		rc = st.cfg.gnttab_version;
	unlock();
	return rc;
}

int xpshim__query_size(void *h, uint32_t domid, uint32_t *nr_frames,
		       uint32_t *max_nr_frames)
{
	int rc;

	lock();
	if (handle_find(h, XPSHIM_XC) == NULL)
		rc = -EBADF;
	else
		rc = resolve(domid, &domid);
	if (rc == 0)
		*nr_frames = *max_nr_frames = st.cfg.table_frames;
	unlock();
	return rc;
}

static uint16_t entry_flags(const struct entry *e)
{
	return (uint16_t)(GTF_permit_access | (e->readonly ? GTF_readonly : 0));
}

static void table_fill(void *p, uint32_t domid)
{
	const struct domain *d = domain_find(domid);
	grant_entry_v1_t *v1 = p;
	grant_entry_v2_t *v2 = p;
	uint32_t r;

	for (r = 0; d != NULL && r < table_entries(); r++) {
		const struct entry *e = &d->e[r];

		if (e->b == NULL)
			continue;
		if (st.cfg.gnttab_version == 1) {
			v1[r].flags = entry_flags(e);
			v1[r].domid = (domid_t)e->grantee;
			v1[r].frame = (uint32_t)e->frame;
		} else {
			v2[r].full_page.hdr.flags = entry_flags(e);
			v2[r].full_page.hdr.domid = (domid_t)e->grantee;
			v2[r].full_page.frame = e->frame;
		}
	}
}

/*
 * A fresh read-only snapshot of the table, in a memfd named after its id,
 * closed at once: the caller releases it with munmap as with real
 * libxenctrl, and /proc/self/maps tells whether it did.
 */
static int map_table_locked(uint32_t domid, void **out, int *gnt_num)
{
	size_t len = (size_t)st.cfg.table_frames * PAGE;
	struct table_map *t = calloc(1, sizeof(*t));
	char name[40];
	void *p = MAP_FAILED;
	int fd, rc;

	if (t == NULL)
		return -ENOMEM;
	t->id = ++st.table_seq;
	snprintf(name, sizeof(name), TABLE_NAME "%lu", t->id);
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, (off_t)len) == 0)
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rc = p == MAP_FAILED ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		free(t);
		return rc;
	}
	table_fill(p, domid);
	mprotect(p, len, PROT_READ);
	t->next = st.tables;
	st.tables = t;
	*out = p;
	/* As libxenctrl: frames * (PAGE_SIZE / sizeof(grant_entry_v1_t))
	 * whatever the version, so that a caller that believed it to be a
	 * count of v2 entries would unmap and read twice too much. */
	*gnt_num = (int)(st.cfg.table_frames * (PAGE / sizeof(grant_entry_v1_t)));
	return 0;
}

int xpshim__map_table(void *h, uint32_t domid, int version, void **out,
		      int *gnt_num)
{
	int rc;

	lock();
	if (handle_find(h, XPSHIM_XC) == NULL)
		rc = -EBADF;
	else if (gnt_num == NULL || version != st.cfg.gnttab_version)
		rc = -EINVAL;
	else
		rc = resolve(domid, &domid);
	if (rc == 0)
		rc = map_table_locked(domid, out, gnt_num);
	unlock();
	return rc;
}

/* Snapshots still mapped, by their memfd names; forgets the others (their
 * memfds are gone, so they can never be mapped again). */
static unsigned int tables_mapped_locked(void)
{
	struct table_map **pp, *t;
	unsigned int n = 0;
	char line[512];
	unsigned long id;
	FILE *f;
	char *p;

	if (st.tables == NULL)
		return 0;
	f = fopen("/proc/self/maps", "re");
	/* Unable to tell: count them all. */
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		p = strstr(line, "/memfd:" TABLE_NAME);
		if (p == NULL)
			continue;
		id = strtoul(p + strlen("/memfd:" TABLE_NAME), NULL, 10);
		for (t = st.tables; t != NULL; t = t->next)
			if (t->id == id)
				t->seen = true;
	}
	for (pp = &st.tables; (t = *pp) != NULL;) {
		if (t->seen || f == NULL) {
			t->seen = false;
			n++;
			pp = &t->next;
		} else {
			*pp = t->next;
			free(t);
		}
	}
	if (f != NULL)
		fclose(f);
	return n;
}

/* ---- what the handler did -------------------------------------------- */

static void leaks_locked(struct xpshim_leaks *out)
{
	const struct handle *h;
	const struct map *m;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < st.ndoms; i++)
		out->refs += st.doms[i]->used;
	out->shared = st.shared;
	for (m = st.maps; m != NULL; m = m->next)
		out->mapped += m->count;
	for (h = st.handles; h != NULL; h = h->next)
		out->handles++;
	out->tables = tables_mapped_locked();
}

void xpshim_leaks(struct xpshim_leaks *out)
{
	lock();
	leaks_locked(out);
	unlock();
}

int xpshim_no_leaks(void)
{
	struct xpshim_leaks l;

	xpshim_leaks(&l);
	if (l.refs == 0 && l.shared == 0 && l.mapped == 0 && l.handles == 0 &&
	    l.tables == 0)
		return 1;
	fprintf(stderr,
		"xpshim: leaked %u refs, %u shared pages, %u mapped pages, "
		"%u handles, %u grant tables\n",
		l.refs, l.shared, l.mapped, l.handles, l.tables);
	return 0;
}

unsigned long xpshim_calls(const char *fn)
{
	unsigned long n = 0;
	int i;

	lock();
	if (fn != NULL)
		n = st.calls[fn_index(fn)];
	else
		for (i = 0; i < XPSHIM_FN_COUNT; i++)
			n += st.calls[i];
	unlock();
	return n;
}

static const struct entry *entry_at_locked(uintptr_t va)
{
	const struct share *s;
	const struct map *m;
	uintptr_t a;

	for (s = st.shares; s != NULL; s = s->next) {
		a = (uintptr_t)s->addr;
		if (va >= a && va - a < (uintptr_t)s->count * PAGE)
			return entry_get(st.cfg.self_domid,
					 s->refs[(va - a) / PAGE]);
	}
	for (m = st.maps; m != NULL; m = m->next) {
		a = (uintptr_t)m->addr;
		if (va >= a && va - a < (uintptr_t)m->count * PAGE)
			return entry_get(m->g[(va - a) / PAGE].domid,
					 m->g[(va - a) / PAGE].ref);
	}
	return NULL;
}

uint64_t xpshim_frame_of(const void *va)
{
	const struct entry *e;
	uint64_t frame;

	lock();
	e = entry_at_locked((uintptr_t)va);
	frame = e != NULL ? e->frame : (uint64_t)-1;
	unlock();
	return frame;
}

int xpshim_ref_info(uint32_t granter, uint32_t ref, uint64_t *frame,
		    uint32_t *grantee, int *readonly)
{
	const struct entry *e = NULL;

	lock();
	if (resolve(granter, &granter) == 0)
		e = entry_get(granter, ref);
	if (e != NULL) {
		if (frame != NULL)
			*frame = e->frame;
		if (grantee != NULL)
			*grantee = e->grantee;
		if (readonly != NULL)
			*readonly = e->readonly;
	}
	unlock();
	return e != NULL ? 0 : -ENOENT;
}

/* ---- fault injection ------------------------------------------------- */

void xpshim_fail_nth(const char *fn, unsigned long nth, int err)
{
	int i = fn != NULL ? fn_index(fn) : -1;

	if (nth == 0) {
		fprintf(stderr, "xpshim: xpshim_fail_nth: nth counts from 1\n");
		abort();
	}
	lock();
	st.fault.armed = true;
	st.fault.fired = false;
	st.fault.fn = i;
	st.fault.left = nth;
	st.fault.err = err;
	unlock();
}

void xpshim_fail_clear(void)
{
	lock();
	memset(&st.fault, 0, sizeof(st.fault));
	unlock();
}

int xpshim_fail_fired(void)
{
	int fired;

	lock();
	fired = st.fault.fired;
	unlock();
	return fired;
}

/* ---- the peer domain ------------------------------------------------- */

int xpshim_guest_grant(uint32_t guest, uint32_t grantee, unsigned int count,
		       int readonly, uint32_t *refs)
{
	int rc;

	lock();
	rc = resolve(guest, &guest);
	if (rc == 0)
		rc = resolve(grantee, &grantee);
	if (rc == 0 && (count == 0 || refs == NULL))
		rc = -EINVAL;
	if (rc == 0)
		rc = grant(guest, grantee, count, readonly, true, refs, NULL);
	unlock();
	return rc;
}

static int revoke_check(uint32_t guest, unsigned int count,
			const uint32_t *refs)
{
	const struct entry *e;
	unsigned int i, j;

	for (i = 0; i < count; i++) {
		e = entry_get(guest, refs[i]);
		if (e == NULL || !e->guest)
			return -ENOENT;
		if (e->maps > 0)
			return -EBUSY;
		/* A ref listed twice is gone the second time. */
		for (j = 0; j < i; j++)
			if (refs[j] == refs[i])
				return -ENOENT;
	}
	return 0;
}

int xpshim_guest_revoke(uint32_t guest, unsigned int count,
			const uint32_t *refs)
{
	unsigned int i;
	int rc;

	lock();
	rc = resolve(guest, &guest) == 0 ? revoke_check(guest, count, refs)
					  : -ENOENT;
	for (i = 0; rc == 0 && i < count; i++)
		entry_free(guest, refs[i]);
	unlock();
	return rc;
}

static int peer_map_locked(uint32_t peer, uint32_t granter, uint32_t ref,
			   int writable, void **out)
{
	struct entry *e = entry_get(granter, ref);
	struct peer_map *pm;

	if (e == NULL)
		return -ENOENT;
	if (e->grantee != peer || (writable && e->readonly))
		return -EPERM;
	pm = malloc(sizeof(*pm));
	if (pm == NULL)
		return -ENOMEM;
	pm->addr = mmap(NULL, PAGE, PROT_READ | (writable ? PROT_WRITE : 0),
			MAP_SHARED, st.arena, entry_offset(e));
	if (pm->addr == MAP_FAILED) {
		free(pm);
		return -errno;
	}
	pm->peer = peer;
	pm->granter = granter;
	pm->ref = ref;
	pm->next = st.peers;
	st.peers = pm;
	e->maps++;
	*out = pm->addr;
	return 0;
}

int xpshim_peer_map(uint32_t peer, uint32_t granter, uint32_t ref,
		    int writable, void **out)
{
	int rc;

	lock();
	rc = resolve(peer, &peer);
	if (rc == 0)
		rc = resolve(granter, &granter);
	if (rc == 0)
		rc = out != NULL ? peer_map_locked(peer, granter, ref,
						   writable, out)
				 : -EINVAL;
	unlock();
	return rc;
}

int xpshim_peer_unmap(uint32_t peer, uint32_t granter, uint32_t ref)
{
	struct peer_map **pp, *pm;
	int rc = -ENOENT;

	lock();
	if (resolve(peer, &peer) == 0 && resolve(granter, &granter) == 0) {
		for (pp = &st.peers; (pm = *pp) != NULL; pp = &pm->next) {
			if (pm->peer != peer || pm->granter != granter ||
			    pm->ref != ref)
				continue;
			*pp = pm->next;
			munmap(pm->addr, PAGE);
			free(pm);
			entry_unmapped(granter, ref);
			rc = 0;
			break;
		}
	}
	unlock();
	return rc;
}

/* ---- the hostile peer ------------------------------------------------ */

unsigned int xpshim_scribble_all(uint8_t byte)
{
	unsigned int i, n = 0;
	uint32_t r;

	lock();
	for (i = 0; i < st.ndoms; i++) {
		for (r = REF_FIRST; r < table_entries(); r++) {
			const struct entry *e = &st.doms[i]->e[r];

			if (e->b != NULL && !e->readonly) {
				memset(entry_view(e), byte, PAGE);
				n++;
			}
		}
	}
	unlock();
	return n;
}

/*
 * Under the lock: fill the next writable granted page at or after (domain
 * @p d, ref @p r) with random bytes and move past it; false at the end of
 * the pass.  Indexes, not pointers, survive between calls, since the tables
 * may change (or be reset) while the lock is released.
 */
static bool scribble_next(unsigned int *d, uint32_t *r, uint64_t *rng)
{
	unsigned int i;

	for (; *d < st.ndoms; (*d)++, *r = REF_FIRST) {
		const struct entry *e = st.doms[*d]->e;

		for (; *r < table_entries(); (*r)++) {
			uint64_t *w;

			if (e[*r].b == NULL || e[*r].readonly)
				continue;
			w = (uint64_t *)(void *)entry_view(&e[*r]);
			for (i = 0; i < PAGE / sizeof(*w); i++)
				w[i] = rng_next(rng);
			(*r)++;
			return true;
		}
	}
	return false;
}

static void *scribbler_main(void *arg)
{
	static const struct timespec idle = { 0, 1000000 };
	uint64_t rng = (uint64_t)(uintptr_t)arg;

	while (!atomic_load(&scrib.stop)) {
		unsigned int d = 0, written = 0;
		uint32_t r = REF_FIRST;
		bool more = true;

		while (more && !atomic_load(&scrib.stop)) {
			lock();
			more = scribble_next(&d, &r, &rng);
			unlock();
			written += more;
		}
		if (more)
			break;
		atomic_fetch_add(&scrib.passes, 1);
		/* Nothing to write: do not spin on a shared machine. */
		if (written == 0)
			nanosleep(&idle, NULL);
		else
			sched_yield();
	}
	return NULL;
}

int xpshim_scribbler_start(void)
{
	uint64_t seed;
	int rc = -EBUSY;

	lock();
	seed = st.cfg.seed ^ 0x5c81bb1e5c81bb1eull;
	unlock();
	pthread_mutex_lock(&scrib.lock);
	if (!scrib.running) {
		atomic_store(&scrib.stop, false);
		atomic_store(&scrib.passes, 0);
		rc = -pthread_create(&scrib.thread, NULL, scribbler_main,
				     (void *)(uintptr_t)seed);
		scrib.running = rc == 0;
	}
	pthread_mutex_unlock(&scrib.lock);
	return rc;
}

unsigned long xpshim_scribbler_stop(void)
{
	unsigned long passes = 0;

	pthread_mutex_lock(&scrib.lock);
	if (scrib.running) {
		atomic_store(&scrib.stop, true);
		pthread_join(scrib.thread, NULL);
		scrib.running = false;
		passes = atomic_load(&scrib.passes);
	}
	pthread_mutex_unlock(&scrib.lock);
	return passes;
}
