/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Common definitions for xenpool: compiler helpers, cache-line size, the
 * "no bus address" value and the library version.
 *
 * Every public header of xenpool is self-contained and may be included from
 * C (C11 or later) and from C++ (C++11 or later).  Header-inline code uses the
 * GCC/Clang `__atomic` builtins with explicit memory orders rather than
 * `<stdatomic.h>`, because the latter is not usable from C++ before C++23;
 * the orders and their pairings are the same as C11's.
 */
#ifndef XENPOOL_COMMON_H
#define XENPOOL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major, minor and patch version of the headers. */
#define XP_VERSION_MAJOR 0
#define XP_VERSION_MINOR 1
#define XP_VERSION_PATCH 0

/** Size of a cache line assumed by the layout of shared structures. */
#define XP_CACHE_LINE_SIZE 64

/** Bus address meaning "none" or "cannot be translated". */
#define XP_BAD_PHYS ((uint64_t)-1)

/** Size of a page as seen by handlers and virt2phy. */
#define XP_PAGE_SIZE 4096u

#define XP_LIKELY(x) __builtin_expect(!!(x), 1)
#define XP_UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifdef __cplusplus
#define XP_ALIGNED(a) alignas(a)
#else
#define XP_ALIGNED(a) _Alignas(a)
#endif

/*
 * Thread-local storage shared by C and C++ code.  GNU __thread rather than
 * C++ thread_local: an extern thread_local variable is reached in C++ through
 * a wrapper function (it might need dynamic initialisation), __thread never.
 */
#define XP_THREAD_LOCAL __thread

/*
 * Hot functions are forced inline in release builds.  With XP_DEBUG defined
 * (configure --enable-debug defines it for the library, and a user may define
 * it before including a header) they are plain inline so that a debugger can
 * step into them and set breakpoints on them.
 */
#ifdef XP_DEBUG
#define XP_INLINE static inline
#else
#define XP_INLINE static inline __attribute__((always_inline))
#endif

/** Exported symbol (the library is built with -fvisibility=hidden). */
#define XP_EXPORT __attribute__((visibility("default")))

/** printf-style format checking. */
#define XP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/*
 * Copy @p n object pointers from @p src to @p dst, which do not overlap: the
 * copy under every bulk get and put of the caches and the ring.
 *
 * When the two arrays have the same offset modulo 16 bytes (the usual case:
 * arrays on the stack or from malloc, the caches' storage, and half of the
 * ring's positions), 16 bytes (two pointers) a move, which compilers emit as
 * one vector load and one vector store.  Otherwise a pointer a move: a
 * 16-byte access that half overlaps, modulo 4 KiB, a 16-byte store just
 * made to the other array makes x86 cores wait for that store ("4K
 * aliasing" of a partial match), which made cached gets and puts markedly
 * slower; pointer-sized accesses at the same offsets match whole or not at
 * all.  The 16-byte moves are fully unrolled when @p n is a compile-time
 * constant (a burst of 32: 16 loads and 16 stores, no loop); the pointer
 * moves go eight a step.  doc/performance.md, "Optimisation log", has the
 * figures behind these choices.
 */
XP_INLINE void xp__objs_copy(void **dst, void *const *src, unsigned int n)
{
	unsigned int i = 0;

	if (XP_LIKELY((((uintptr_t)dst ^ (uintptr_t)src) & 15u) == 0)) {
		if (__builtin_constant_p(n)) {
#pragma GCC unroll 32
			for (; i + 2 <= n; i += 2)
				__builtin_memcpy(&dst[i], &src[i],
						 2 * sizeof(void *));
		} else {
			for (; i + 2 <= n; i += 2)
				__builtin_memcpy(&dst[i], &src[i],
						 2 * sizeof(void *));
		}
		if (n & 1)
			dst[n - 1] = src[n - 1];
		return;
	}
	/* Eight a step: fully unrolled was no faster and larger inline
	 * (doc/performance.md, "Optimisation log"). */
#pragma GCC unroll 8
	for (; i < n; i++)
		dst[i] = src[i];
}

/**
 * Version of the library actually loaded, as "MAJOR.MINOR.PATCH".
 *
 * @return a static string; never NULL.
 */
XP_EXPORT const char *xp_version(void);

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_COMMON_H */
