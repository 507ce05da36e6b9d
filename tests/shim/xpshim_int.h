/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private contract between libxpshim.so and the stand-in libraries
 * (libxengnttab.so.1, libxenctrl.so.4.17).
 *
 * A stand-in function only converts between Xen's calling convention and
 * the simulated operations below, which take the shim's lock, return 0 or
 * a negative errno and change nothing when they fail:
 *
 *	struct xpshim_call c;
 *	int rc = 0;
 *
 *	if (xpshim__begin(&c, XPSHIM_FN_..., handle))
 *		rc = xpshim__operation(...);
 *	return xpshim__end_int(&c, rc, "args", ...);
 *
 * xpshim__begin() counts the call and fires a pending fault; the end
 * functions report a failure as the real library does (through the
 * handle's xentoollog logger, or on stderr), log the call (XPSHIM_LOG) and
 * set errno.
 */
#ifndef XPSHIM_INT_H
#define XPSHIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xentoollog.h>

#define XPSHIM_PAGE_SIZE 4096u

/* Every shimmed function: the index of its call counter. */
enum xpshim_fn {
	XPSHIM_FN_GNTSHR_OPEN,
	XPSHIM_FN_GNTSHR_CLOSE,
	XPSHIM_FN_GNTSHR_SHARE_PAGES,
	XPSHIM_FN_GNTSHR_UNSHARE,
	XPSHIM_FN_GNTTAB_OPEN,
	XPSHIM_FN_GNTTAB_CLOSE,
	XPSHIM_FN_GNTTAB_MAP_GRANT_REF,
	XPSHIM_FN_GNTTAB_MAP_GRANT_REFS,
	XPSHIM_FN_GNTTAB_MAP_DOMAIN_GRANT_REFS,
	XPSHIM_FN_GNTTAB_UNMAP,
	XPSHIM_FN_GNTTAB_SET_MAX_GRANTS,
	XPSHIM_FN_XC_INTERFACE_OPEN,
	XPSHIM_FN_XC_INTERFACE_CLOSE,
	XPSHIM_FN_XC_GNTTAB_GET_VERSION,
	XPSHIM_FN_XC_GNTTAB_QUERY_SIZE,
	XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V1,
	XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V2,
	XPSHIM_FN_COUNT
};

enum xpshim_kind {
	XPSHIM_GNTSHR,
	XPSHIM_GNTTAB,
	XPSHIM_XC,
};

/* An operation's result meaning "failed, errno 0" (Xen absent, noerrno). */
#define XPSHIM_FAIL_NOERRNO (-100000)

struct xpshim_call {
	enum xpshim_fn fn;
	void *h;     /* the handle whose logger hears of a failure */
	int failed;  /* a fault was injected: the call does nothing else */
	int err;     /* its errno */
	bool quiet;  /* a failure the real library does not report */
};

/** Start a shimmed call on handle @p h (NULL for the opens). @return 1 to
 * go on, 0 if a fault fired. */
int xpshim__begin(struct xpshim_call *c, enum xpshim_fn fn, void *h);

/* End a call: log it, set errno on failure (@p rc < 0 or a fault) and
 * return @p rc (>= 0) or -1 / @p p or NULL. */
int xpshim__end_int(const struct xpshim_call *c, int rc, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
void *xpshim__end_ptr(const struct xpshim_call *c, int rc, void *p,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- the simulated operations: 0 or a negative errno ----------------- */

int xpshim__open(enum xpshim_kind kind, xentoollog_logger *logger,
		 void **out);
/** A NULL handle is closed already (as with the real libraries). */
int xpshim__close(enum xpshim_kind kind, void *h);

/* ---- whole stand-ins shared by the three libraries' open and close ---- */

/** An open call @p fn of a handle of @p kind: the handle, or NULL with
 *  errno. */
void *xpshim__open_call(enum xpshim_fn fn, enum xpshim_kind kind,
			xentoollog_logger *logger, unsigned int open_flags);
/** A close call @p fn: 0 or -1 with errno.  Like Xen's, it frees the handle
 *  even when it reports an error (an injected fault included): the caller
 *  cannot retry it. */
int xpshim__close_call(enum xpshim_fn fn, enum xpshim_kind kind, void *h);
int xpshim__share(void *h, uint32_t domid, int count, uint32_t *refs,
		  int writable, void **out);
/* munmap, as on Linux: no handle. */
int xpshim__unshare(void *addr, uint32_t count);
/* Domain of ref i: domids[i * domid_step]. */
int xpshim__map(void *h, uint32_t count, const uint32_t *domids,
		size_t domid_step, const uint32_t *refs, int prot, void **out);
int xpshim__unmap(void *h, void *addr, uint32_t count);
int xpshim__set_max_grants(void *h, uint32_t nr);
/** @return the version (1 or 2) or a negative errno. */
int xpshim__gnttab_version(void *h, uint32_t domid);
int xpshim__query_size(void *h, uint32_t domid, uint32_t *nr_frames,
		       uint32_t *max_nr_frames);
/** Snapshot of @p domid's table, read-only, in the layout of the version
 *  the table has (the caller checked it). */
int xpshim__map_table(void *h, uint32_t domid, void **out, int *gnt_num);

#endif /* XPSHIM_INT_H */
