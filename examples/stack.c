/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A handler of your own, as a driver: the free objects on a stack under a
 * mutex (doc/handlers.md walks through it).  Build it as a shared object
 * and the registry loads it by itself from XENPOOL_DRIVERS or from
 * $libdir/xenpool/drivers:
 *
 *   cc -shared -fPIC -o stack.so stack.c $(pkg-config --cflags --libs xenpool)
 *   XENPOOL_DRIVERS=./stack.so xenpool demo --handler stack --debug
 *
 * make check builds this file and loads it (tests/test_driver.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/xenpool.h>

struct stack {
	pthread_mutex_t lock;
	unsigned int len;
	void *objs[]; /* room for every object of the pool */
};

static int stack_create(struct xp_mempool *mp, const char *args)
{
	struct stack *s;
	int ret;

	(void)args; /* this handler takes none */
	s = malloc(sizeof(*s) + mp->size * sizeof(void *));
	if (s == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->len = 0;
	mp->pool_data = s;
	/* Maps memory, lays the objects out and hands them to stack_put. */
	ret = xp_mempool_populate_default(mp);
	if (ret < 0) {
		mp->pool_data = NULL;
		free(s);
		return ret;
	}
	return 0;
}

static void stack_destroy(struct xp_mempool *mp)
{
	free(mp->pool_data);
	mp->pool_data = NULL;
}

static int stack_get(struct xp_mempool *mp, void **objs, unsigned int n)
{
	struct stack *s = mp->pool_data;
	int ret = -ENOBUFS;

	pthread_mutex_lock(&s->lock);
	if (n <= s->len) {
		s->len -= n;
		memcpy(objs, &s->objs[s->len], n * sizeof(void *));
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int stack_put(struct xp_mempool *mp, void *const *objs, unsigned int n)
{
	struct stack *s = mp->pool_data;

	/* Never full: the core puts back no more than the pool has. */
	pthread_mutex_lock(&s->lock);
	memcpy(&s->objs[s->len], objs, n * sizeof(void *));
	s->len += n;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static unsigned int stack_count(const struct xp_mempool *mp)
{
	struct stack *s = mp->pool_data;
	unsigned int len;

	pthread_mutex_lock(&s->lock);
	len = s->len;
	pthread_mutex_unlock(&s->lock);
	return len;
}

static const struct xp_mempool_ops stack_ops = {
	.name = "stack",
	.create = stack_create,
	.destroy = stack_destroy,
	.get_bulk = stack_get,
	.put_bulk = stack_put,
	.get_count = stack_count,
};

XP_MEMPOOL_REGISTER_HANDLER(stack_ops)
