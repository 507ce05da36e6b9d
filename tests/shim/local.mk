# SPDX-License-Identifier: BSD-3-Clause
# The mock hypervisor shim (built with --enable-xen).
