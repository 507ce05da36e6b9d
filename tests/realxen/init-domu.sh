#!/bin/busybox sh
# SPDX-License-Identifier: BSD-3-Clause
#
# /init of the PV domU that the dom0 of tests/realxen starts with xl: run
# rx_domu (the domU side of the cross-domain checks) and power off.  Its
# console goes to xenconsoled's log in dom0; results go over xenstore.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# What a domU that shares and maps grants has loaded: gntalloc and
# gntdev; privcmd and xenfs too, as with Debian's xen-utils.
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
	insmod "/lib/modules/$m.ko" || echo "RX-DOMU insmod $m failed"
done
mount -t xenfs xenfs /proc/xen
echo "RX-DOMU begin $(uname -r), $(cat /proc/xen/capabilities 2>/dev/null)"
rx_domu
echo "RX-DOMU end, status $?"
sync
poweroff -f
