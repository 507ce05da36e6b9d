# SPDX-License-Identifier: BSD-3-Clause
# The xen_dom0 handler, part of libxenpool with --enable-xen.
