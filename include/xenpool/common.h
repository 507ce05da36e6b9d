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
 * Blocks of 2, 4 and 8 pointers (16, 32, 64 bytes), each loaded whole into
 * vector registers before it is stored: unaligned vector moves (movdqu with
 * SSE alone).  The locals are vectors, not an array or a struct, so that
 * compilers keep them in registers rather than on the stack.
 */
typedef long long xp__v16 __attribute__((vector_size(16)));

XP_INLINE void xp__objs_mov2(void **dst, void *const *src)
{
	xp__v16 a;

	__builtin_memcpy(&a, src, 16);
	__builtin_memcpy(dst, &a, 16);
}

XP_INLINE void xp__objs_mov4(void **dst, void *const *src)
{
	xp__v16 a, b;

	__builtin_memcpy(&a, src, 16);
	__builtin_memcpy(&b, src + 2, 16);
	__builtin_memcpy(dst, &a, 16);
	__builtin_memcpy(dst + 2, &b, 16);
}

XP_INLINE void xp__objs_mov8(void **dst, void *const *src)
{
	xp__v16 a, b, c, d;

	__builtin_memcpy(&a, src, 16);
	__builtin_memcpy(&b, src + 2, 16);
	__builtin_memcpy(&c, src + 4, 16);
	__builtin_memcpy(&d, src + 6, 16);
	__builtin_memcpy(dst, &a, 16);
	__builtin_memcpy(dst + 2, &b, 16);
	__builtin_memcpy(dst + 4, &c, 16);
	__builtin_memcpy(dst + 6, &d, 16);
}

/*
 * Copy @p n object pointers from @p src to @p dst, which do not overlap: the
 * copy under every bulk get and put of the caches and the ring.
 *
 * A count the compiler knows (a burst of 32 in a driver) is copied 16 bytes
 * a move, fully unrolled, with a last pointer alone for an odd count.  A count
 * known only at run time (what a receive returned) takes the same shape as a
 * C library's memcpy: blocks of 64 bytes, then one last block of 64 bytes
 * ending at the end (overlapping what was copied, which only rewrites the
 * same values); 5 to 8 pointers two blocks of 32 bytes, 2 to 4 two of 16
 * bytes, one pointer alone.  No branch depends on the arrays' alignment, so
 * the same call costs the same whatever the cache held before it.
 *
 * Alignment and "4K aliasing": a load that follows a store to an address
 * with the same low 12 bits, but overlapping it only in part, waits for that
 * store to complete.  Every block here is loaded whole before it is stored,
 * so within a block there is no such wait; between blocks it arises only
 * where the two arrays lie within a block of each other modulo 4 KiB (about
 * 16 of the 512 relative pointer offsets).  Measure the placements, not one:
 * doc/performance.md, "Burst shapes", has the figures over placements behind
 * this choice, and the "Optimisation log" the copies tried before it (one
 * 16-byte copy between arrays 8 bytes apart modulo 4 KiB measured 1.48
 * cycles per object against 0.61).
 */
XP_INLINE void xp__objs_copy(void **dst, void *const *src, unsigned int n)
{
	size_t i;

	if (__builtin_constant_p(n)) {
#pragma GCC unroll 32
		for (i = 0; i + 2 <= n; i += 2)
			xp__objs_mov2(&dst[i], &src[i]);
		if (n & 1)
			dst[n - 1] = src[n - 1];
		return;
	}
	/*
	 * The arrays pass through an empty asm (no instruction), after which
	 * the compiler may no longer reason about them: where a caller's array
	 * is shorter than a block, GCC would otherwise see the blocks out of
	 * its bounds on the paths of the longer counts the caller never
	 * passes, and warn (-Warray-bounds) in the caller's code.
	 */
	__asm__("" : "+r"(dst), "+r"(src));
	if (n <= 4) {
		if (n >= 2) {
			xp__objs_mov2(dst, src);
			xp__objs_mov2(&dst[n - 2], &src[n - 2]);
		} else if (n == 1) {
			dst[0] = src[0];
		}
		return;
	}
	if (n <= 8) {
		xp__objs_mov4(dst, src);
		xp__objs_mov4(&dst[n - 4], &src[n - 4]);
		return;
	}
	for (i = 0; i + 8 < n; i += 8)
		xp__objs_mov8(&dst[i], &src[i]);
	xp__objs_mov8(&dst[n - 8], &src[n - 8]);
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
