/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The DPDK bridge (libxenpool_dpdk, pkg-config xenpool-dpdk): DPDK 22.11
 * packet buffer pools whose data rooms live in a xenpool pool (xen_dom0's
 * grant-table memory, or the default handler's where Xen is absent) while
 * the rte_mbuf headers stay in private memory, on DPDK's own ring_mp_mc
 * driver whatever --mbuf-pool-ops-name says.  This is the layout to use
 * when a peer domain may write the packets: it can rewrite data, never a
 * header.  doc/dpdk.md, "Headers-private pools".
 *
 * The mbufs have pinned external buffers (RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF):
 * each mbuf keeps its one data room for its whole life, and buf_iova is the
 * room's bus address or virtual address, as the pool's iova= argument says.
 * rte_mempool_free() frees the pool and its data rooms.
 */
#ifndef XENPOOL_DPDK_H
#define XENPOOL_DPDK_H

#include <stdint.h>

#include <xenpool/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;
struct xp_mempool;

/**
 * Create a DPDK packet buffer pool of @p n mbufs whose rte_mbuf headers
 * (and @p priv_size bytes of private area each) are in DPDK's memory on the
 * ring_mp_mc driver, and whose data rooms of @p data_room_size bytes are the
 * objects of a xenpool pool on the xen_dom0 handler, one room per mbuf, no
 * room across a frame discontinuity.  Call it after rte_eal_init(), in the
 * primary process.
 *
 * @param name       the DPDK pool's name; the rooms' xenpool pool is named
 *                   "dpdkx:" followed by it.
 * @param n          mbufs, at least 1.
 * @param cache_size DPDK's per-lcore cache, as for rte_pktmbuf_pool_create().
 * @param priv_size  private area after each rte_mbuf, a multiple of
 *                   RTE_MBUF_PRIV_ALIGN.
 * @param data_room_size bytes of each data room, headroom included, at
 *                   least 1.
 * @param socket_id  as for rte_pktmbuf_pool_create().
 * @param args       comma-separated arguments, or NULL: "iova=auto" (the
 *                   default: virtual addresses in EAL's IOVA-as-VA mode,
 *                   bus addresses otherwise), "iova=va" or "iova=bus"; every
 *                   other key goes to the xen_dom0 handler (peer=,
 *                   writable=, ...).
 * @return the pool, or NULL with rte_errno set:
 *         EINVAL (@p name NULL, @p n or @p data_room_size 0, @p priv_size
 *         not aligned, bad @p args, or an argument xen_dom0 refused),
 *         ENAMETOOLONG (@p name too long for DPDK),
 *         EEXIST (a DPDK pool of that name exists),
 *         ENOENT (DPDK's ring_mp_mc driver is not loaded),
 *         ENOTSUP (not the primary process),
 *         EPROTO (the rooms' pool did not hand out all its rooms: a
 *         broken handler),
 *         or xen_dom0's errors (ENOSPC: the gntalloc limit; EFBIG: frames
 *         too fragmented for the rooms; ENOMEM...).  Nothing is left
 *         behind: no DPDK pool, no xenpool pool, no grant.
 */
XP_EXPORT struct rte_mempool *
xp_dpdk_pktmbuf_pool_create(const char *name, unsigned int n,
			    unsigned int cache_size, uint16_t priv_size,
			    uint16_t data_room_size, int socket_id,
			    const char *args);

/**
 * The xenpool pool that holds the data rooms of @p mp, a pool made by
 * xp_dpdk_pktmbuf_pool_create(): for xp_mempool_virt2phy(), the Xen
 * handler's grant refs (xp_xen_pool_grefs()), xp_mempool_dump()...  Valid
 * until rte_mempool_free(@p mp).
 *
 * @return the pool, or NULL (@p mp NULL or not such a pool).
 */
XP_EXPORT struct xp_mempool *
xp_dpdk_pktmbuf_pool_rooms(const struct rte_mempool *mp);

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_DPDK_H */
