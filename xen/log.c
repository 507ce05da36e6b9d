/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Xen libraries' messages, through xenpool's log.
 *
 * libxengnttab and libxenctrl print their errors to stderr unless they are
 * given a xentoollog logger ("gntshr: error: ioctl failed: No space left
 * on device" once per halved batch near the gntalloc limit).  Each pool
 * hands its handles this logger instead, which passes every message to
 * xp_log() with the library's context ("gntshr", "gnttab", "xc").
 *
 * Levels: a library reports the failure of one call; the handler checks
 * every call and says itself what a failure means for the pool.  Where the
 * handler expects a call may fail and has an answer for it (a smaller
 * batch, grant-DMA addresses, the fallback handler), the library's error is
 * a detail: debug.  Elsewhere it keeps its level (error, warning...).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "private.h"

static int xp_level(xentoollog_level level)
{
	switch (level) {
	case XTL_CRITICAL:
	case XTL_ERROR:
		return XP_LOG_ERR;
	case XTL_WARN:
		return XP_LOG_WARNING;
	case XTL_NOTICE:
		return XP_LOG_NOTICE;
	case XTL_INFO:
	case XTL_PROGRESS:
		return XP_LOG_INFO;
	default:
		return XP_LOG_DEBUG;
	}
}

static void logger_vmessage(xentoollog_logger *xtl, xentoollog_level level,
			    int errnoval, const char *context,
			    const char *format, va_list al)
{
	/* vtable is the first member: the libraries pass its address. */
	const struct xpx_logger *l = (const struct xpx_logger *)xtl;
	int xl = xp_level(level);
	char msg[256];

	if (l->expect_failure && xl < XP_LOG_DEBUG)
		xl = XP_LOG_DEBUG;
	vsnprintf(msg, sizeof(msg), format, al);
	if (errnoval >= 0)
		xp_log(xl, "xen_dom0: %s: %s: %s", context ? context : "xen",
		       msg, strerror(errnoval));
	else
		xp_log(xl, "xen_dom0: %s: %s", context ? context : "xen", msg);
}

/* The pool owns the logger; the libraries never destroy one they were
 * given, but a no-op is safer than a NULL pointer if one ever did. */
static void logger_destroy(xentoollog_logger *xtl)
{
	(void)xtl;
}

void xpx_logger_init(struct xpx_logger *l)
{
	memset(l, 0, sizeof(*l));
	l->vtable.vmessage = logger_vmessage;
	l->vtable.destroy = logger_destroy;
}
