/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the DPDK driver (mempool_xenpool.c) and the bridge library
 * (bridge.c) share: their arguments and the IOVA policy.  Compiled into
 * each (args.c); never installed.
 */
#ifndef XENPOOL_DPDK_PRIVATE_H
#define XENPOOL_DPDK_PRIVATE_H

#include <rte_log.h>
#include <rte_memory.h>

struct xp_mempool;

/* Each library registers this log type (RTE_LOG_REGISTER). */
extern int xpd_logtype;

#define XPD_LOG(level, ...)                                                   \
	rte_log(RTE_LOG_##level, xpd_logtype, "xenpool: " __VA_ARGS__)

#define XPD_ARGS_MAX 512

/* Which address an object gets as its IOVA. */
enum xpd_iova {
	XPD_IOVA_AUTO, /* va in EAL's IOVA-as-VA mode, bus otherwise */
	XPD_IOVA_VA,   /* the virtual address (DPDK's invariant in VA mode) */
	XPD_IOVA_BUS,  /* xenpool's bus address (xp_mempool_virt2phy) */
	XPD_IOVA_NONE, /* RTE_BAD_IOVA: memory without bus addresses */
};

struct xpd_args {
	enum xpd_iova iova;
	int trust_peer;                  /* the driver's only */
	char handler_args[XPD_ARGS_MAX]; /* the rest, for xen_dom0 */
};

/*
 * Split @p s (NULL: no arguments) into the keys iova= and, if
 * @p with_trust, trust_peer=, and the rest for xen_dom0.  0, or -EINVAL
 * with a message naming pool @p pool.
 */
int xpd_args_parse(const char *pool, const char *s, int with_trust,
		   struct xpd_args *a);

/*
 * The policy of pool @p xp: AUTO resolved for this process's EAL (VA in
 * IOVA-as-VA mode, BUS otherwise); and BUS only where the handler knows
 * bus addresses (it has a virt2phy: xen_dom0 does); on another handler's
 * memory (anonymous, whose "bus" address is its virtual address) VA in
 * IOVA-as-VA mode and NONE otherwise.
 */
enum xpd_iova xpd_iova_for(const struct xp_mempool *xp, enum xpd_iova iova);

/* Words for the log. */
const char *xpd_iova_name(enum xpd_iova iova);

/* The IOVA of @p va in pool @p xp under policy @p iova (VA or BUS). */
rte_iova_t xpd_iova_of(const struct xp_mempool *xp, enum xpd_iova iova,
		       const void *va);

/* xenpool's log into DPDK's, under xpd_logtype. */
void xpd_log_to_dpdk(int level, const char *msg, void *arg);

#endif /* XENPOOL_DPDK_PRIVATE_H */
