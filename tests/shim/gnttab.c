/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libxengnttab.so.1 stand-in: Xen 4.17's signatures and conventions (NULL
 * or -1 with errno) over the simulated hypervisor in libxpshim.so.
 */
#include "config.h"

#include <stdint.h>

#include <xenctrl.h>
#include <xengnttab.h>

#include "xpshim_int.h"

xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	return xpshim__open_call(XPSHIM_FN_GNTSHR_OPEN, XPSHIM_GNTSHR, logger,
				 open_flags);
}

int xengntshr_close(xengntshr_handle *xgs)
{
	return xpshim__close_call(XPSHIM_FN_GNTSHR_CLOSE, XPSHIM_GNTSHR, xgs);
}

void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count,
			    uint32_t *refs, int writable)
{
	struct xpshim_call c;
	void *p = NULL;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_GNTSHR_SHARE_PAGES, xgs))
		rc = xpshim__share(xgs, domid, count, refs, writable, &p);
	return xpshim__end_ptr(&c, rc, p, "%p, dom %u, %d pages, writable %d",
			       (void *)xgs, domid, count, writable);
}

int xengntshr_unshare(xengntshr_handle *xgs, void *start_address,
		      uint32_t count)
{
	struct xpshim_call c;
	int rc = 0;

	/* libxengnttab's Linux backend: munmap(start_address, count pages),
	 * whatever the handle. */
	if (xpshim__begin(&c, XPSHIM_FN_GNTSHR_UNSHARE, xgs))
		rc = xpshim__unshare(start_address, count);
	return xpshim__end_int(&c, rc, "%p, %p, %u pages", (void *)xgs,
			       start_address, count);
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	return xpshim__open_call(XPSHIM_FN_GNTTAB_OPEN, XPSHIM_GNTTAB, logger,
				 open_flags);
}

int xengnttab_close(xengnttab_handle *xgt)
{
	return xpshim__close_call(XPSHIM_FN_GNTTAB_CLOSE, XPSHIM_GNTTAB, xgt);
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
			      uint32_t ref, int prot)
{
	struct xpshim_call c;
	void *p = NULL;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_GNTTAB_MAP_GRANT_REF, xgt))
		rc = xpshim__map(xgt, 1, &domid, 0, &ref, prot, &p);
	return xpshim__end_ptr(&c, rc, p, "%p, dom %u, ref %u, prot %#x",
			       (void *)xgt, domid, ref, prot);
}

void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count,
			       uint32_t *domids, uint32_t *refs, int prot)
{
	struct xpshim_call c;
	void *p = NULL;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_GNTTAB_MAP_GRANT_REFS, xgt))
		rc = xpshim__map(xgt, count, domids, 1, refs, prot, &p);
	return xpshim__end_ptr(&c, rc, p, "%p, %u refs, prot %#x",
			       (void *)xgt, count, prot);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count,
				      uint32_t domid, uint32_t *refs, int prot)
{
	struct xpshim_call c;
	void *p = NULL;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_GNTTAB_MAP_DOMAIN_GRANT_REFS, xgt))
		rc = xpshim__map(xgt, count, &domid, 0, refs, prot, &p);
	return xpshim__end_ptr(&c, rc, p, "%p, %u refs of dom %u, prot %#x",
			       (void *)xgt, count, domid, prot);
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	struct xpshim_call c;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_GNTTAB_UNMAP, xgt))
		rc = xpshim__unmap(xgt, start_address, count);
	return xpshim__end_int(&c, rc, "%p, %p, %u pages", (void *)xgt,
			       start_address, count);
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	struct xpshim_call c;
	int rc = 0;

	if (xpshim__begin(&c, XPSHIM_FN_GNTTAB_SET_MAX_GRANTS, xgt))
		rc = xpshim__set_max_grants(xgt, nr_grants);
	return xpshim__end_int(&c, rc, "%p, %u", (void *)xgt, nr_grants);
}
