# Maps of maps whose inner maps the loader supplies, given by the attribute's
# inner_map(...) (examples/loader_inner_maps): as a module, the kernel takes into the
# outer maps only maps like their templates (per_cgroup: the object's `template`, an
# array of one u64; per_slot: a definition of the same shape), and the programs count
# through what user space put there, as a product's agent fills them at run time.
# kernels: all
# cmdline: bpf_preload_list=loader_inner_maps
# modules: permanent examples/loader_inner_maps
load /modules/loader_inner_maps.ko
# outer OUTER KEY PROGRAM: PROGRAM counts through the inner map at KEY of OUTER.
outer() {
	check "$3 did not run" preload-probe run "$3"
	check "$3 found an inner map in $1 before one was put there: $OUT" [ "$OUT" = 1000 ]
	for unlike in "hash 4 8 1" "array 4 4 1" "array 4 8 2"; do
		# shellcheck disable=SC2086 # the words are the map's definition
		refute "$1 took a map unlike its template ($unlike)" preload-probe inner "$1" "$2" $unlike
		check "$1 refused a map unlike its template ($unlike) with $OUT, not EINVAL" [ "$OUT" = EINVAL ]
	done
	check "$1 refused a map like its template" preload-probe inner "$1" "$2" array 4 8 1
	check "$3 did not run" preload-probe run "$3"
	check "$3 did not count through the map put into $1: $OUT" [ "$OUT" = 1 ]
	check "$3 did not run" preload-probe run "$3"
	check "$3 did not count on: $OUT" [ "$OUT" = 2 ]
}
outer per_cgroup 7 count_cgroup
outer per_slot 0 count_slot
pass "per_cgroup and per_slot took only maps like their templates (EINVAL for a hash, 4-byte values, 2 entries), and both programs counted through them"
