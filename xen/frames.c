/* SPDX-License-Identifier: BSD-3-Clause */
/* Bus addresses of granted pages: from a grant table, or grant-DMA. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"

uint64_t xpx_gref_bus(uint32_t ref)
{
	return XP_XEN_GREF_DMA_BIT | ((uint64_t)ref << XPX_PAGE_SHIFT);
}

/* dom0 says so in /proc/xen/capabilities; elsewhere libxenctrl resolves
 * DOMID_SELF. */
uint32_t xpx_self_domid(const struct xpx_args *a)
{
	char caps[128] = "";
	FILE *f;

	if (a->have_self)
		return a->self;
	f = fopen("/proc/xen/capabilities", "r");
	if (f != NULL) {
		size_t len = fread(caps, 1, sizeof(caps) - 1, f);

		caps[len] = '\0';
		fclose(f);
		if (strstr(caps, "control_d") != NULL)
			return 0;
	}
	return XPX_DOMID_SELF;
}

const char *xpx_dom_str(uint32_t domid, char *buf, size_t len)
{
	if (domid == XPX_DOMID_SELF)
		return "this domain";
	snprintf(buf, len, "domain %u", domid);
	return buf;
}

/* The entry must be a full-page grant to @grantee.  A grantee of
 * DOMID_SELF (map mode, own id unknown) accepts any: the mapping itself
 * succeeded, so the grant was to us. */
static int entry_ok(uint16_t flags, uint16_t domid, uint32_t grantee)
{
	return (flags & GTF_type_mask) == GTF_permit_access &&
	       !(flags & GTF_sub_page) &&
	       (grantee == XPX_DOMID_SELF || domid == grantee);
}

static int bad_entry(int version, uint32_t granter, uint32_t ref,
		     uint32_t grantee)
{
	char g[24];

	xp_log(XP_LOG_ERR,
	       "xen_dom0: grant table v%d of %s: ref %u is not a "
	       "full-page grant to domain %u",
	       version, xpx_dom_str(granter, g, sizeof(g)), ref, grantee);
	return -EPROTO;
}

/*
 * libxenctrl reports the table size as frames * (PAGE_SIZE / 8), a count
 * of v1-sized entries whatever the version, and maps whole frames: the
 * caller unmaps frames * PAGE_SIZE bytes.
 */
static unsigned int table_frames(int num)
{
	return num > 0 ? (unsigned int)num / (XP_PAGE_SIZE /
					      sizeof(grant_entry_v1_t))
		       : 0;
}

/* A failed libxenctrl call: its errno, never -EPROTO (which means a bad
 * entry here), -EIO when it set none. */
static int ctrl_error(void)
{
	return errno > 0 && errno != EPROTO ? -errno : -EIO;
}

/* Map @granter's table of @version, check each ref's entry, take its
 * frame.  One function for both versions: only the entry layout differs. */
static int read_table(xc_interface *xch, int version, uint32_t granter,
		      const uint32_t *refs, unsigned int n, uint32_t grantee,
		      uint64_t *bus)
{
	grant_entry_v1_t *v1 = NULL;
	grant_entry_v2_t *v2 = NULL;
	unsigned int i, frames, entries;
	int num = 0, ret = 0;

	errno = 0;
	if (version == 1)
		v1 = xpx.map_table_v1(xch, granter, &num);
	else
		v2 = xpx.map_table_v2(xch, granter, &num);
	if (v1 == NULL && v2 == NULL)
		return ctrl_error();
	frames = table_frames(num);
	entries = frames * (XP_PAGE_SIZE / (version == 1 ? sizeof(*v1)
							 : sizeof(*v2)));
	for (i = 0; i < n && ret == 0; i++) {
		uint32_t r = refs[i];

		if (r >= entries ||
		    (v1 != NULL ? !entry_ok(v1[r].flags, v1[r].domid, grantee)
				: !entry_ok(v2[r].hdr.flags, v2[r].hdr.domid,
					    grantee)))
			ret = bad_entry(version, granter, r, grantee);
		else
			bus[i] = (v1 != NULL ? (uint64_t)v1[r].frame
					     : v2[r].full_page.frame)
				 << XPX_PAGE_SHIFT;
	}
	/* libxenctrl maps whole frames of the table; the caller unmaps. */
	munmap(v1 != NULL ? (void *)v1 : (void *)v2,
	       (size_t)frames * XP_PAGE_SIZE);
	return ret;
}

int xpx_frames_read(xc_interface *xch, uint32_t granter, const uint32_t *refs,
		    unsigned int n, uint32_t grantee, uint64_t *bus)
{
	unsigned int i;
	int version;
	char g[24];

	if (xch == NULL) {
		for (i = 0; i < n; i++)
			bus[i] = xpx_gref_bus(refs[i]);
		return 0;
	}
	errno = 0;
	version = xpx.get_version(xch, granter);
	if (version == 1 || version == 2)
		return read_table(xch, version, granter, refs, n, grantee, bus);
	if (version < 0)
		return ctrl_error();
	xp_log(XP_LOG_ERR, "xen_dom0: %s has grant table version %d",
	       xpx_dom_str(granter, g, sizeof(g)), version);
	return -EOPNOTSUPP; /* cannot read it: grant-DMA addresses */
}
