/* SPDX-License-Identifier: BSD-3-Clause */
/* The arguments and IOVA policy of the DPDK driver and bridge (private.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>

#include <xenpool/xenpool.h>

#include "../src/number.h"
#include "private.h"

int xpd_args_parse(const char *pool, const char *s, int with_trust,
		   struct xpd_args *a)
{
	char buf[XPD_ARGS_MAX], *tok, *save = NULL;
	size_t used = 0;

	memset(a, 0, sizeof(*a));
	if (s == NULL)
		return 0;
	if (strlen(s) >= sizeof(buf)) {
		XPD_LOG(ERR, "mempool %s: arguments longer than %zu bytes\n",
			pool, sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (strcmp(tok, "iova=va") == 0) {
			a->iova = XPD_IOVA_VA;
		} else if (strcmp(tok, "iova=bus") == 0) {
			a->iova = XPD_IOVA_BUS;
		} else if (strcmp(tok, "iova=auto") == 0) {
			a->iova = XPD_IOVA_AUTO;
		} else if (strncmp(tok, "iova=", 5) == 0) {
			XPD_LOG(ERR,
				"mempool %s: argument %s: expected iova=va, "
				"iova=bus or iova=auto\n",
				pool, tok);
			return -EINVAL;
		} else if (with_trust && strncmp(tok, "trust_peer=", 11) == 0) {
			if (xp__parse_u64(tok + 11, 0, 1, &v) != 0) {
				XPD_LOG(ERR,
					"mempool %s: argument %s: expected "
					"trust_peer=0 or trust_peer=1\n",
					pool, tok);
				return -EINVAL;
			}
			a->trust_peer = (int)v;
		} else {
			/* xen_dom0's own: it checks them.  Shorter than the
			 * whole string, so it fits. */
			used += (size_t)snprintf(a->handler_args + used,
						 sizeof(a->handler_args) - used,
						 "%s%s", used ? "," : "", tok);
		}
	}
	return 0;
}

enum xpd_iova xpd_iova_for(const struct xp_mempool *xp, enum xpd_iova iova)
{
	int va_mode = rte_eal_iova_mode() == RTE_IOVA_VA;
	const struct xp_mempool_ops *ops = xp_mempool_get_ops(xp);

	if (iova == XPD_IOVA_AUTO)
		iova = va_mode ? XPD_IOVA_VA : XPD_IOVA_BUS;
	if (iova == XPD_IOVA_BUS && (ops == NULL || ops->virt2phy == NULL))
		iova = va_mode ? XPD_IOVA_VA : XPD_IOVA_NONE;
	return iova;
}

const char *xpd_iova_name(enum xpd_iova iova)
{
	switch (iova) {
	case XPD_IOVA_BUS:
		return "bus addresses (xenpool's virt2phy)";
	case XPD_IOVA_NONE:
		return "none (this memory has no bus addresses in IOVA-as-PA "
		       "mode)";
	default:
		return "virtual addresses";
	}
}

rte_iova_t xpd_iova_of(const struct xp_mempool *xp, enum xpd_iova iova,
		       const void *va)
{
	uint64_t bus;

	if (iova == XPD_IOVA_VA)
		return (rte_iova_t)(uintptr_t)va;
	if (iova == XPD_IOVA_NONE)
		return RTE_BAD_IOVA;
	bus = xp_mempool_virt2phy(xp, va);
	return bus == XP_BAD_PHYS ? RTE_BAD_IOVA : (rte_iova_t)bus;
}

void xpd_log_to_dpdk(int level, const char *msg, void *arg)
{
	(void)arg;
	/* xenpool's levels are syslog's (0 = emergency), DPDK's start at 1. */
	rte_log((uint32_t)level + 1, xpd_logtype, "xenpool: %s\n", msg);
}
