# SPDX-License-Identifier: BSD-3-Clause
# The benchmark against DPDK: make bench.
