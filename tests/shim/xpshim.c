/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The simulated hypervisor behind the stand-in Xen libraries, and the
 * control API of xpshim.h.
 *
 * Memory: every granted page lives in one memfd, the arena, so that the same
 * page can be mapped several times at once: by its granter (the local mapping
 * of xengntshr_share_pages), by its grantee (xengnttab_map_*, or a test's
 * xpshim_peer_map) and by the hypervisor itself (one view of the whole
 * arena, through which the hostile peer writes: plain stores, no system
 * call, so that it keeps up under valgrind; one mapping, so that
 * /proc/self/maps stays short).  One file rather than one per grant, so that a
 * thousand one-page shares do not use up the process's descriptors.  Arena
 * offsets are never reused (a released page is punched out, which also
 * frees its memory): a page always starts zeroed, a stale mapping never
 * aliases a newer grant, and an arena page names one grant entry for good
 * (the reverse index).
 *
 * Where the pages are: Linux lets a process move the pages of a gntalloc
 * mapping with mremap, and its unshare is a plain munmap of any range, so
 * the shim never trusts the address it handed out.  A mapping of the arena
 * tells which pages it holds by its file offset, which the kernel reports:
 * PROCMAP_QUERY on /proc/self/maps (Linux 6.11 and later, one mapping a
 * call) or the text of /proc/self/maps.
 *
 * Grant tables: an array of entries per domain, created on first use; refs
 * below GNTTAB_NR_RESERVED_ENTRIES are never handed out, as in Xen, and the
 * others come from a last-in-first-out free list, as from Linux's grant
 * allocator.  An entry points at its backing (the pages granted together); a
 * backing lives while any of its entries is in use.  An entry whose owner
 * lets go (the last page of its share unmapped) while it is still mapped
 * stays in use, as an orphan, until the last mapping goes: Linux defers the
 * release the same way.
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>

#include "xpshim.h"
#include "xpshim_int.h"

#define PAGE XPSHIM_PAGE_SIZE
#define REF_FIRST GNTTAB_NR_RESERVED_ENTRIES
#define MAX_TABLE_FRAMES 1024u
#define TABLE_NAME "xpshim-table-"

/*
 * PROCMAP_QUERY, as <linux/fs.h> of Linux 6.11 declares it (older headers
 * lack it): the mapping that covers an address, or the next one.
 */
struct procmap_query_v1 {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
#define PROCMAP_QUERY_V1 _IOWR('f', 17, struct procmap_query_v1)
#define QUERY_COVERING_OR_NEXT_VMA 0x10u
#define QUERY_FILE_BACKED_VMA 0x20u

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

/*
 * What the real library reports when a call fails, at XTL_ERROR, to the
 * logger of the handle (the message the measured failures gave): libxengnttab
 * with errno ("gntshr: error: ioctl failed: No space left on device"),
 * libxenctrl through xc_report_error, without ("xc: error: Could not map
 * grant table: Internal error").  The opens say nothing when Xen is absent.
 */
struct fn_error {
	enum xpshim_kind kind; /* of the handle that has the logger */
	const char *context;
	const char *msg;       /* NULL: the call reports nothing */
	bool with_errno;
};

#define GNTTAB_MMAP_FAILED { XPSHIM_GNTTAB, "gnttab", "mmap failed", true }
#define XC_MAP_FAILED                                                         \
	{ XPSHIM_XC, "xc", "Could not map grant table: Internal error", false }

static const struct fn_error fn_errors[XPSHIM_FN_COUNT] = {
	[XPSHIM_FN_GNTSHR_SHARE_PAGES] = { XPSHIM_GNTSHR, "gntshr",
					   "ioctl failed", true },
	[XPSHIM_FN_GNTTAB_MAP_GRANT_REF] = GNTTAB_MMAP_FAILED,
	[XPSHIM_FN_GNTTAB_MAP_GRANT_REFS] = GNTTAB_MMAP_FAILED,
	[XPSHIM_FN_GNTTAB_MAP_DOMAIN_GRANT_REFS] = GNTTAB_MMAP_FAILED,
	[XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V1] = XC_MAP_FAILED,
	[XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V2] = XC_MAP_FAILED,
};

struct share;

/* Arena pages granted together. */
struct backing {
	uint64_t first;      /* arena page index */
	unsigned int npages;
	unsigned int users;  /* entries in use that point here */
	struct share *share; /* the share they are, until it is released */
};

struct entry {
	struct backing *b;   /* NULL: free */
	unsigned int page;   /* in b */
	uint64_t frame;
	uint32_t grantee;
	bool readonly;
	bool guest;          /* made by xpshim_guest_grant */
	bool orphan;         /* its owner let go while it was mapped */
	unsigned int maps;   /* gntdev and peer mappings */
};

struct domain {
	uint32_t domid;
	unsigned int used;
	uint32_t fresh;      /* the lowest ref never handed out */
	unsigned int nfree;
	uint32_t *free;      /* released refs, the last released on top */
	struct entry *e;     /* table_entries() of them */
};

struct handle {
	struct handle *next;
	enum xpshim_kind kind;
	xentoollog_logger *logger; /* NULL: stderr, as the libraries' own */
};

/* Per page of a share. */
#define PG_MAPPED 1u /* still mapped somewhere in the process */
#define PG_SEEN 2u   /* found by the sweep in progress */

/* One xengntshr_share_pages call: what gntalloc frees as a whole once the
 * last piece of its mapping is gone. */
struct share {
	struct share *prev, *next; /* oldest first */
	struct backing *b;   /* page i is arena page b->first + i, refs[i] */
	unsigned int count;
	unsigned int mapped; /* pages with PG_MAPPED */
	unsigned long stamp; /* of the unshare looking at it */
	uint8_t *state;      /* count PG_* flags */
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
	dev_t arena_dev;       /* its identity in /proc/self/maps */
	ino_t arena_ino;
	uint64_t arena_pages;  /* handed out so far; never reused */
	uint64_t arena_cap;    /* the memfd's size, in pages */
	uint8_t *view;         /* the hypervisor's mapping of all of it */
	struct entry **rev;    /* arena page -> its entry, NULL once freed */
	uint64_t rng;
	uint64_t next_frame;   /* above every frame handed out */
	struct {               /* XPSHIM_CONTIG_LINUX's cursor */
		uint64_t next;
		unsigned int left;
		bool up;
	} run;
	struct domain **doms;
	unsigned int ndoms;
	struct handle *handles;
	struct share *shares, *shares_last;
	unsigned long stamp;
	struct map *maps;
	struct peer_map *peers;
	struct table_map *tables;
	unsigned long table_seq;
	unsigned int shared;   /* gntalloc's count: pages of live shares */
	unsigned long calls[XPSHIM_FN_COUNT];
	struct {
		bool armed, fired;
		int fn;        /* -1: any */
		unsigned long left;
		int err;
	} fault;
	/* /proc/self/maps; survives resets. */
	struct {
		int fd;        /* opened by process pid */
		pid_t pid;
		bool query;    /* PROCMAP_QUERY works on it */
		char *text;
		size_t cap;
	} procmaps;
} st = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.arena = -1,
	.procmaps = { .fd = -1 },
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
		.maps_text = 0,
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
	static const char *const contigs[] = { "full", "none", "random",
					       "linux" };
	static const char *const modes[] = { "pv", "hvm" };
	static const char *const absents[] = { "0", "enoent", "noerrno" };
	static const char *const maps[] = { "auto", "text" };
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
	env_word("XPSHIM_CONTIG", contigs, 4, &w);
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
	env_word("XPSHIM_MAPS", maps, 2, &cfg->maps_text);
}

static void config_check(const struct xpshim_config *c)
{
	if (c->self_domid < DOMID_FIRST_RESERVED && c->table_frames >= 1 &&
	    c->table_frames <= MAX_TABLE_FRAMES &&
	    (c->gnttab_version == 1 || c->gnttab_version == 2) &&
	    c->contig <= XPSHIM_CONTIG_LINUX && c->max_run >= 1 &&
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

/* As libxenctrl reports a table's size: frames * (PAGE_SIZE /
 * sizeof(grant_entry_v1_t)) whatever the version, so that a caller that
 * believed it to be a count of v2 entries would unmap and read twice too
 * much. */
static int table_gnt_num(void)
{
	return (int)(st.cfg.table_frames * (PAGE / sizeof(grant_entry_v1_t)));
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

static void domain_free(struct domain *d)
{
	if (d != NULL) {
		free(d->e);
		free(d->free);
		free(d);
	}
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
	d->free = calloc(table_entries(), sizeof(*d->free));
	if (d->e == NULL || d->free == NULL) {
		domain_free(d);
		return NULL;
	}
	d->domid = domid;
	d->fresh = REF_FIRST;
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
	return st.view + (size_t)(e->b->first + e->page) * PAGE;
}

static off_t entry_offset(const struct entry *e)
{
	return (off_t)((e->b->first + e->page) * PAGE);
}

/* The entry arena page @p page belongs to, NULL if it is free. */
static struct entry *rev_entry(uint64_t page)
{
	return page < st.arena_pages ? st.rev[page] : NULL;
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

static int arena_open(void)
{
	struct stat sb;

	st.arena = memfd_create("xpshim-memory", MFD_CLOEXEC);
	if (st.arena < 0)
		return -errno;
	if (fstat(st.arena, &sb) != 0) {
		int rc = -errno;

		close(st.arena);
		st.arena = -1;
		return rc;
	}
	st.arena_dev = sb.st_dev;
	st.arena_ino = sb.st_ino;
	return 0;
}

/* Room for @p need arena pages: the memfd (sparse) and the view grow by
 * doubling, the reverse index with them. */
static int arena_grow(uint64_t need)
{
	uint64_t cap = st.arena_cap ? st.arena_cap : 256;
	struct entry **rev;
	void *view;

	while (cap < need)
		cap *= 2;
	rev = realloc(st.rev, cap * sizeof(*rev));
	if (rev == NULL)
		return -ENOMEM;
	memset(rev + st.arena_cap, 0, (cap - st.arena_cap) * sizeof(*rev));
	st.rev = rev;
	if (ftruncate(st.arena, (off_t)(cap * PAGE)) < 0)
		return -errno;
	view = st.view == NULL
		       ? mmap(NULL, cap * PAGE, PROT_READ | PROT_WRITE,
			      MAP_SHARED, st.arena, 0)
		       : mremap(st.view, st.arena_cap * PAGE, cap * PAGE,
				MREMAP_MAYMOVE);
	if (view == MAP_FAILED)
		return -errno;
	st.view = view;
	st.arena_cap = cap;
	return 0;
}

static int backing_new(unsigned int n, struct backing **out)
{
	struct backing *b = calloc(1, sizeof(*b));
	uint64_t need = st.arena_pages + n;
	int rc;

	if (b == NULL)
		return -ENOMEM;
	rc = st.arena < 0 ? arena_open() : 0;
	if (rc == 0 && need > st.arena_cap)
		rc = arena_grow(need);
	if (rc != 0) {
		free(b);
		return rc;
	}
	b->first = st.arena_pages;
	b->npages = n;
	st.arena_pages = need;
	*out = b;
	return 0;
}

static void backing_put(struct backing *b)
{
	if (--b->users > 0)
		return;
	/* Gives the memory back; the offsets are never used again. */
	fallocate(st.arena, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)(b->first * PAGE), (off_t)b->npages * PAGE);
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
 * XPSHIM_CONTIG_LINUX: gntalloc takes its pages one at a time from the
 * page allocator, so each page continues the current run of the free
 * lists, up or down, whichever grant it is for.  A run is 1..max_run frames
 * long, in a random direction; the next one starts past a gap of frames
 * never handed out, so that runs never join.
 */
static uint64_t linux_frame(void)
{
	unsigned int len;
	uint64_t base;

	if (st.run.left == 0) {
		len = 1 + rng_below(&st.rng, st.cfg.max_run);
		base = st.next_frame + 1 + rng_below(&st.rng, 8);
		st.run.up = rng_below(&st.rng, 2) == 0;
		st.run.next = st.run.up ? base : base + len - 1;
		st.run.left = len;
		st.next_frame = base + len;
	}
	st.run.left--;
	return st.run.up ? st.run.next++ : st.run.next--;
}

/*
 * Frames for @p n pages granted together.  Except in "linux" mode, runs of
 * consecutive frames are cut from a rising cursor with at least one unused
 * frame between runs, so that no two runs ever join (in "none", where every
 * run is one frame, no two frames the shim hands out are consecutive);
 * unless contiguity is full, the runs are then shuffled, so that frames do
 * not even rise with the address.
 */
static int alloc_frames(unsigned int n, uint64_t *frames)
{
	struct {
		uint64_t first;
		unsigned int len;
	} *runs, tmp;
	unsigned int nruns = 0, i, k, at = 0;

	if (st.cfg.contig == XPSHIM_CONTIG_LINUX) {
		for (i = 0; i < n; i++)
			frames[i] = linux_frame();
		return 0;
	}
	runs = malloc(n * sizeof(*runs));
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
 * frames.  Refs come off the domain's free list, the last released first,
 * then never-used ones in ascending order, as Linux's grant allocator hands
 * them out.  Writes @p refs only on success; changes nothing on failure.
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
	if (d->nfree + (table_entries() - d->fresh) < n)
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
	for (i = 0; i < n; i++) {
		r = d->nfree > 0 ? d->free[--d->nfree] : d->fresh++;
		d->e[r] = (struct entry){
			.b = b,
			.page = i,
			.frame = frames[i],
			.grantee = grantee,
			.readonly = readonly,
			.guest = guest,
		};
		st.rev[b->first + i] = &d->e[r];
		refs[i] = r;
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

	st.rev[b->first + d->e[ref].page] = NULL;
	memset(&d->e[ref], 0, sizeof(d->e[ref]));
	d->free[d->nfree++] = ref;
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

/* ---- where the arena's pages are mapped ------------------------------- */

/* A mapping of the arena: [start, end) holds arena pages from @p page on. */
typedef void (*arena_fn)(uintptr_t start, uintptr_t end, uint64_t page,
			 void *arg);

static bool is_arena(uint64_t ino, unsigned int dev_major,
		     unsigned int dev_minor)
{
	return ino == st.arena_ino && dev_major == major(st.arena_dev) &&
	       dev_minor == minor(st.arena_dev);
}

static void query_init(struct procmap_query_v1 *q, uint64_t addr)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->query_flags = QUERY_COVERING_OR_NEXT_VMA | QUERY_FILE_BACKED_VMA;
	q->query_addr = addr;
}

/*
 * /proc/self/maps, opened by this very process (a descriptor inherited
 * across fork would describe the parent), and whether PROCMAP_QUERY works
 * on it.  -1 if it cannot be opened.
 */
static int maps_fd(void)
{
	struct procmap_query_v1 q;
	pid_t pid = getpid();

	if (st.procmaps.fd >= 0 && st.procmaps.pid == pid)
		return st.procmaps.fd;
	if (st.procmaps.fd >= 0)
		close(st.procmaps.fd);
	st.procmaps.fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	st.procmaps.pid = pid;
	if (st.procmaps.fd < 0)
		return -1;
	query_init(&q, 0);
	st.procmaps.query = ioctl(st.procmaps.fd, PROCMAP_QUERY_V1, &q) == 0 ||
			errno == ENOENT;
	return st.procmaps.fd;
}

static int walk_query(int fd, uintptr_t lo, uintptr_t hi, arena_fn fn,
		      void *arg)
{
	struct procmap_query_v1 q;
	uint64_t at = lo;

	while (at < hi) {
		query_init(&q, at);
		if (ioctl(fd, PROCMAP_QUERY_V1, &q) != 0)
			return errno == ENOENT ? 0 : -errno; /* none after */
		if (q.vma_start >= hi)
			break;
		if (is_arena(q.inode, q.dev_major, q.dev_minor))
			fn(q.vma_start, q.vma_end, q.vma_offset / PAGE, arg);
		at = q.vma_end;
	}
	return 0;
}

/*
 * The first @p n numbers of a line "start-end perms offset major:minor
 * inode ...", the permissions skipped; false if it is not such a line.
 */
static bool maps_line(const char *p, uint64_t v[6], int n)
{
	static const char seps[] = { '-', ' ', ' ', ':', ' ', '\0' };
	static const int bases[] = { 16, 16, 16, 16, 16, 10 };
	char *end;
	int i;

	for (i = 0; i < n; i++) {
		v[i] = strtoull(p, &end, bases[i]);
		if (end == p || (seps[i] != '\0' && *end != seps[i]))
			return false;
		p = end + 1;
		if (i == 1) { /* skip the permissions */
			p = strchr(p, ' ');
			if (p == NULL)
				return false;
			p++;
		}
	}
	return true;
}

/*
 * /proc/self/maps read from the start, a page a read (the kernel gives no
 * more at once, and valgrind's memcheck checks the whole buffer of every
 * read), each whole line looked at as it comes, up to the first line past
 * the range.
 */
static int walk_text(int fd, uintptr_t lo, uintptr_t hi, arena_fn fn,
		     void *arg)
{
	size_t len = 0, at = 0, cap;
	const char *line, *nl;
	uint64_t v[6];
	ssize_t n;
	char *p;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return -errno;
	for (;;) {
		if (st.procmaps.cap - len <= PAGE) {
			cap = st.procmaps.cap ? 2 * st.procmaps.cap : 16 * PAGE;
			p = realloc(st.procmaps.text, cap);
			if (p == NULL)
				return -ENOMEM;
			st.procmaps.text = p;
			st.procmaps.cap = cap;
		}
		n = read(fd, st.procmaps.text + len, PAGE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		len += (size_t)n;
		/* Lines are in address order; those in range are read whole. */
		while ((nl = memchr(st.procmaps.text + at, '\n', len - at)) !=
		       NULL) {
			line = st.procmaps.text + at;
			at = (size_t)(nl - st.procmaps.text) + 1;
			if (!maps_line(line, v, 2) || v[1] <= lo)
				continue;
			if (v[0] >= hi)
				return 0;
			if (maps_line(line, v, 6) &&
			    is_arena(v[5], (unsigned int)v[3],
				     (unsigned int)v[4]))
				fn(v[0], v[1], v[2] / PAGE, arg);
		}
	}
}

/*
 * Call @p fn for every mapping of the arena that overlaps [@p lo, @p hi),
 * in address order, wherever the process moved it; @p fn changes no
 * mapping.  0 or a negative errno (then @p fn may have seen some of them).
 */
static int arena_walk(uintptr_t lo, uintptr_t hi, arena_fn fn, void *arg)
{
	int fd;

	if (st.arena < 0 || lo >= hi)
		return 0;
	fd = maps_fd();
	if (fd < 0)
		return -errno;
	if (st.procmaps.query && !st.cfg.maps_text)
		return walk_query(fd, lo, hi, fn, arg);
	return walk_text(fd, lo, hi, fn, arg);
}

/* Whether the page at @p va, which holds @p e, is the hypervisor's or a
 * peer's view of it (not memory handed out to the process). */
static bool other_view(uintptr_t va, const struct entry *e)
{
	const struct peer_map *pm;

	if (va - (uintptr_t)st.view < st.arena_cap * PAGE)
		return true;
	for (pm = st.peers; pm != NULL && e->maps > 0; pm = pm->next)
		if ((uintptr_t)pm->addr == va &&
		    entry_get(pm->granter, pm->ref) == e)
			return true;
	return false;
}

/* Whether the page at @p va, which holds @p e, is a gntdev mapping of it
 * (a domain may map its own grants). */
static bool gntdev_view(uintptr_t va, const struct entry *e)
{
	const struct map *m;
	uintptr_t a, i;

	for (m = st.maps; m != NULL && e->maps > 0; m = m->next) {
		a = (uintptr_t)m->addr;
		if (va < a || va - a >= (uintptr_t)m->count * PAGE)
			continue;
		i = (va - a) / PAGE;
		if (entry_get(m->g[i].domid, m->g[i].ref) == e)
			return true;
	}
	return false;
}

/* The share whose own page is at @p va (arena page @p page), or NULL. */
static struct share *share_page_at(uintptr_t va, uint64_t page)
{
	struct entry *e = rev_entry(page);

	if (e == NULL || e->b->share == NULL || other_view(va, e) ||
	    gntdev_view(va, e))
		return NULL;
	return e->b->share;
}

/* ---- shares ------------------------------------------------------------ */

static void share_unlink(struct share *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		st.shares = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		st.shares_last = s->prev;
}

/* No page of @p s is mapped any more: gntalloc ends its grants, in ref
 * order, and it no longer counts against the limit. */
static void share_release(struct share *s)
{
	unsigned int i;

	share_unlink(s);
	s->b->share = NULL;
	for (i = 0; i < s->count; i++)
		entry_release(st.cfg.self_domid, s->refs[i]);
	st.shared -= s->count;
	free(s->state);
	free(s);
}

static void seen_fn(uintptr_t start, uintptr_t end, uint64_t page,
		    void *arg)
{
	uintptr_t va;
	struct share *s;

	(void)arg;
	for (va = start; va < end; va += PAGE, page++) {
		s = share_page_at(va, page);
		if (s != NULL)
			s->state[page - s->b->first] |= PG_SEEN;
	}
}

/*
 * Look at every mapping of the process: a share none of whose pages is
 * mapped any more (the process unmapped them itself) is released, oldest
 * first, as gntalloc did when they went.
 */
static void sweep_locked(void)
{
	struct share *s, *next;
	unsigned int i;

	for (s = st.shares; s != NULL; s = s->next)
		for (i = 0; i < s->count; i++)
			s->state[i] &= (uint8_t)~PG_SEEN;
	if (arena_walk(0, UINTPTR_MAX, seen_fn, NULL) != 0)
		return;
	for (s = st.shares; s != NULL; s = next) {
		next = s->next;
		s->mapped = 0;
		for (i = 0; i < s->count; i++) {
			s->state[i] = (s->state[i] & PG_SEEN) ? PG_MAPPED : 0;
			s->mapped += s->state[i] == PG_MAPPED;
		}
		if (s->mapped == 0)
			share_release(s);
	}
}

/* ---- reset and the calls' prologue and epilogue ---------------------- */

/* Mappings to unmap once the walk is over. */
struct ranges {
	struct {
		uintptr_t start, end;
	} *r;
	size_t n, cap;
	int err;
};

static void ranges_fn(uintptr_t start, uintptr_t end, uint64_t page,
		      void *arg)
{
	struct ranges *rs = arg;
	void *r;

	(void)page;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		if (r == NULL) {
			rs->err = -ENOMEM;
			return;
		}
		rs->r = r;
	}
	rs->r[rs->n].start = start;
	rs->r[rs->n++].end = end;
}

/* Every mapping of the arena (the hypervisor's view included), wherever
 * the process moved it. */
static void unmap_arena_locked(void)
{
	struct ranges rs = { 0 };
	size_t i;

	if (arena_walk(0, UINTPTR_MAX, ranges_fn, &rs) != 0 || rs.err != 0)
		fprintf(stderr, "xpshim: cannot read /proc/self/maps: pages "
				"of the last run may stay mapped\n");
	for (i = 0; i < rs.n; i++)
		munmap((void *)rs.r[i].start, rs.r[i].end - rs.r[i].start);
	free(rs.r);
}

static void teardown_locked(void)
{
	unsigned int i;
	uint32_t r;

	unmap_arena_locked();
	while (st.shares != NULL) {
		struct share *s = st.shares;

		st.shares = s->next;
		free(s->state);
		free(s);
	}
	st.shares_last = NULL;
	while (st.maps != NULL) {
		struct map *m = st.maps;

		st.maps = m->next;
		free(m);
	}
	while (st.peers != NULL) {
		struct peer_map *p = st.peers;

		st.peers = p->next;
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
		domain_free(st.doms[i]);
	}
	free(st.doms);
	st.doms = NULL;
	st.ndoms = 0;
	free(st.rev);
	st.rev = NULL;
	st.view = NULL;
	st.arena_cap = 0;
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
	memset(&st.run, 0, sizeof(st.run));
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

int xpshim__begin(struct xpshim_call *c, enum xpshim_fn fn, void *h)
{
	*c = (struct xpshim_call){ .fn = fn, .h = h };
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

static void xtl_error(xentoollog_logger *lg, int errnoval,
		      const char *context, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void xtl_error(xentoollog_logger *lg, int errnoval,
		      const char *context, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lg->vmessage(lg, XTL_ERROR, errnoval, context, fmt, ap);
	va_end(ap);
}

/*
 * A call failed with @p err: say so as the real library does, to the
 * logger of its handle, or with none given, on stderr as the stdio logger
 * the library then makes would (one line).  A handle that is not open has
 * no logger: nothing is said.
 */
static void report(const struct xpshim_call *c, int err)
{
	const struct fn_error *fe = &fn_errors[c->fn];
	xentoollog_logger *lg = NULL;
	const struct handle *h;
	bool open;

	if (fe->msg == NULL || c->quiet)
		return;
	lock();
	h = handle_find(c->h, fe->kind);
	open = h != NULL;
	if (open)
		lg = h->logger;
	unlock();
	if (!open)
		return;
	if (lg != NULL)
		xtl_error(lg, fe->with_errno ? err : -1, fe->context, "%s",
			  fe->msg);
	else if (fe->with_errno)
		fprintf(stderr, "%s: error: %s: %s\n", fe->context, fe->msg,
			strerror(err));
	else
		fprintf(stderr, "%s: error: %s\n", fe->context, fe->msg);
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

	if (err >= 0)
		report(c, err);
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

	if (err >= 0)
		report(c, err);
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

/* Xen absent: the real libraries' opens fail without a word. */
int xpshim__open(enum xpshim_kind kind, xentoollog_logger *logger,
		 void **out)
{
	struct handle *h;
	int rc = 0;

	lock();
	if (st.cfg.absent == XPSHIM_ABSENT_ENOENT)
		rc = -ENOENT;
	else if (st.cfg.absent == XPSHIM_ABSENT_NOERRNO)
		rc = XPSHIM_FAIL_NOERRNO;
	else if ((h = calloc(1, sizeof(*h))) == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		h->kind = kind;
		h->logger = logger;
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
			xentoollog_logger *logger, unsigned int open_flags)
{
	struct xpshim_call c;
	void *h = NULL;
	int rc = 0;

	if (xpshim__begin(&c, fn, NULL))
		rc = xpshim__open(kind, logger, &h);
	return xpshim__end_ptr(&c, rc, h, "%p, %#x", (void *)logger,
			       open_flags);
}

int xpshim__close_call(enum xpshim_fn fn, enum xpshim_kind kind, void *h)
{
	struct xpshim_call c;
	int rc = 0, ok, closed;

	ok = xpshim__begin(&c, fn, h);
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

	(void)nr;
	lock();
	rc = handle_find(h, XPSHIM_GNTTAB) != NULL ? 0 : -EBADF;
	unlock();
	return rc;
}

/* ---- share mode -------------------------------------------------------- */

static int share_locked(uint32_t grantee, unsigned int n, bool readonly,
			uint32_t *refs, void **out)
{
	struct share *s = calloc(1, sizeof(*s) + n * sizeof(s->refs[0]));
	struct backing *b;
	unsigned int i;
	void *addr;
	int rc = -ENOMEM;

	if (s == NULL)
		return -ENOMEM;
	s->state = malloc(n);
	if (s->state == NULL)
		goto err;
	/* gntalloc's limit counts pages of all its files, as Linux does. */
	rc = n > st.cfg.limit - st.shared
		     ? -ENOSPC
		     : grant(st.cfg.self_domid, grantee, n, readonly, false,
			     s->refs, &b);
	if (rc != 0)
		goto err;
	/* The granter's own mapping is writable even for a read-only grant. */
	addr = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    st.arena, (off_t)(b->first * PAGE));
	if (addr == MAP_FAILED) {
		rc = -errno;
		for (i = 0; i < n; i++)
			entry_free(st.cfg.self_domid, s->refs[i]);
		goto err;
	}
	memset(s->state, PG_MAPPED, n);
	s->b = b;
	b->share = s;
	s->count = s->mapped = n;
	s->prev = st.shares_last;
	if (s->prev != NULL)
		s->prev->next = s;
	else
		st.shares = s;
	st.shares_last = s;
	st.shared += n;
	memcpy(refs, s->refs, n * sizeof(*refs));
	*out = addr;
	return 0;
err:
	free(s->state);
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
	if (rc == 0) {
		rc = share_locked(grantee, (unsigned int)count, !writable,
				  refs, out);
		/* Pages the process unmapped by itself (gntalloc released
		 * them then) may make room. */
		if (rc == -ENOSPC) {
			sweep_locked();
			rc = share_locked(grantee, (unsigned int)count,
					  !writable, refs, out);
		}
	}
	unlock();
	return rc;
}

/* Pages of shares found in the range an unshare unmaps, in address order. */
struct unshared {
	uintptr_t lo, hi;
	struct {
		struct share *s;
		unsigned int page;
		bool last; /* the last page of s in the range */
	} *pg;
	size_t n, cap;
	int err;
};

static void unshared_fn(uintptr_t start, uintptr_t end, uint64_t page,
			void *arg)
{
	struct unshared *u = arg;
	uintptr_t va = start > u->lo ? start : u->lo;
	uintptr_t top = end < u->hi ? end : u->hi;
	struct share *s;
	void *pg;

	for (page += (va - start) / PAGE; va < top; va += PAGE, page++) {
		s = share_page_at(va, page);
		if (s == NULL)
			continue;
		if (u->n == u->cap) {
			u->cap = u->cap ? 2 * u->cap : 16;
			pg = realloc(u->pg, u->cap * sizeof(*u->pg));
			if (pg == NULL) {
				u->err = -ENOMEM;
				return;
			}
			u->pg = pg;
		}
		u->pg[u->n].s = s;
		u->pg[u->n].page = (unsigned int)(page - s->b->first);
		u->pg[u->n++].last = false;
	}
}

/*
 * The pages in @p u are unmapped.  A share is released when its last piece
 * goes: the kernel closes the pieces of a range in address order, so
 * shares go in the order of their last page in the range.
 */
static void unshared_locked(struct unshared *u)
{
	unsigned long stamp = ++st.stamp;
	struct share *s;
	size_t i;

	for (i = u->n; i-- > 0;) {
		if (u->pg[i].s->stamp != stamp) {
			u->pg[i].s->stamp = stamp;
			u->pg[i].last = true;
		}
	}
	for (i = 0; i < u->n; i++) {
		s = u->pg[i].s;
		if (s->state[u->pg[i].page] & PG_MAPPED) {
			s->state[u->pg[i].page] = 0;
			s->mapped--;
		}
		if (u->pg[i].last && s->mapped == 0)
			share_release(s);
	}
}

/*
 * On Linux unshare is munmap: any page-aligned range, whatever the handle,
 * wherever the process moved the pages.  The shares with pages in the range
 * are found by arena offset (gntdev mappings and peer views of the same
 * pages are not theirs).
 */
int xpshim__unshare(void *addr, uint32_t count)
{
	uintptr_t a = (uintptr_t)addr;
	size_t len = (size_t)count * PAGE;
	struct unshared u = { .lo = a, .hi = a + len };
	int rc = 0;

	lock();
	/* What munmap refuses before looking at the range. */
	if (count == 0 || a % PAGE != 0 || len > UINTPTR_MAX - a)
		rc = -EINVAL;
	if (rc == 0)
		rc = arena_walk(u.lo, u.hi, unshared_fn, &u);
	if (rc == 0)
		rc = u.err;
	if (rc == 0 && munmap(addr, len) != 0)
		rc = -errno;
	if (rc == 0)
		unshared_locked(&u);
	unlock();
	free(u.pg);
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

/*
 * Whatever Xen refuses, gntdev's mmap fails with EINVAL: a granter that is
 * not a domain (DOMID_SELF included: a domain maps its own grants by its
 * number), a ref not in use, a ref granted to another domain, PROT_WRITE on
 * a read-only grant.
 */
static int map_check(uint32_t granter, uint32_t ref, int prot)
{
	const struct entry *e = NULL;

	if (granter < DOMID_FIRST_RESERVED)
		e = entry_get(granter, ref);
	if (e == NULL || e->grantee != st.cfg.self_domid ||
	    ((prot & PROT_WRITE) && e->readonly))
		return -EINVAL;
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
		m->g[i].domid = domids[i * domid_step];
		m->g[i].ref = refs[i];
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

/*
 * Unprivileged, as measured in a PV domU of Xen 4.17: libxenctrl opens
 * (privcmd is there), but every grant-table operation on any domain, its
 * own included, fails with EPERM.
 */
static int privileged_locked(void)
{
	return st.cfg.unprivileged ? -EPERM : 0;
}

int xpshim__gnttab_version(void *h, uint32_t domid)
{
	int rc;

	lock();
	if (handle_find(h, XPSHIM_XC) == NULL)
		rc = -EBADF;
	else if ((rc = privileged_locked()) == 0)
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
	else if ((rc = privileged_locked()) == 0)
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
	*gnt_num = table_gnt_num();
	return 0;
}

int xpshim__map_table(void *h, uint32_t domid, void **out, int *gnt_num)
{
	int rc;

	lock();
	if (handle_find(h, XPSHIM_XC) == NULL) {
		rc = -EBADF;
	} else if (st.cfg.unprivileged) {
		rc = -EPERM;
	} else if (domid == st.cfg.self_domid) {
		/* Xen refuses a foreign mapping that names the caller by its
		 * number; libxenctrl has learnt the size by then. */
		*gnt_num = table_gnt_num();
		rc = -ESRCH;
	} else {
		rc = resolve(domid, &domid);
	}
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
	sweep_locked();
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

struct page_at {
	uintptr_t va;
	const struct entry *e;
};

static void page_at_fn(uintptr_t start, uintptr_t end, uint64_t page,
		       void *arg)
{
	struct page_at *pa = arg;
	const struct entry *e = rev_entry(page + (pa->va - start) / PAGE);

	(void)end;
	if (e != NULL && !other_view(pa->va, e))
		pa->e = e;
}

uint64_t xpshim_frame_of(const void *va)
{
	struct page_at pa = { .va = (uintptr_t)va & ~(uintptr_t)(PAGE - 1) };
	uint64_t frame;

	lock();
	arena_walk(pa.va, pa.va + 1, page_at_fn, &pa);
	frame = pa.e != NULL ? pa.e->frame : (uint64_t)-1;
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
