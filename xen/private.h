/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to xen/: the xen_dom0 handler's state and the contracts between
 * its files.  Never installed. */
#ifndef XENPOOL_XEN_PRIVATE_H
#define XENPOOL_XEN_PRIVATE_H

#include <stdint.h>
#include <sys/types.h>

/* xenctrl.h must come before xengnttab.h. */
#include <xenctrl.h>
#include <xengnttab.h>

#include <xenpool/log.h>
#include <xenpool/mempool.h>
#include <xenpool/ring.h>
#include <xenpool/xen.h>

#define XPX_PAGE_SHIFT 12
#define XPX_DOMID_SELF 0x7FF0u
#define XPX_DEFAULT_BATCH 256u
#define XPX_NO_REF UINT32_MAX

/* Parsed handler arguments. */
struct xpx_args {
	uint32_t peer;
	int writable;
	int map_mode;
	uint32_t map_domid;
	uint32_t *refs;      /* map mode, malloc'd */
	unsigned int nrefs;
	int gref_frames;     /* frames=gref */
	int frames_given;    /* frames= present (map mode defaults to gref) */
	int have_self;
	uint32_t self;
	unsigned int batch;
	unsigned int max_pages; /* 0: default */
	char *publish;       /* malloc'd or NULL */
};

/* The Xen libraries' functions, loaded at the first pool (xenlib.c). */
struct xpx_lib {
	int have_gnttab, have_ctrl;
	xengntshr_handle *(*gntshr_open)(xentoollog_logger *, unsigned int);
	int (*gntshr_close)(xengntshr_handle *);
	void *(*share_pages)(xengntshr_handle *, uint32_t, int, uint32_t *,
			     int);
	int (*unshare)(xengntshr_handle *, void *, uint32_t);
	xengnttab_handle *(*gnttab_open)(xentoollog_logger *, unsigned int);
	int (*gnttab_close)(xengnttab_handle *);
	void *(*map_refs)(xengnttab_handle *, uint32_t, uint32_t, uint32_t *,
			  int);
	int (*unmap)(xengnttab_handle *, void *, uint32_t);
	xc_interface *(*xc_open)(xentoollog_logger *, xentoollog_logger *,
				 unsigned int);
	int (*xc_close)(xc_interface *);
	int (*get_version)(xc_interface *, uint32_t);
	grant_entry_v1_t *(*map_table_v1)(xc_interface *, uint32_t, int *);
	grant_entry_v2_t *(*map_table_v2)(xc_interface *, uint32_t, int *);
};

extern struct xpx_lib xpx;

/* Load them (once): NULL, or why libxengnttab cannot be used.  Then, if
 * libxenctrl cannot be, why (else NULL). */
const char *xpx_lib_open(void);
const char *xpx_lib_ctrl_why(void);

/* The Xen libraries' messages go to xp_log through this (xen/log.c). */
struct xpx_logger {
	xentoollog_logger vtable; /* first: the libraries get its address */
	int expect_failure;       /* the call in progress may fail, handled:
				   * its errors are debug messages */
};

void xpx_logger_init(struct xpx_logger *l);

/* One xengntshr_share_pages call, or the one map-mode mapping. */
struct xpx_segment {
	void *va;
	unsigned int npages;
	uint32_t *refs;      /* npages refs, in page order */
	uint64_t *bus;       /* npages bus addresses of the pages */
	unsigned char *moved; /* NULL, or per page: moved into the pool's
			       * region (its old place is no longer ours) */
};

struct xpx_pool {
	struct xpx_args args;
	struct xpx_logger log;  /* outlives every handle below */
	xengntshr_handle *xgs;
	xengnttab_handle *xgt;
	struct xpx_segment *segs;
	unsigned int nsegs;
	unsigned int pages;
	unsigned int share_calls; /* or 1 mapping */
	unsigned int chunks;
	/* While pages move into bus-address order (layout.c): the
	 * reservation they move into; then it is segs[0]. */
	void *region;
	unsigned int region_pages;
	int gref_frames;     /* as decided (args, or fallback) */
	int published;       /* publish=FILE written: remove it at teardown */
	dev_t pub_dev;       /* ... if it is still the file we wrote */
	ino_t pub_ino;
	/* virt2phy: bus address of each page from base, XP_BAD_PHYS in the
	 * holes between segments. */
	uintptr_t base;
	size_t span;         /* pages covered by the table */
	uint64_t *page_bus;
	uint32_t *page_ref;  /* grant ref of each page, XPX_NO_REF in holes */
};

/* layout.c: objects the pool's pages hold when laid out in bus-address
 * order (0 or -ENOMEM); that layout (0 or -errno). */
int xpx_bus_order_fit(const struct xp_mempool *mp, const struct xpx_pool *p,
		      size_t *fit);
int xpx_place_in_bus_order(struct xpx_pool *p);

int xpx_args_parse(const char *s, struct xpx_args *a);
void xpx_args_free(struct xpx_args *a);

/* Bus addresses of @n pages granted by @granter under @refs: from the grant
 * table when @xch is not NULL, else grant-DMA addresses.  0 or -errno. */
int xpx_frames_read(xc_interface *xch, uint32_t granter, const uint32_t *refs,
		    unsigned int n, uint32_t grantee, uint64_t *bus);
uint64_t xpx_gref_bus(uint32_t ref);
/* "this domain" for DOMID_SELF, else "domain N" in @buf. */
const char *xpx_dom_str(uint32_t domid, char *buf, size_t len);
uint32_t xpx_self_domid(const struct xpx_args *a);

#endif /* XENPOOL_XEN_PRIVATE_H */
