# shellcheck shell=sh
# The in-kernel benchmark's functions (section 4): `cargo xtask bench` appends the
# loop over runs and objects. `one LOADER OBJECT FILE MODULE` times one insmod.
# Kernel memory the load keeps: slab, vmalloc (the module's own image, BPF programs,
# maps, BTF) and per-CPU allocations, in kB.
mem() { awk '/^(Slab|VmallocUsed|Percpu):/ { s += $2 } END { print s }' /proc/meminfo; }
modsize() { awk -v m="$1" '$1 == m { print $2 }' /proc/modules; }
one() {  # loader object file module
    sleep 0.2; b=$(mem)
    out=$(insmod_time "$3" 2>&1) || { echo "BENCH $1 $2 FAIL $(dmesg | grep " $4: " | tail -2 | sed "s/^\[[^]]*\] //" | tr '\n' ' ')"; return; }
    a=$(mem); s=$(modsize "$4")
    us=${out#*us=}; us=${us%% *}
    echo "BENCH $1 $2 $us $((a - b)) $s"
    insmod_time -r "$4" >/dev/null || echo "BENCH $1 $2 FAIL rmmod $4"
}
