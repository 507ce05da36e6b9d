/* SPDX-License-Identifier: BSD-3-Clause */
/* The handler registry: register, lookup, walk, default. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/*
 * Entries are written once, under reg_lock, before nhandlers is raised with a
 * release store; readers load nhandlers with acquire (pairs with that store)
 * and may then read entries below it without the lock.  Entries never change
 * or go away, so pointers to them stay valid.
 */
static struct xp_mempool_ops handlers[XP_MEMPOOL_MAX_HANDLERS];
static unsigned int nhandlers;
static unsigned int ctor_errors;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Default handler: an index once set or resolved; before that, the name from
 * XENPOOL_DEFAULT_HANDLER or XP_MEMPOOL_BUILTIN_HANDLER, resolved when first
 * needed so that handlers registered by constructors of other objects
 * count. */
static int def_idx = -1;
static const char *def_name;
static char def_env[XP_MEMPOOL_NAMESIZE + 1]; /* copy: the environment may change */

static unsigned int handler_count(void)
{
	return __atomic_load_n(&nhandlers, __ATOMIC_ACQUIRE);
}

static int find_locked(const char *name, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		if (strcmp(handlers[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static int ops_valid(const struct xp_mempool_ops *ops)
{
	size_t len;

	if (ops == NULL || ops->create == NULL || ops->destroy == NULL ||
	    ops->get_bulk == NULL || ops->put_bulk == NULL ||
	    ops->get_count == NULL ||
	    (ops->flags & ~XP_MEMPOOL_OPS_F_MASK) != 0)
		return 0;
	len = strnlen(ops->name, XP_MEMPOOL_NAMESIZE);
	return len > 0 && len < XP_MEMPOOL_NAMESIZE;
}

int xp_mempool_handler_register(const struct xp_mempool_ops *ops)
{
	unsigned int count;
	int idx;

	if (!ops_valid(ops))
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	count = nhandlers;
	if (find_locked(ops->name, count) >= 0) {
		idx = -EEXIST;
	} else if (count == XP_MEMPOOL_MAX_HANDLERS) {
		idx = -ENOSPC;
	} else {
		handlers[count] = *ops;
		idx = (int)count;
		/* Release pairs with the acquire in handler_count(). */
		__atomic_store_n(&nhandlers, count + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&reg_lock);
	if (idx >= 0)
		XP_DBG("handler %s registered as %d", ops->name, idx);
	return idx;
}

int xp_mempool_handler_register_ctor(const struct xp_mempool_ops *ops)
{
	int ret = xp_mempool_handler_register(ops);

	if (ret < 0) {
		char name[XP_MEMPOOL_NAMESIZE] = "(null)";

		if (ops != NULL) {
			memcpy(name, ops->name, sizeof(name) - 1);
			name[sizeof(name) - 1] = '\0';
		}
		__atomic_add_fetch(&ctor_errors, 1, __ATOMIC_RELAXED);
		XP_ERR("handler \"%s\" failed to register from its "
		       "constructor: %s",
		       name, strerror(-ret));
	}
	return ret;
}

unsigned int xp_mempool_handler_register_errors(void)
{
	return __atomic_load_n(&ctor_errors, __ATOMIC_RELAXED);
}

static int index_of(const char *name)
{
	unsigned int count = handler_count(), i;

	for (i = 0; i < count; i++)
		if (strncmp(handlers[i].name, name, XP_MEMPOOL_NAMESIZE) == 0)
			return strlen(name) < XP_MEMPOOL_NAMESIZE ? (int)i
								  : -ENOENT;
	return -ENOENT;
}

/* A name not registered yet may be a driver's: load the drivers (once)
 * and look again. */
int xp_mempool_handler_index(const char *name)
{
	int idx;

	if (name == NULL)
		return -EINVAL;
	idx = index_of(name);
	if (idx == -ENOENT) {
		xp__drivers_autoload();
		idx = index_of(name);
	}
	return idx;
}

const struct xp_mempool_ops *xp_mempool_handler_lookup(const char *name)
{
	int idx = xp_mempool_handler_index(name);

	if (idx < 0) {
		errno = -idx;
		return NULL;
	}
	return &handlers[idx];
}

int xp_mempool_handler_walk(int (*cb)(const struct xp_mempool_ops *, void *),
			    void *arg)
{
	unsigned int count = handler_count(), i;
	int ret;

	if (cb == NULL)
		return -EINVAL;
	xp__drivers_autoload();
	count = handler_count();
	for (i = 0; i < count; i++) {
		ret = cb(&handlers[i], arg);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static const char *def_name_locked(void)
{
	if (def_idx >= 0)
		return handlers[def_idx].name;
	if (def_name == NULL) {
		const char *env = getenv("XENPOOL_DEFAULT_HANDLER");

		if (env != NULL && *env != '\0') {
			/* A name too long to register is kept too long, so
			 * that it resolves to nothing. */
			snprintf(def_env, sizeof(def_env), "%s", env);
			def_name = def_env;
		} else {
			def_name = XP_MEMPOOL_BUILTIN_HANDLER;
		}
	}
	return def_name;
}

int xp_mempool_def_handler(const char *name)
{
	int idx;

	if (name == NULL)
		return -EINVAL;
	idx = xp_mempool_handler_index(name);
	if (idx < 0)
		return idx;
	pthread_mutex_lock(&reg_lock);
	def_idx = idx;
	pthread_mutex_unlock(&reg_lock);
	return 0;
}

const char *xp_mempool_get_def_handler(void)
{
	const char *name;

	pthread_mutex_lock(&reg_lock);
	name = def_name_locked();
	pthread_mutex_unlock(&reg_lock);
	return name;
}

int xp__handler_resolve(const char *name, const struct xp_mempool_ops **ops)
{
	int idx;

	/* The reference keeps the built-in ring handlers (and their
	 * constructor) in a statically linked program. */
	if (!xp__ring_handlers_linked)
		return -ENOENT;
	if (name == NULL) {
		const char *dname;

		pthread_mutex_lock(&reg_lock);
		dname = def_name_locked();
		idx = def_idx >= 0 ? def_idx
				   : find_locked(dname, nhandlers);
		if (idx < 0) {
			/* A driver's handler, maybe (XENPOOL_DEFAULT_HANDLER
			 * names it): load the drivers, outside the lock
			 * their constructors take. */
			pthread_mutex_unlock(&reg_lock);
			xp__drivers_autoload();
			pthread_mutex_lock(&reg_lock);
			idx = find_locked(dname, nhandlers);
		}
		if (idx >= 0)
			def_idx = idx;
		pthread_mutex_unlock(&reg_lock);
		if (idx < 0)
			XP_ERR("default handler \"%s\"%s is not registered",
			       dname,
			       getenv("XENPOOL_DEFAULT_HANDLER") != NULL
				       ? " (from XENPOOL_DEFAULT_HANDLER)"
				       : "");
	} else {
		idx = xp_mempool_handler_index(name);
		if (idx == -ENOENT)
			XP_ERR("handler \"%s\" is not registered: link or load "
			       "its driver (xp_driver_load(), or "
			       "XENPOOL_DRIVERS=FILE-OR-DIR; drivers in %s load "
			       "by themselves)",
			       name, xp__driver_dir());
	}
	if (idx >= 0)
		*ops = &handlers[idx];
	return idx;
}
