/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Handler drivers: shared objects that register handlers from their
 * constructors (XP_MEMPOOL_REGISTER_HANDLER), as DPDK's mempool drivers
 * do.  The core names none of them.  A program gets a driver by linking
 * it, by xp_driver_load(), or from the driver directories, which the
 * registry loads once, the first time it is asked for a handler it does
 * not have (or for the list of all): the directories and files of
 * $XENPOOL_DRIVERS (colon-separated, like DPDK's -d), then XP_DRIVER_DIR,
 * where `make install` puts the project's drivers.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"

static pthread_once_t autoload_once = PTHREAD_ONCE_INIT;

/* Drivers are never unloaded: their handlers stay registered. */
static int load_file(const char *path)
{
	if (dlopen(path, RTLD_NOW | RTLD_GLOBAL) == NULL) {
		XP_ERR("driver %s cannot be loaded: %s", path, dlerror());
		return -ELIBBAD;
	}
	XP_DBG("driver %s loaded", path);
	return 1;
}

static int is_driver_name(const char *name)
{
	size_t len = strlen(name);

	return len > 3 && strcmp(name + len - 3, ".so") == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.so of @dir, in name order (the order handlers register in). */
static int load_dir(const char *dir)
{
	char **names = NULL, **grown, path[PATH_MAX];
	size_t n = 0, cap = 0, i;
	struct dirent *e;
	int loaded = 0, ret;
	DIR *d = opendir(dir);

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (!is_driver_name(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL)
				break;
			names = grown;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
			    (int)sizeof(path) &&
		    (ret = load_file(path)) > 0)
			loaded += ret;
		free(names[i]);
	}
	free(names);
	return loaded;
}

int xp_driver_load(const char *path)
{
	struct stat st;

	if (path == NULL || *path == '\0')
		return -EINVAL;
	if (stat(path, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? load_dir(path) : load_file(path);
}

static void autoload(void)
{
	const char *env = getenv("XENPOOL_DRIVERS");

	if (env != NULL && *env != '\0') {
		char *list = strdup(env), *item, *save = NULL;

		for (item = list ? strtok_r(list, ":", &save) : NULL;
		     item != NULL; item = strtok_r(NULL, ":", &save))
			if (xp_driver_load(item) == -ENOENT)
				XP_ERR("XENPOOL_DRIVERS: %s: no such file or "
				       "directory",
				       item);
		free(list);
	}
	/* Not installed (a build tree, tests): nothing there. */
	(void)xp_driver_load(XP_DRIVER_DIR);
}

/* A driver's constructor that asks the registry for a handler must not
 * wait for the load it is part of. */
static XP_THREAD_LOCAL int in_autoload;

static void autoload_once_fn(void)
{
	in_autoload = 1;
	autoload();
	in_autoload = 0;
}

void xp__drivers_autoload(void)
{
	if (!in_autoload)
		pthread_once(&autoload_once, autoload_once_fn);
}

const char *xp__driver_dir(void)
{
	return XP_DRIVER_DIR;
}
