/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The mock hypervisor shim: control API for tests.
 *
 * Three shared libraries make the shim:
 *  - libxpshim.so: the simulated hypervisor (grant tables of every domain,
 *    frame allocator, gntalloc limit, peer mappings, fault injection, leak
 *    accounting) and this control API;
 *  - libxengnttab.so.1 (symbol versions VERS_1.0...) and libxenctrl.so.4.17
 *    (VERS_4.17.0): stand-ins for Debian's Xen 4.17 libraries, with the same
 *    sonames, versions, signatures and error conventions (NULL or -1 with
 *    errno), for the functions xenpool calls.  They forward to libxpshim.
 * Tests put the shim's directory first in LD_LIBRARY_PATH, so that
 * libxenpool's own dependencies resolve to the shim and its real code runs
 * unchanged.
 *
 * Every control function is thread-safe.  State is process-wide.  The first
 * use of any shim function reads the environment (below) as if
 * xpshim_reset(NULL) had been called, so that a program that knows nothing
 * of the shim (the xenpool CLI) can run under it.
 *
 * Environment (all optional):
 *   XPSHIM_SELF=DOMID         this process's domain (default 0, dom0)
 *   XPSHIM_LIMIT=N            gntalloc page limit (default 1024)
 *   XPSHIM_TABLE_FRAMES=N     grant-table frames per domain (default 64)
 *   XPSHIM_GNTTAB_VERSION=1|2 grant-table version of every domain (default 1)
 *   XPSHIM_CONTIG=full|none|random|linux  frame contiguity (default random)
 *   XPSHIM_MAX_RUN=N          longest run for "random" and "linux" (16)
 *   XPSHIM_SEED=N             frame allocator seed (default 1)
 *   XPSHIM_MODE=pv|hvm        frame numbering (default pv)
 *   XPSHIM_ABSENT=0|enoent|noerrno  Xen absent: the open functions fail
 *   XPSHIM_UNPRIVILEGED=0|1   a domU: libxenctrl opens, its grant-table
 *                             calls fail with EPERM
 *   XPSHIM_LOG=0|1            print each shimmed call to stderr
 *   XPSHIM_MAPS=auto|text     how the shim finds its pages (below)
 * A value that does not parse is ignored with a warning.
 *
 * What the stand-ins do: what Xen 4.17's libraries were measured to do on
 * a Debian 12 PV dom0 (Linux 6.1), and where that and Xen's headers leave
 * it open (errno on failure), the shim's choice:
 *  - loggers: each handle keeps the xentoollog_logger given to its open
 *    call.  A failure is reported as the real library does, at XTL_ERROR,
 *    to logger->vmessage, or with a NULL logger as one line on stderr:
 *      xengntshr_share_pages: "gntshr", errno, "ioctl failed"
 *        (stderr: "gntshr: error: ioctl failed: No space left on device");
 *      xengnttab_map_*: "gnttab", errno, "mmap failed"
 *        ("gnttab: error: mmap failed: Invalid argument");
 *      xc_gnttab_map_table_v1/_v2: "xc", errnoval -1, "Could not map grant
 *        table: Internal error" ("xc: error: Could not map grant table:
 *        Internal error"), except for a table of the other version or a
 *        NULL gnt_num, which fail at once and silently, as in libxenctrl.
 *    An injected fault on those calls is reported the same way, with its
 *    errno.  The opens fail silently (Xen absent), and so does any call on
 *    a handle that is not open (it has no logger).  Other calls report
 *    nothing (the real set_max_grants and query_size would, on failures
 *    the shim never has but for injected faults);
 *  - xengntshr_open, xengnttab_open, xc_interface_open: ENOENT or 0 when Xen
 *    is absent; unprivileged (a PV domU of Xen 4.17, measured),
 *    xc_interface_open works and xc_gnttab_get_version, _query_size and
 *    _map_table_v1/_v2 fail with EPERM for every domain, DOMID_SELF too;
 *  - a handle that is not open (closed, never opened, another kind): EBADF;
 *    closing NULL succeeds; a handle closed with mappings leaves them (leaks);
 *  - xengntshr_share_pages: EINVAL for count <= 0 or a reserved domid;
 *    ENOSPC beyond the gntalloc limit or when the table is full; the pages
 *    start zeroed; refs come from a last-in-first-out free list per domain,
 *    as Linux's grant allocator hands them out: never-used refs ascend from
 *    8, released ones come back the most recently released first (a share
 *    releases its refs in ref order: after 8..12 are released, the next
 *    share of 8 pages gets 12 11 10 9 8 13 14 15); xpshim_guest_grant
 *    takes refs the same way;
 *  - xengntshr_unshare is munmap(addr, count * 4096), whatever the handle:
 *    any range, EINVAL for count 0 or an address that is not page-aligned,
 *    0 for a range with nothing mapped.  As gntalloc, the shim releases a
 *    share (its refs freed, or kept as orphans while a grantee maps them,
 *    and its pages no longer counted against the limit) once no page of it
 *    is mapped in the process any more.  The process may move pages with
 *    mremap and unshare them where they are, in ranges that need not match
 *    share calls: the shim knows its pages by their offset in its memfd
 *    (gntdev mappings and peer views of the same pages are not the
 *    share's).  Pages the process unmaps with munmap itself count as
 *    unshared when the shim next looks (xpshim_leaks, or a share that
 *    would otherwise fail with ENOSPC);
 *  - xengnttab_map_grant_ref(s), xengnttab_map_domain_grant_refs: EINVAL
 *    for every failure, as gntdev's mmap: count 0, prot beyond
 *    PROT_READ|PROT_WRITE, a granter that is not a domain (DOMID_SELF
 *    included: a domain maps its own grants by its number), a ref not in
 *    use (reserved, free, beyond the table, a domain with none), a ref
 *    granted to another domain, PROT_WRITE on a read-only grant; nothing
 *    stays mapped on failure;
 *  - xengnttab_unmap: EINVAL unless address and count match one mapping
 *    made through the same handle;
 *  - xengnttab_set_max_grants: accepted and ignored (as on Linux);
 *  - xc_gnttab_get_version, xc_gnttab_query_size: any domain, this one by
 *    its number or DOMID_SELF; other reserved ids: EINVAL;
 *  - xc_gnttab_map_table_v1/_v2: EINVAL when the table has the other
 *    version; ESRCH for this domain's own number (Xen refuses a foreign
 *    mapping of the caller; *gnt_num is set, as libxenctrl sets it before
 *    mapping): map it under DOMID_SELF; table_frames * 4096 bytes,
 *    read-only, released by munmap; entries carry GTF_permit_access,
 *    GTF_readonly, the grantee, the frame;
 *  - xc_gnttab_query_size: nr_frames = max_nr_frames = table_frames.
 *
 * Finding pages: the shim looks up the mappings of its memfd in the
 * kernel, with PROCMAP_QUERY (Linux 6.11 and later, a call a mapping) or,
 * on older kernels or with XPSHIM_MAPS=text, by reading /proc/self/maps,
 * which costs far more (the whole file for each xpshim_frame_of, unshare,
 * leak count or reset).
 */
#ifndef XPSHIM_H
#define XPSHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* DOMID_SELF: self_domid, wherever Xen takes it (not in gntdev maps). */
#define XPSHIM_DOMID_SELF 0x7FF0u

/*
 * Where frame numbers start (the allocator adds a seeded offset below 8192
 * and climbs from there): PV frames are machine frames, high in a large
 * host; HVM frames are guest frames, low.  Tests can tell them apart.
 */
#define XPSHIM_PV_FRAME_BASE 0x200000u /* the MFN of 8 GiB */
#define XPSHIM_HVM_FRAME_BASE 0x1000u  /* the GFN of 16 MiB */

enum xpshim_contig {
	XPSHIM_CONTIG_FULL,   /* every share or grant gets consecutive frames */
	XPSHIM_CONTIG_NONE,   /* no two pages ever get consecutive frames */
	XPSHIM_CONTIG_RANDOM, /* each share or grant: runs of 1..max_run
			       * consecutive frames, shuffled */
	/*
	 * As Linux's gntalloc, which allocates page by page: one cursor for
	 * every share and grant, so that runs continue across calls (one-page
	 * shares one after another get consecutive frames); each run is
	 * 1..max_run frames long, ascending or descending (both were seen on
	 * real Xen), and the next starts past a gap, so that runs never join.
	 */
	XPSHIM_CONTIG_LINUX,
};

enum xpshim_absent {
	XPSHIM_PRESENT,
	XPSHIM_ABSENT_ENOENT,  /* opens fail with errno ENOENT */
	XPSHIM_ABSENT_NOERRNO, /* opens fail and leave errno 0 */
};

struct xpshim_config {
	uint32_t self_domid;     /* the domain this process runs in */
	unsigned int limit;      /* gntalloc: pages shared at once, all handles */
	unsigned int table_frames; /* grant-table frames of each domain */
	int gnttab_version;      /* 1 (512 entries a frame) or 2 (256) */
	enum xpshim_contig contig;
	unsigned int max_run;    /* for RANDOM and LINUX, >= 1 */
	uint64_t seed;
	int hvm;                 /* 0: PV, frames are MFNs; 1: HVM, GFNs */
	enum xpshim_absent absent;
	int unprivileged;        /* a domU: grant-table calls fail, EPERM */
	int log;
	int maps_text;           /* 1: read /proc/self/maps even where
				  * PROCMAP_QUERY would answer */
};

/** Defaults, as documented above (environment not applied). */
void xpshim_default_config(struct xpshim_config *cfg);

/**
 * Forget everything (grants, mappings, handles, counters, faults; every
 * mapping of the shim's pages is unmapped, wherever the process moved it)
 * and start over with @p cfg, or with the defaults overridden by the
 * environment when @p cfg is NULL.
 */
void xpshim_reset(const struct xpshim_config *cfg);

/* ---- what the handler did -------------------------------------------- */

/** Outstanding resources; all zero after a correct teardown.  Shares whose
 *  pages the process unmapped by itself count as released. */
struct xpshim_leaks {
	unsigned int refs;       /* grant entries still in use, any domain */
	unsigned int shared;     /* pages of shares not released (some page
				  * of theirs still mapped) */
	unsigned int mapped;     /* pages mapped by xengnttab_map_*, not unmapped */
	unsigned int handles;    /* xengntshr, xengnttab and xc handles open */
	unsigned int tables;     /* grant tables mapped by xc_gnttab_map_table_*
				  * and still mapped (checked with msync) */
};
void xpshim_leaks(struct xpshim_leaks *out);

/** 1 if every field of xpshim_leaks is 0 (prints what leaked otherwise). */
int xpshim_no_leaks(void);

/** Calls of shimmed function @p fn (e.g. "xengntshr_share_pages") since
 * the last reset; NULL: calls of all shimmed functions.  A name the shim
 * does not stand in for is a bug in the test: the program aborts. */
unsigned long xpshim_calls(const char *fn);

/**
 * Frame behind the page that contains @p va, if @p va lies in memory the
 * shim handed out (shared pages or mapped refs, wherever the process moved
 * them with mremap), else (uint64_t)-1.  The hypervisor's and the peers'
 * views of the pages are not handed out.
 */
uint64_t xpshim_frame_of(const void *va);

/** Grant entry @p ref of domain @p granter: 0, or -ENOENT if not in use. */
int xpshim_ref_info(uint32_t granter, uint32_t ref, uint64_t *frame,
		    uint32_t *grantee, int *readonly);

/* ---- fault injection ------------------------------------------------- */

/**
 * Make the @p nth call (1 = the next one) of shimmed function @p fn, or of
 * any shimmed function when @p fn is NULL, fail with errno @p err, in the
 * function's own convention (NULL or -1).  One pending fault at a time; a
 * reset or xpshim_fail_clear() removes it.  @p nth is at least 1 and @p fn
 * one that the shim stands in for; anything else aborts the program.
 */
void xpshim_fail_nth(const char *fn, unsigned long nth, int err);
void xpshim_fail_clear(void);
/** 1 once the pending fault has fired. */
int xpshim_fail_fired(void);

/* ---- the peer domain ------------------------------------------------- */

/**
 * Domain @p guest grants @p count fresh pages to @p grantee (map mode: a
 * guest granting to the backend).  Writes the refs to @p refs.
 * @return 0 or a negative errno (-ENOSPC when the guest's table is full).
 */
int xpshim_guest_grant(uint32_t guest, uint32_t grantee, unsigned int count,
		       int readonly, uint32_t *refs);
/** Revoke what xpshim_guest_grant gave (refs must not be mapped).
 * @return 0 or -EBUSY (a ref is still mapped) or -ENOENT. */
int xpshim_guest_revoke(uint32_t guest, unsigned int count,
			const uint32_t *refs);

/**
 * The peer @p peer maps ref @p ref of @p granter.  Fails with -EPERM when
 * @p writable is asked of a read-only grant or the ref is granted to another
 * domain, -ENOENT for a ref not in use.  @return the peer's view of the page
 * (a separate mapping of the same memory) via @p out, 0 on success.
 */
int xpshim_peer_map(uint32_t peer, uint32_t granter, uint32_t ref,
		    int writable, void **out);
int xpshim_peer_unmap(uint32_t peer, uint32_t granter, uint32_t ref);

/**
 * Hostile peer: write @p byte over every page currently granted writable by
 * any domain (through the peer's view).  @return pages written.
 */
unsigned int xpshim_scribble_all(uint8_t byte);
/** Start a thread that scribbles random bytes over every writable granted
 * page, over and over, until xpshim_scribbler_stop().  @return 0 or -errno. */
int xpshim_scribbler_start(void);
/** Stop it; @return full passes it made. */
unsigned long xpshim_scribbler_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* XPSHIM_H */
