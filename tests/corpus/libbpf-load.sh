#!/bin/sh
# The corpus tier's libbpf side (`cargo xtask corpus`): loads one object with
# `bpftool prog loadall` (or, given LOADER CALL..., with the tier's libbpf loader,
# tests/corpus/libbpf-loader.c) into a bpffs of its own, reports what it pinned, holds it until
# stdin closes, then unpins everything. Run it under `unshare -m --propagation private`
# so that the mount is invisible to the rest of the system and dies with us.
#
# Output, tab-separated: `prog PIN-NAME` / `map PIN-NAME`, each followed by
# `bpftool -j ... show pinned` on the next line, then `ready`; or `error` and exit 1
# with bpftool's messages on stderr.
set -u
obj=$1
# No `.` in the path: libbpf turns every `.` of a map pin path into `_`.
dir=$(mktemp -d /tmp/corpus-libbpf-XXXXXX)
mount -t bpf bpf "$dir" || exit 1
cleanup() {
	rm -rf "$dir/progs" "$dir/maps"
	umount "$dir"
	rmdir "$dir"
}
trap cleanup EXIT

# With a loader (LOADER CALL...: a written object), the tier's libbpf loader makes its
# product's loader's calls, then pins as bpftool does; maps pinned by name go into
# $dir/maps too (its pin root).
if [ $# -gt 1 ]; then
	loader=$2
	shift 2
	if ! "$loader" "$obj" "$dir/progs" "$dir/maps" "$@"; then
		echo error
		exit 1
	fi
elif ! bpftool prog loadall "$obj" "$dir/progs" pinmaps "$dir/maps"; then
	echo error
	exit 1
fi
for pin in "$dir"/progs/*; do
	[ -e "$pin" ] || continue
	printf 'prog\t%s\n' "${pin##*/}"
	bpftool -j prog show pinned "$pin" || exit 1
	echo
done
for pin in "$dir"/maps/*; do
	[ -e "$pin" ] || continue
	printf 'map\t%s\n' "${pin##*/}"
	bpftool -j map show pinned "$pin" || exit 1
	echo
done
echo ready
# The harness inspects by id while we hold the pins; EOF means it is done.
cat >/dev/null
