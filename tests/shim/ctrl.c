/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libxenctrl.so.4.17 stand-in: the interface handle and the grant-table
 * queries, with Xen 4.17's signatures, over libxpshim.so.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenctrl.h>

#include "xpshim_int.h"

xc_interface *xc_interface_open(xentoollog_logger *logger,
				xentoollog_logger *dombuild_logger,
				unsigned int open_flags)
{
	/* libxenctrl reports errors to @logger; @dombuild_logger is for
	 * building domains. */
	(void)dombuild_logger;
	return xpshim__open_call(XPSHIM_FN_XC_INTERFACE_OPEN, XPSHIM_XC, logger,
				 open_flags);
}

int xc_interface_close(xc_interface *xch)
{
	return xpshim__close_call(XPSHIM_FN_XC_INTERFACE_CLOSE, XPSHIM_XC, xch);
}

int xc_gnttab_get_version(xc_interface *xch, uint32_t domid)
{
	struct xpshim_call c;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_XC_GNTTAB_GET_VERSION, xch))
		rc = xpshim__gnttab_version(xch, domid);
	return xpshim__end_int(&c, rc, "%p, dom %u", (void *)xch, domid);
}

int xc_gnttab_query_size(xc_interface *xch, struct gnttab_query_size *query)
{
	struct xpshim_call c;
	uint32_t nr = 0, max = 0;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_XC_GNTTAB_QUERY_SIZE, xch)) {
		rc = xpshim__query_size(xch, query->dom, &nr, &max);
		if (rc == 0) {
			query->nr_frames = nr;
			query->max_nr_frames = max;
			query->status = GNTST_okay;
		}
	}
	return xpshim__end_int(&c, rc, "%p, dom %u", (void *)xch, query->dom);
}

/*
 * As libxenctrl: a table of the other version, or no gnt_num, fails at once
 * and says nothing; past that, a failure reports "Could not map grant
 * table".
 */
static void *map_table(enum xpshim_fn fn, xc_interface *xch, uint32_t domid,
		       int version, int *gnt_num)
{
	struct xpshim_call c;
	void *p = NULL;
	int rc = 0;

	if (xpshim__begin(&c, fn, xch)) {
		rc = xpshim__gnttab_version(xch, domid);
		if (rc >= 0 && (rc != version || gnt_num == NULL)) {
			rc = -EINVAL;
			c.quiet = true;
		} else if (rc >= 0) {
			rc = xpshim__map_table(xch, domid, &p, gnt_num);
		}
	}
	return xpshim__end_ptr(&c, rc, p, "%p, dom %u", (void *)xch, domid);
}

grant_entry_v1_t *xc_gnttab_map_table_v1(xc_interface *xch, uint32_t domid,
					 int *gnt_num)
{
	return map_table(XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V1, xch, domid, 1,
			 gnt_num);
}

grant_entry_v2_t *xc_gnttab_map_table_v2(xc_interface *xch, uint32_t domid,
					 int *gnt_num)
{
	return map_table(XPSHIM_FN_XC_GNTTAB_MAP_TABLE_V2, xch, domid, 2,
			 gnt_num);
}
