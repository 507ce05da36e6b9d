/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The xen_dom0 handler: pools in Xen grant-table memory.
 *
 * Built with `./configure --enable-xen`; the handler registers as
 * "xen_dom0".  Two ways to get memory:
 *
 *  - share mode (default): this domain allocates pages and grants them to a
 *    peer domain (`peer=DOMID`) with xengntshr_share_pages, in batches, under
 *    the gntalloc limit (/sys/module/xen_gntalloc/parameters/limit).  The
 *    peer maps the grant refs that xp_xen_pool_grefs() returns (or that
 *    `publish=FILE` writes).
 *  - map mode (`map=DOMID,refs=...`): a backend, typically in dom0, maps the
 *    pages a guest granted to it, with xengnttab_map_domain_grant_refs.
 *
 * Bus addresses: in share mode the frame behind each page is read from this
 * domain's own grant table through libxenctrl (privileged; named
 * DOMID_SELF, as Xen refuses the caller's own number): a machine frame for
 * a PV domain, a guest frame (which the IOMMU translates) for HVM/PVH.
 * Where the table cannot be read (a domU: EPERM), or with
 * `frames=gref`, the bus address is the grant-DMA address
 * (1 << 63) | (gref << 12) | offset, as Linux's grant DMA ops use.  In map
 * mode grant-DMA addresses are the default: the frames would come from the
 * guest's table, which the guest can rewrite at any moment;
 * `frames=grant-table` reads it anyway, for a guest the backend trusts.
 * xp_mempool_virt2phy() and xp_xen_virt2gref() answer from private per-page
 * tables: O(1), no system call.
 *
 * Pages in address order whose bus addresses follow each other form one
 * contiguous chunk; no object crosses a chunk's end.  In share mode, when
 * the pages' own order holds too few objects, they are first moved (with
 * mremap; grants keep their frames and refs) into the order of their bus
 * addresses, where the runs are long: a mapping per moved piece, under
 * vm.max_map_count.
 *
 * fork: a child does not inherit the pool's pages (MADV_DONTFORK); it must
 * not use the parent's xen_dom0 pools.
 *
 * The Xen libraries' messages go to xenpool's log (xp_log), never to
 * stderr: at debug level where the handler expected the failure and has
 * an answer for it, else at their own level.
 *
 * Isolation: only object memory is granted.  The free-object ring, the frame
 * table, the chunk list and all other metadata live in private memory, so a
 * peer that writes any granted byte at any time cannot corrupt the pool.
 *
 * When Xen is absent at run time (the Xen libraries cannot be opened), a
 * share-mode pool is created by the default handler instead;
 * xp_mempool_handler_name() says which handler serves it.  A map-mode pool
 * fails with ENODEV: a backend that asked for a guest's pages must not be
 * handed private memory that looks like them.
 *
 * Arguments (the handler_args string): a comma-separated list of key=value,
 * parsed strictly (an unknown key, a bad number, a repeated key or an empty
 * item fails the creation with EINVAL and a message naming the key):
 *   peer=DOMID        share mode: the domain granted the pages (default 0)
 *   writable=0|1      grant (share) or map (map mode) read-write (default 1)
 *   map=DOMID         map mode: the guest whose grants are mapped
 *   refs=R1:R2:...    map mode: the refs, in the order to map them (one
 *                     colon between refs; a ref given twice is an error), or
 *   refs=@FILE        read from FILE (colons, spaces or newlines between)
 *   frames=grant-table|gref   source of bus addresses (default: grant-table
 *                     in share mode, falling back to gref when the table
 *                     cannot be read; gref in map mode)
 *   self=DOMID        map mode: this domain's id, the grantee the guest's
 *                     entries must name with frames=grant-table (default:
 *                     0 when /proc/xen/capabilities says control_d, else
 *                     unknown, and not checked: the mapping succeeding
 *                     already shows the grants are to this domain)
 *   batch=N           pages per share call (default 256; halved while a
 *                     batch would pass the gntalloc limit)
 *   max_pages=N       share mode: give up past N pages (default: four times
 *                     what the objects need if all frames were contiguous,
 *                     plus 16, or the gntalloc limit if larger) when
 *                     fragmented frames leave too few runs long enough for
 *                     the objects
 *   publish=FILE      share mode: write the refs, in address order, to FILE
 *                     as R1:R2:... (written aside and renamed into place);
 *                     removed when the pool is freed, if still that file
 *
 * Creation errors (errno of xp_mempool_create_ex and
 * xp_pktmbuf_pool_create_ex, beside the core's): EINVAL (the arguments
 * above), ENODEV (map mode without Xen), ENOSPC (the gntalloc limit, or a
 * refs file with too few refs for the objects), EFBIG (max_pages reached
 * with too few runs long enough), EPROTO (a grant-table entry that is not a
 * full-page grant to the expected domain; the core also uses EPROTO for a
 * handler that broke its contract), ENOMEM (memory, segments spread so far
 * apart in the address space that the page table would be huge, or pages
 * that cannot be moved into bus order: vm.max_map_count), and the errno of
 * a failed libxengnttab or libxenctrl call (EINVAL for every mapping
 * Linux's gntdev refuses: a ref not granted to this domain, or granted
 * read-only while writable=1; EPERM...).
 */
#ifndef XENPOOL_XEN_H
#define XENPOOL_XEN_H

#include <stdint.h>

#include <xenpool/common.h>
#include <xenpool/mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the handler. */
#define XP_XEN_HANDLER "xen_dom0"

/** Grant-DMA bus address flag (bit 63), as Linux's grant DMA ops. */
#define XP_XEN_GREF_DMA_BIT (1ull << 63)

/** How a xen_dom0 pool got its memory and its bus addresses. */
struct xp_xen_pool_info {
	int map_mode;          /**< 1: guest pages mapped; 0: pages shared */
	uint32_t domid;        /**< share: the peer; map: the guest */
	int writable;          /**< grants (or mapping) read-write */
	int gref_frames;       /**< 1: bus addresses are grant-DMA addresses */
	unsigned int pages;    /**< pages in the pool */
	unsigned int chunks;   /**< contiguous chunks that hold objects */
	unsigned int segments; /**< share calls (or 1 mapping) */
};

/**
 * Grant refs of a xen_dom0 pool, in address order of their pages.
 *
 * @param mp   the pool.
 * @param refs receives up to @p max refs (may be NULL when @p max is 0).
 * @param max  room in @p refs.
 * @return the number of refs of the pool (which may exceed @p max), or
 *         -EINVAL (@p mp NULL, or @p refs NULL with @p max > 0) or -ENODEV
 *         (the pool is not served by xen_dom0, e.g. after a fallback).
 */
XP_EXPORT int xp_xen_pool_grefs(const struct xp_mempool *mp, uint32_t *refs,
				unsigned int max);

/**
 * The grant ref of the page that holds @p va, as a peer names a buffer
 * (a frontend tells its backend "ref R, offset va & 4095", as Linux's
 * netfront does): O(1), from private memory.
 *
 * @param mp  the pool.
 * @param va  an address in one of its pages.
 * @param ref receives the ref.
 * @return 0, or -EINVAL (@p mp or @p ref NULL), -ENODEV (the pool is not
 *         served by xen_dom0) or -ENOENT (@p va is not in the pool's
 *         pages).
 */
XP_EXPORT int xp_xen_virt2gref(const struct xp_mempool *mp, const void *va,
			       uint32_t *ref);

/**
 * Describe a xen_dom0 pool.
 *
 * @return 0, or -EINVAL (NULL argument) or -ENODEV (not served by xen_dom0).
 */
XP_EXPORT int xp_xen_pool_info(const struct xp_mempool *mp,
			       struct xp_xen_pool_info *info);

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_XEN_H */
