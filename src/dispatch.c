/* SPDX-License-Identifier: BSD-3-Clause */
/* Dispatch to a pool's handler, control path (see dispatch.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"

int xp__dispatch_put_failed(struct xp_mempool *mp, unsigned int n, int ret)
{
	XP_ERR("pool %s: handler %s refused a put of %u objects: %s",
	       mp->name, mp->core->ops->name, n,
	       strerror(ret < 0 ? -ret : EPROTO));
	return ret < 0 ? ret : -EPROTO;
}

int xp__dispatch_create(struct xp_mempool *mp, const char *args)
{
	const struct xp_mempool_ops *ops = mp->core->ops;
	int ret;

	mp->core->creating = 1;
	ret = ops->create(mp, args);
	mp->core->creating = 0;
	if (ret > 0) {
		/* The handler thinks it succeeded: it holds its state. */
		XP_ERR("pool %s: handler %s create returned %d (not a "
		       "negative errno)",
		       mp->name, ops->name, ret);
		ops->destroy(mp);
		return -EPROTO;
	}
	return ret;
}

void xp__dispatch_destroy(struct xp_mempool *mp)
{
	mp->core->ops->destroy(mp);
}

unsigned int xp__dispatch_count(const struct xp_mempool *mp)
{
	return mp->core->ops->get_count(mp);
}

int xp__dispatch_has_virt2phy(const struct xp_mempool *mp)
{
	return mp->core->ops->virt2phy != NULL;
}

uint64_t xp__dispatch_virt2phy(const struct xp_mempool *mp, const void *addr)
{
	return mp->core->ops->virt2phy(mp, addr);
}

void xp__dispatch_access(const struct xp_mempool *mp,
			 struct xp_mempool_access *acc)
{
	memset(acc, 0, sizeof(*acc));
	/* Until the handler says better: shared memory may be written. */
	acc->peer_writable =
		(mp->core->ops->flags & XP_MEMPOOL_OPS_F_SHARED_MEM) != 0;
	if (mp->core->ops->access != NULL) {
		mp->core->ops->access(mp, acc);
		acc->how[sizeof(acc->how) - 1] = '\0';
	} else {
		acc->writable = 1;
		snprintf(acc->how, sizeof(acc->how), "read-write");
	}
}
