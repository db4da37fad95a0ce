# Two object modules of one product declaring one map pinned by name
# (LIBBPF_PIN_BY_NAME: examples/shared_writer and examples/shared_reader): the first
# to load creates the map and the runtime shares it, the second reuses it, so a
# write through the writer's program is seen by the reader's. A third object that
# declares the map otherwise is refused, naming the difference. The shared map
# outlives the objects' rmmod, as libbpf's pin outlives its process, and a new load
# takes it up again with what it holds. A map of that name and definition that root
# pinned first where libbpf shares maps (/sys/fs/bpf/shared_hits) is neither taken
# nor written: modules share only through the runtime's registry (SECURITY.md). The
# status view shows the map held by the runtime once both objects are gone.
# kernels: all
# cmdline: bpf_preload_list=shared_writer,shared_reader,shared_mismatch
# modules: unloadable examples/shared_writer, unloadable examples/shared_reader, unloadable tests/fixtures/shared_mismatch
mount -t bpf bpf /sys/fs/bpf
check "planting a map shared_hits failed" preload-probe plant shared_hits /sys/fs/bpf/shared_hits
planted=$OUT
load /modules/unloadable/shared_writer.ko
load /modules/unloadable/shared_reader.ko
check "no map shared_hits" preload-probe find map shared_hits
both=$OUT
hits=$(echo "$both" | tr ' ' '\n' | grep -vx "$planted")
check "not the planted map $planted and one map of the modules, but: $both" \
	[ "$(echo "$both" | wc -w)" = 2 ]
check "the modules' map is not one other than the planted $planted: $both" number "$hits"
check "no getppid(2) calls" preload-probe getppid 5 shared_hits
check "the planted map" preload-probe lookup /sys/fs/bpf/shared_hits 0
check "the writer counted into the planted map: $OUT" [ "$OUT" = 0 ]
rm /sys/fs/bpf/shared_hits
umount /sys/fs/bpf
check "the planted map $planted outlived its pin: $(preload-probe find map shared_hits)" \
	wait_until 10 sh -c "[ \"\$(preload-probe find map shared_hits)\" = $hits ]"
check "no getppid(2) calls" preload-probe getppid 5 shared_hits
check "the writer's count" preload-probe lookup shared_hits 0
counted=$OUT
check "the writer did not count 5 getppid(2) calls into the shared map: $counted" [ "$counted" -ge 5 ]
check "no getpgid(2) call" preload-probe getpgid
check "the reader's copy" preload-probe lookup reader_seen 0
seen=$OUT
check "the reader saw $seen hits in the shared map, the writer had counted $counted" [ "$seen" -ge "$counted" ]

refute "an object declaring shared_hits with 2 entries loaded" insmod /modules/unloadable/shared_mismatch.ko
msg=$(klog shared_mismatch)
echo "$msg"
# shellcheck disable=SC2016 # the backquotes are the runtime's own, in its message
check "the refusal does not name the map and the difference: $msg" \
	contains "$msg" 'reusing the map `shared_hits` an object loaded before shared by name (LIBBPF_PIN_BY_NAME): its max_entries is 1, this object declares 2'
check "left behind by the refused object" preload-probe absent prog read_hits
check "the shared map is gone or another" preload-probe find map shared_hits
check "the shared map is not $hits but $OUT after the refusal" [ "$OUT" = "$hits" ]

check "rmmod shared_reader failed" rmmod shared_reader
check "rmmod shared_writer failed" rmmod shared_writer
check "the reader's objects left behind" preload-probe absent prog copy_hits map reader_seen
check "the shared map went with the objects' rmmod: the runtime does not keep it" preload-probe find map shared_hits
check "the shared map is not $hits but $OUT after the rmmods" [ "$OUT" = "$hits" ]
# The status view shows who holds it now: the runtime, by the object that created it.
check "no status" preload-probe status
status=$OUT
echo "$status"
check "the status does not show the shared map held by the runtime" \
	contains "$status" "bpf_preload_runtime: object shared_writer (its maps shared by name"
check "the status does not show shared_hits by its id $hits" \
	sh -c "echo '$status' | grep -Eq '^  map +shared_hits +id $hits '"
load /modules/unloadable/shared_writer.ko
check "the writer's program" preload-probe find prog count_hits
check "the writer loaded again shares a new map: $(preload-probe find map shared_hits), not $hits" \
	[ "$(preload-probe find map shared_hits)" = "$hits" ]
check "the count" preload-probe lookup shared_hits 0
check "the shared map lost its count: $OUT, was $counted" [ "$OUT" -ge "$counted" ]
check "rmmod shared_writer failed" rmmod shared_writer
pass "shared_writer and shared_reader held one map shared_hits (id $hits), not the one planted in /sys/fs/bpf (id $planted): the reader saw $seen of the writer's hits; a definition with 2 entries was refused by name; the map outlived both rmmods and was taken up again"
