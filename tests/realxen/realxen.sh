#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# xenpool on a real Xen hypervisor: `make check-realxen` runs this.
#
# Boots Debian 12's Xen 4.17 hypervisor with a Debian 12 PV dom0 under
# QEMU's software emulation (no KVM, no nested virtualisation needed),
# runs the checks of tests/realxen in that dom0 and in a PV domU beside
# it, brings the results back over the serial console and
# fails when a check fails, the boot fails, or the time runs out.
#
# What it takes, and from where:
#  - qemu-system-x86, busybox-static and cpio (apt-get install, as root);
#  - the hypervisor (xen-hypervisor-4.17-amd64), the kernel that
#    linux-image-amd64 depends on today, and the toolstack for the domU
#    stage (xen-utils-4.17, xenstore-utils): downloaded with apt-get
#    download and unpacked with dpkg -x, so that no boot-loader or
#    initramfs hook runs and nothing is installed on this machine;
#  - the test programs and the xenpool CLI of the build tree, with the
#    shared libraries ldd finds for them (the real Xen libraries, not the
#    shim).
#
# Usage: realxen.sh --builddir DIR [--driver-dir DIR] [--dpdk-driver SO]
#                   [--no-domu] [--jumbo] [--timeout SECONDS] [--keep]
#                   [--cache DIR]
#   --driver-dir  where the core looks for drivers when installed: the
#              xen_dom0 driver goes there in dom0, so that the CLI finds it
#              by itself, as on an installed system (make passes it)
#   --dpdk-driver  the DPDK mempool driver: DPDK runs in dom0 too (rx_dpdk,
#              dpdk-test's mbuf_autotest, dpdk-testpmd), with only the DPDK
#              drivers the checks need (make passes it when built with DPDK)
#   --no-domu  skip the PV domU and the cross-domain checks
#   --jumbo    also measure the largest pools of 9000-byte objects
#   --timeout  give up after this long (default 600 s, plus 600 with
#              the domU and 900 with --jumbo)
#   --keep     keep the work directory (initramfs, serial log)
#   --cache    where the downloaded packages go (default: $XP_REALXEN_CACHE,
#              else DIR/tests/realxen/cache)
# Exit status: 0 all checks passed, 1 a check failed or the run broke,
# 2 bad usage.
set -euo pipefail

builddir=
driver_dir=
dpdk_driver=
domu=1
jumbo=0
timeout=
keep=0
cache=${XP_REALXEN_CACHE:-}

die() {
	echo "realxen: $*" >&2
	exit 1
}

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$2; shift ;;
	--driver-dir) driver_dir=$2; shift ;;
	--dpdk-driver) dpdk_driver=$2; shift ;;
	--no-domu) domu=0 ;;
	--jumbo) jumbo=1 ;;
	--timeout) timeout=$2; shift ;;
	--keep) keep=1 ;;
	--cache) cache=$2; shift ;;
	-h | --help) usage ;;
	*) echo "realxen: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
[ -n "$builddir" ] || usage
builddir=$(cd "$builddir" && pwd)
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "$timeout" ] || timeout=$((600 + 900 * jumbo + 600 * domu))
[ -n "$cache" ] || cache=$builddir/tests/realxen/cache
work=$builddir/tests/realxen/work
t_start=$(date +%s)

# ---- what this machine needs ---------------------------------------------

need_packages() {
	local missing=() p

	for p in qemu-system-x86 busybox-static cpio $([ -z "$dpdk_driver" ] ||
		echo dpdk-dev); do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] ||
		die "missing packages: ${missing[*]} (run as root to install them)"
	echo "realxen: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# The kernel package linux-image-amd64 stands for today.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# Download (once per cache) and unpack the packages into $cache/root.
fetch() {
	local kpkg pkgs stamp deb

	# apt-cache fails outright when the package lists are gone.
	kpkg=$(kernel_package || true)
	if [ -z "$kpkg" ]; then
		apt-get update -qq
		kpkg=$(kernel_package || true)
	fi
	[ -n "$kpkg" ] || die "apt-cache cannot resolve linux-image-amd64"
	pkgs=(xen-hypervisor-4.17-amd64 "$kpkg" xen-utils-4.17 xenstore-utils)
	stamp=$cache/stamp
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pkgs[*]}" ]; then
		return 0
	fi
	# The cache may be a directory of the user's: only what we put there.
	rm -rf "$cache/debs" "$cache/root" "$stamp"
	mkdir -p "$cache/debs"
	echo "realxen: downloading ${pkgs[*]}"
	# apt drops privileges to _apt for downloads: give it the directory.
	chown _apt "$cache/debs" 2>/dev/null || true
	if ! (cd "$cache/debs" && apt-get download -qq "${pkgs[@]}"); then
		apt-get update -qq
		(cd "$cache/debs" && apt-get download -qq "${pkgs[@]}") ||
			die "apt-get download ${pkgs[*]} failed"
	fi
	for deb in "$cache"/debs/*.deb; do
		dpkg -x "$deb" "$cache/root"
	done
	echo "${pkgs[*]}" >"$stamp"
}

# ---- the initramfs ------------------------------------------------------

# The ELF behind a libtool wrapper script (or the file itself).
real_binary() {
	local f=$1 d b

	d=$(dirname "$f")
	b=$(basename "$f")
	if [ -f "$d/.libs/$b" ] && head -c 2 "$f" | grep -q '#!'; then
		echo "$d/.libs/$b"
	else
		echo "$f"
	fi
}

# Copy binary $1 to $root$2 with every shared library ldd finds for it,
# at the same paths (the build tree's libxenpool first).
install_binary() {
	local root=$1 src dst=$3 lib

	src=$(real_binary "$2")
	case $src in
	*.so | *.so.*) [ -f "$src" ] || die "$2 is missing" ;;
	*) [ -x "$src" ] ||
		die "$2 is missing (make check-realxen builds the programs)" ;;
	esac
	mkdir -p "$root$(dirname "$dst")"
	cp "$src" "$root$dst"
	for lib in $(LD_LIBRARY_PATH=$builddir/src/.libs ldd "$src" |
		awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		case $lib in
		"$builddir"/*) mkdir -p "$root/usr/lib"
			cp -L "$lib" "$root/usr/lib/" ;;
		*) mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib" ;;
		esac
	done
}

kernel_version() {
	basename "$(ls -d "$cache"/root/lib/modules/*/ | head -n 1)"
}

# A busybox root with the Xen modules, under $1.
base_root() {
	local root=$1 kver m

	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc/realxen,lib/modules,proc,sys,dev,tmp}
	cp /bin/busybox "$root/bin/busybox"
	kver=$(kernel_version)
	for m in xen-privcmd xenfs/xenfs xen-evtchn xen-gntdev xen-gntalloc; do
		cp "$cache/root/lib/modules/$kver/kernel/drivers/xen/$m.ko" \
			"$root/lib/modules/"
	done
}

# The domU's initramfs: rx_domu and what it needs.
build_domu_initramfs() {
	local root=$work/domu

	base_root "$root"
	install_binary "$root" "$builddir/tests/realxen/rx_domu" /bin/rx_domu
	cp "$srcdir/tests/realxen/init-domu.sh" "$root/init"
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$work/domu.cpio.gz"
}

# The toolstack in dom0 for a PV domU (xenstored, xenconsoled,
# xen-init-dom0, xl, from the unpacked xen-utils-4.17) and the domU's
# kernel and initramfs in /boot.
add_toolstack() {
	local root=$1 b bin=/usr/lib/xen-4.17/bin

	for b in xenstored xenconsoled xen-init-dom0 xl; do
		install_binary "$root" "$cache/root$bin/$b" "$bin/$b"
	done
	install_binary "$root" "$cache/root/usr/bin/xenstore-ls" \
		/usr/bin/xenstore-ls
	# glibc loads libgcc_s for pthread_cancel (xl and xenconsoled use
	# it): ldd does not list it.
	cp -L "$(gcc -print-file-name=libgcc_s.so.1)" \
		"$root/lib/x86_64-linux-gnu/"
	# libxl keeps its state here; an empty xl.conf takes the defaults.
	mkdir -p "$root"/{boot,etc/xen,var/lib/xen,var/lib/xenstored} \
		"$root"/{var/log/xen/console,run/xen,run/xenstored}
	ln -s ../run "$root/var/run"
	: >"$root/etc/xen/xl.conf"
	cp "$work/vmlinuz" "$root/boot/vmlinuz"
	cp "$work/domu.cpio.gz" "$root/boot/domu.cpio.gz"
	cat >"$root/etc/realxen/domu.cfg" <<CFG
name = "rxdomu"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
cmdline = "console=hvc0 quiet"
memory = 384
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
CFG
}

# DPDK in dom0: rx_dpdk, dpdk-test and dpdk-testpmd (Debian's dpdk-dev, from
# this machine) with their libraries, the xen_dom0 mempool driver in
# /usr/lib/xenpool/dpdk (EAL refuses -d paths below a world-writable
# directory), and of EAL's own plugin directory, which EAL loads whole,
# only the ring mempool driver and the null net driver.
add_dpdk() {
	local root=$1 p pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0 so

	install_binary "$root" "$builddir/tests/realxen/rx_dpdk" /bin/rx_dpdk
	for p in dpdk-test dpdk-testpmd; do
		install_binary "$root" "$(command -v "$p")" "/bin/$p"
	done
	install_binary "$root" "$dpdk_driver" \
		/usr/lib/xenpool/dpdk/librte_mempool_xenpool.so
	mkdir -p "$root$pmds"
	# EAL loads the files named *.so or *.so.ABI (23.0) there.
	for so in librte_mempool_ring.so.23.0 librte_net_null.so.23.0; do
		install_binary "$root" "$pmds/$so" "$pmds/$so"
	done
}

build_dom0_initramfs() {
	local root=$work/dom0

	base_root "$root"
	install_binary "$root" "$builddir/tests/realxen/rx_dom0" /bin/rx_dom0
	install_binary "$root" "$builddir/tools/xenpool" /bin/xenpool
	# The driver where the core looks for it by itself (else the CLI
	# would need XENPOOL_DRIVERS).
	if [ -n "$driver_dir" ]; then
		mkdir -p "$root$driver_dir"
		ln -sf /usr/lib/libxenpool_xen.so.0 \
			"$root$driver_dir/libxenpool_xen.so"
	fi
	[ -z "$dpdk_driver" ] || add_dpdk "$root"
	cat >"$root/etc/realxen/plan" <<EOF
JUMBO=$jumbo
DOMU=$domu
DPDK=$([ -n "$dpdk_driver" ] && echo 1 || echo 0)
EOF
	if [ "$domu" = 1 ]; then
		build_domu_initramfs
		add_toolstack "$root"
	fi
	cp "$srcdir/tests/realxen/init-dom0.sh" "$root/init"
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$work/dom0.cpio.gz"
}

# ---- the boot -----------------------------------------------------------

serial=$work/serial.log

unpack_boot_files() {
	zcat "$cache/root/boot/xen-4.17-amd64.gz" >"$work/xen"
	cp "$(ls "$cache"/root/boot/vmlinuz-* | head -n 1)" "$work/vmlinuz"
}

boot() {
	: >"$serial"
	echo "realxen: booting Xen and dom0 (serial log: $serial)"
	# QEMU's multiboot loader takes the modules as "file args,file":
	# no commas in the kernel's arguments.  smap=0: under emulation dom0
	# faulted at its first instructions otherwise (with -cpu max).
	# -cpu Nehalem, not max: with max, threads' vector registers came
	# back with other threads' values once a domU ran beside dom0 (the
	# check xmm-domu, doc/xen.md); Nehalem is also DPDK's -march=corei7.
	qemu_status=0
	(
		cd "$work"
		exec timeout --signal=KILL "$timeout" qemu-system-x86_64 \
			-machine q35 -cpu Nehalem -smp 2 -m 3072 \
			-display none -monitor none -no-reboot \
			-serial "file:$serial" \
			-kernel xen \
			-append "console=com1 com1=115200 dom0_mem=1536M,max:1536M smap=0" \
			-initrd "vmlinuz console=hvc0 earlyprintk=xen quiet,dom0.cpio.gz"
	) || qemu_status=$?
}

report() {
	local pass fail end end_pass end_fail

	pass=$(grep -c '^RX-CHECK PASS' "$serial" || true)
	fail=$(grep -c '^RX-CHECK FAIL' "$serial" || true)
	end=$(grep -m1 '^RX-END' "$serial" || true)
	echo "==== realxen: checks"
	grep -E '^RX-CHECK' "$serial" || true
	if grep -q 'RX-DATA' "$serial"; then
		echo "==== realxen: measurements"
		grep -o 'RX-DATA.*' "$serial"
	fi
	if [ "$fail" -gt 0 ]; then
		echo "==== realxen: output of the failed checks"
		awk '/^RX-RUN / { out = ""; next }
		     /^RX-CHECK FAIL/ { print; printf "%s", out; out = "" }
		     /^RX-CHECK/ { out = ""; next }
		     { out = out $0 "\n" }' "$serial"
	fi
	if [ -z "$end" ]; then
		case $qemu_status in
		0) echo "==== realxen: the run did not finish: dom0 or Xen" \
			"crashed (QEMU exited); serial log tail:" ;;
		137) echo "==== realxen: the run did not finish in" \
			"$timeout s (QEMU killed); serial log tail:" ;;
		*) echo "==== realxen: QEMU failed (exit status" \
			"$qemu_status); serial log tail:" ;;
		esac
		tail -n 60 "$serial"
		return 1
	fi
	# The console is shared with Xen and the kernel: a check's line may
	# have been broken by theirs.  dom0's own count decides.
	end_pass=$(echo "$end" | sed -n 's/.*passed=\([0-9]*\).*/\1/p')
	end_fail=$(echo "$end" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
	echo "realxen: $end_pass passed, $end_fail failed," \
		"$(($(date +%s) - t_start)) s"
	if [ "$end_pass" != "$pass" ] || [ "$end_fail" != "$fail" ]; then
		echo "realxen: dom0 counted $end_pass passed and $end_fail" \
			"failed, the log shows $pass and $fail lines" >&2
		return 1
	fi
	[ "$end_fail" = 0 ] && [ "$end_pass" -gt 0 ]
}

need_packages
fetch
mkdir -p "$work"
unpack_boot_files
build_dom0_initramfs
boot
status=0
report || status=1
[ "$keep" = 1 ] || rm -rf "$work"/*.cpio.gz "$work/xen" "$work/vmlinuz" \
	"$work/dom0" "$work/domu"
exit $status
