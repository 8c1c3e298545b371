#!/usr/bin/env bash
# For machines without a package registry (e.g. a lent GPU machine): unpacks
# Debian packages carried along (cmocka, jansson, pkg-config, libunwind,
# libdw, libiberty) into a private prefix and prints the environment that
# makes CMake, pkg-config and the loader find them. Nothing is installed
# into /.
#
#   scripts/offline-deps.sh fetch DIR      # on a connected Debian machine:
#                                          # download the packages into DIR
#   eval "$(scripts/offline-deps.sh env DIR [PREFIX])"   # where they are needed
set -euo pipefail
packages=(libcmocka0 libcmocka-dev libjansson4 libjansson-dev pkgconf pkgconf-bin libpkgconf3 pkg-config
	libunwind8 libunwind-dev libdw1 libdw-dev libelf1 libelf-dev libiberty-dev
	libsqlite3-0 libsqlite3-dev)

case "${1:-}" in
fetch)
	dir=${2:?usage: offline-deps.sh fetch DIR}
	mkdir -p "$dir"
	(cd "$dir" && apt-get download "${packages[@]}")
	;;
env)
	dir=${2:?usage: offline-deps.sh env DIR [PREFIX]}
	prefix=${3:-/tmp/tg-offline-deps}
	mkdir -p "$prefix"
	for deb in "$dir"/*.deb; do
		dpkg-deb -x "$deb" "$prefix" >&2
	done
	multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
	pcdir="$prefix/usr/lib/$multiarch/pkgconfig"
	# the .pc files say prefix=/usr (some also libdir=/usr/lib/...): point
	# every such variable at the private prefix
	for pc in "$pcdir"/*.pc; do
		[ -e "$pc" ] || continue
		sed -i -E "s#^([A-Za-z_]+)=/usr(/|\$)#\1=$prefix/usr\2#" "$pc"
		# static-link-only requirements (libdw: zlib, liblzma) need -dev
		# packages the machine may lack; we link dynamically
		sed -i '/^Requires.private:/d' "$pc"
	done
	echo "export PATH=\"$prefix/usr/bin:\$PATH\""
	echo "export PKG_CONFIG_PATH=\"$pcdir\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}\""
	echo "export LD_LIBRARY_PATH=\"$prefix/usr/lib/$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
	echo "export CMAKE_PREFIX_PATH=\"$prefix/usr\${CMAKE_PREFIX_PATH:+:\$CMAKE_PREFIX_PATH}\""
	;;
*)
	echo "usage: offline-deps.sh fetch DIR | env DIR [PREFIX]" >&2
	exit 2
	;;
esac
