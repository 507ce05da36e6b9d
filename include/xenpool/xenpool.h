/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * xenpool: memory pools over named handlers.  Includes every public header.
 */
#ifndef XENPOOL_XENPOOL_H
#define XENPOOL_XENPOOL_H

#include <xenpool/common.h>
#include <xenpool/handler.h>
#include <xenpool/log.h>
#include <xenpool/mbuf.h>
#include <xenpool/mempool.h>
#include <xenpool/ring.h>

#endif /* XENPOOL_XENPOOL_H */
