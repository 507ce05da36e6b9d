/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Xen libraries, opened when a pool first needs them.
 *
 * The driver does not link libxengnttab and libxenctrl: it loads them
 * with dlopen, by the sonames of Debian's Xen 4.17 build, the first time
 * a xen_dom0 pool is created.  So the driver itself loads on any machine,
 * and where the Xen libraries are not installed a share-mode pool falls
 * back to the default handler exactly as where Xen's devices are absent,
 * instead of the driver failing to load and the handler being unknown.
 * (The test shim stands in for the same sonames.)
 *
 * libxengnttab is needed; libxenctrl only for frames from the grant
 * table: without it, bus addresses are grant-DMA addresses.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "private.h"

#define GNTTAB_SONAME "libxengnttab.so.1"
#define CTRL_SONAME "libxenctrl.so.4.17"

struct xpx_lib xpx;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char gnttab_why[200];
static char ctrl_why[200];

/* @name of @lib into *@fn; 0, or -1 with the reason in @why. */
static int sym(void *lib, const char *name, void *fn, char *why, size_t len)
{
	void *p = dlsym(lib, name);

	if (p == NULL) {
		snprintf(why, len, "%s", dlerror());
		return -1;
	}
	memcpy(fn, &p, sizeof(p));
	return 0;
}

static void open_gnttab(void)
{
	struct xpx_lib l;
	void *lib = dlopen(GNTTAB_SONAME, RTLD_NOW | RTLD_LOCAL);
	char *w = gnttab_why;
	size_t n = sizeof(gnttab_why);

	if (lib == NULL) {
		snprintf(w, n, "%s", dlerror());
		return;
	}
	memset(&l, 0, sizeof(l));
	if (sym(lib, "xengntshr_open", &l.gntshr_open, w, n) ||
	    sym(lib, "xengntshr_close", &l.gntshr_close, w, n) ||
	    sym(lib, "xengntshr_share_pages", &l.share_pages, w, n) ||
	    sym(lib, "xengntshr_unshare", &l.unshare, w, n) ||
	    sym(lib, "xengnttab_open", &l.gnttab_open, w, n) ||
	    sym(lib, "xengnttab_close", &l.gnttab_close, w, n) ||
	    sym(lib, "xengnttab_map_domain_grant_refs", &l.map_refs, w, n) ||
	    sym(lib, "xengnttab_unmap", &l.unmap, w, n)) {
		dlclose(lib);
		return;
	}
	xpx = l;
	xpx.have_gnttab = 1;
}

static void open_ctrl(void)
{
	void *lib = dlopen(CTRL_SONAME, RTLD_NOW | RTLD_LOCAL);
	char *w = ctrl_why;
	size_t n = sizeof(ctrl_why);

	if (lib == NULL) {
		snprintf(w, n, "%s", dlerror());
		return;
	}
	if (sym(lib, "xc_interface_open", &xpx.xc_open, w, n) ||
	    sym(lib, "xc_interface_close", &xpx.xc_close, w, n) ||
	    sym(lib, "xc_gnttab_get_version", &xpx.get_version, w, n) ||
	    sym(lib, "xc_gnttab_map_table_v1", &xpx.map_table_v1, w, n) ||
	    sym(lib, "xc_gnttab_map_table_v2", &xpx.map_table_v2, w, n)) {
		dlclose(lib);
		return;
	}
	xpx.have_ctrl = 1;
}

static void open_both(void)
{
	open_gnttab();
	if (xpx.have_gnttab)
		open_ctrl();
}

const char *xpx_lib_open(void)
{
	pthread_once(&once, open_both);
	return xpx.have_gnttab ? NULL : gnttab_why;
}

const char *xpx_lib_ctrl_why(void)
{
	return xpx.have_ctrl ? NULL : ctrl_why;
}
