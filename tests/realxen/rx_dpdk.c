/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK on real Xen, in dom0 (tests/realxen/init-dom0.sh runs it): for
 * every mbuf of
 *  - a pool on the xen_dom0 mempool driver (EAL's -d, iova=bus,
 *    read-only grants: the layout of an unchanged application), and
 *  - a headers-private pool of the bridge (<xenpool/dpdk.h>, iova=bus),
 * the bytes written at buf_addr are read back at buf_iova's machine frame,
 * mapped as a device would reach it (libxenforeignmemory, DOMID_SELF); so
 * is each object's header at its header IOVA for the driver's pool (the
 * bridged pool's headers are in DPDK's private memory, with no IOVA of
 * ours).
 *
 * Usage: rx_dpdk EAL-ARGUMENTS...   (the driver given with -d)
 * Output: "RX-DATA dpdk ..." lines; exit status 0 when every byte matched.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <xenpool/dpdk.h>
#include <xenpool/xenpool.h>

#define RX_N 512u
#define RX_ROOM (RTE_PKTMBUF_HEADROOM + 1500u)
#define RX_PAGE 4096u

static xenforeignmemory_handle *fm;
static unsigned long checked, bad;

/* The pattern of byte @i of mbuf @k. */
static uint8_t pat(unsigned int k, size_t i)
{
	return (uint8_t)(k * 131u + i * 7u + 1u);
}

/*
 * Compare @len bytes at @va with what the machine frames from @iova hold,
 * page by page (a room is on contiguous frames, which this also checks:
 * each page is looked up at iova + offset).
 */
static void compare_at(const char *what, unsigned int k, const uint8_t *va,
		       uint64_t iova, size_t len)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = iova + done;
		size_t in = RX_PAGE - (a & (RX_PAGE - 1)), n;
		xen_pfn_t pfn = (xen_pfn_t)(a / RX_PAGE);
		int err = 0;
		uint8_t *map;

		n = in < len - done ? in : len - done;
		map = xenforeignmemory_map(fm, DOMID_SELF, PROT_READ, 1, &pfn,
					   &err);
		if (map == NULL || err != 0) {
			printf("RX-DATA dpdk %s mbuf %u: frame %#" PRIx64
			       " cannot be mapped (%s)\n",
			       what, k, (uint64_t)pfn,
			       strerror(map == NULL ? errno : -err));
			bad++;
			if (map != NULL)
				xenforeignmemory_unmap(fm, map, 1);
			return;
		}
		if (memcmp(map + (a & (RX_PAGE - 1)), va + done, n) != 0) {
			if (bad < 8)
				printf("RX-DATA dpdk %s mbuf %u: bytes at "
				       "IOVA %#" PRIx64 " differ from %p\n",
				       what, k, a, (const void *)(va + done));
			bad++;
		}
		xenforeignmemory_unmap(fm, map, 1);
		done += n;
	}
	checked++;
}

/* Every mbuf: a pattern in its room, read back at buf_iova; with
 * @p headers, the object header too (at rte_mempool_virt2iova). */
static void check_pool(const char *what, struct rte_mempool *mp, int headers)
{
	struct rte_mbuf *m[RX_N];
	unsigned int k;
	size_t i;

	if (rte_pktmbuf_alloc_bulk(mp, m, RX_N) != 0) {
		printf("RX-DATA dpdk %s: cannot allocate %u mbufs\n", what,
		       RX_N);
		bad++;
		return;
	}
	for (k = 0; k < RX_N; k++) {
		uint8_t *room = m[k]->buf_addr;

		for (i = 0; i < m[k]->buf_len; i++)
			room[i] = pat(k, i);
		if (m[k]->buf_iova == RTE_BAD_IOVA) {
			printf("RX-DATA dpdk %s mbuf %u: no IOVA\n", what, k);
			bad++;
			continue;
		}
		compare_at(what, k, room, m[k]->buf_iova, m[k]->buf_len);
		if (headers)
			compare_at(what, k, (const uint8_t *)m[k],
				   rte_mempool_virt2iova(m[k]),
				   sizeof(struct rte_mbuf));
	}
	rte_pktmbuf_free_bulk(m, RX_N);
}

int main(int argc, char **argv)
{
	struct rte_mempool *mp;

	unsigned int i;

	if (rte_eal_init(argc, argv) < 0) {
		printf("rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	fm = xenforeignmemory_open(NULL, 0);
	if (fm == NULL) {
		printf("xenforeignmemory_open: %s\n", strerror(errno));
		return 1;
	}
	printf("DPDK's mempool ops:");
	for (i = 0; i < rte_mempool_ops_table.num_ops; i++)
		printf(" %s", rte_mempool_ops_table.ops[i].name);
	printf("\n");
	/* The driver, as an unchanged application's pools get it. */
	setenv("XENPOOL_DPDK_ARGS", "writable=0,iova=bus", 1);
	mp = rte_pktmbuf_pool_create_by_ops("rx_drv", RX_N, 0, 0, RX_ROOM,
					    SOCKET_ID_ANY, "xen_dom0");
	if (mp == NULL) {
		printf("driver pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	check_pool("driver", mp, 1);
	rte_mempool_free(mp);
	/* The bridge: private headers, rooms granted read-write. */
	mp = xp_dpdk_pktmbuf_pool_create("rx_brg", RX_N, 0, 0, RX_ROOM,
					 SOCKET_ID_ANY, "iova=bus");
	if (mp == NULL) {
		printf("bridged pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	check_pool("bridge", mp, 0);
	rte_mempool_free(mp);
	printf("RX-DATA dpdk: %lu ranges read back at their IOVA's machine "
	       "frames, %lu differed\n",
	       checked, bad);
	xenforeignmemory_close(fm);
	rte_eal_cleanup();
	return bad != 0 || checked != 3 * RX_N;
}
