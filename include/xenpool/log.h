/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Logging.
 *
 * xenpool logs control-path events (a handler that failed to register, a pool
 * created by a fallback handler, a bad put caught in debug mode...).  Fast
 * paths log only in debug mode and when a handler refuses a put (the
 * objects are lost).  Messages go to stderr by default, or
 * to a callback set with xp_log_set_callback().  The threshold is taken from
 * the environment variable XENPOOL_LOG on first use (a level name such as
 * "debug", "info", "notice", "warning", "error", "none", or the number), or
 * set with xp_log_set_level().  The default level is XP_LOG_NOTICE.
 */
#ifndef XENPOOL_LOG_H
#define XENPOOL_LOG_H

#include <stdarg.h>

#include <xenpool/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Log levels; the numbers are syslog's.  A message is emitted when its
 * level is numerically at or below the threshold. */
enum xp_log_level {
	XP_LOG_NONE = -1, /**< as a threshold: log nothing */
	XP_LOG_ERR = 3,
	XP_LOG_WARNING = 4,
	XP_LOG_NOTICE = 5,
	XP_LOG_INFO = 6,
	XP_LOG_DEBUG = 7,
};

/**
 * Log sink.  Called with the message level, the formatted message (no
 * trailing newline) and the argument given to xp_log_set_callback().  May be
 * called from any thread, concurrently; it must not call back into xenpool.
 * A message being emitted while the callback is replaced may still reach
 * the old callback with its old argument: keep both valid until no thread
 * can be logging (for example until the threads using xenpool are joined).
 */
typedef void xp_log_cb_t(int level, const char *msg, void *arg);

/**
 * Set the threshold.
 *
 * @param level XP_LOG_NONE (-1) to XP_LOG_DEBUG (7).  0 to 2 are syslog's
 *              emerg, alert and crit: valid, and above anything xenpool
 *              itself logs, so they silence the library's own messages.
 * @return 0, or -EINVAL if @p level is out of range (threshold unchanged).
 */
XP_EXPORT int xp_log_set_level(int level);

/**
 * Current threshold (reads XENPOOL_LOG on first use).
 *
 * @return the level.
 */
XP_EXPORT int xp_log_get_level(void);

/**
 * Parse a level name ("error", "warning", "notice", "info", "debug", "none",
 * in any case), or a decimal number from -1 to 7 with nothing around it (no
 * blank, no '+').
 *
 * @return the level, or -EINVAL if @p name is NULL or not a level.
 */
XP_EXPORT int xp_log_level_parse(const char *name);

/**
 * Send messages to @p cb instead of stderr; NULL restores stderr.
 *
 * @param cb  the sink, or NULL.
 * @param arg passed to every call of @p cb.
 */
XP_EXPORT void xp_log_set_callback(xp_log_cb_t *cb, void *arg);

/**
 * Emit a message at @p level (0 to 7) if the threshold allows; negative
 * levels are always dropped.  Used by the library and available to
 * handlers, so that their messages follow the same rules.
 */
XP_EXPORT void xp_log(int level, const char *fmt, ...) XP_PRINTF(2, 3);

/** va_list variant of xp_log(). */
XP_EXPORT void xp_vlog(int level, const char *fmt, va_list ap)
	XP_PRINTF(2, 0);

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_LOG_H */
