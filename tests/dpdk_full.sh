#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# DPDK's table of mempool ops full when the xen_dom0 driver loads: the
# driver says so on stderr, naming what fills the table (test_dpdk full);
# with one slot free, xen_dom0 takes it and the driver says that the other
# handler asked for (XENPOOL_DPDK_HANDLERS) got none (test_dpdk full1).
"${top_builddir:-.}/tests/test_dpdk" full &&
	"${top_builddir:-.}/tests/test_dpdk" full1
