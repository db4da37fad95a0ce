# The cost of the guard: insmod → init returned (finit_module timed by the bench's
# insmod_time) of the policy object without and with `protect` + `freeze_all`,
# alternating, as unloadable modules that rmmod frees; and what each keeps in
# kernel memory. TCG timings: compare the two, not with real hardware.
# kernels: all
# modules: unloadable examples/tamper_policy, unloadable examples/tamper_policy_locked
# cmdline: bpf_preload_list=tamper_policy,tamper_locked
# prepare: insmod-time
RUNS=15
mem() { awk '/^(Slab|VmallocUsed|Percpu):/ { s += $2 } END { print s }' /proc/meminfo; }
# one MODULE: a `COST <module> <us> <kB>` line in /tmp/cost. Between the two mem
# readings nothing but insmod_time runs (no `check`, whose capture writes a file).
one() {
	b=$(mem)
	out=$(insmod_time "/modules/unloadable/$1.ko" 2>&1) || {
		fail "insmod $1: $out $(klog "$1")"
		exit 0
	}
	a=$(mem)
	us=${out#*us=}
	us=${us%% *}
	echo "COST $1 $us $((a - b))" >>/tmp/cost
	check "rmmod $1" insmod_time -r "$1"
}
for _ in $(seq "$RUNS"); do
	one tamper_policy
	one tamper_locked
done
cat /tmp/cost
median() { awk -v m="$1" -v f="$2" '$1 == "COST" && $2 == m { print $f }' /tmp/cost | sort -n | sed -n "$(((RUNS + 1) / 2))p"; }
p=$(median tamper_policy 3)
l=$(median tamper_locked 3)
pm=$(median tamper_policy 4)
lm=$(median tamper_locked 4)
echo "COSTLINE insmod_us $p $l mem_kb $pm $lm"
pass "insmod → init returned, median of $RUNS: $((p / 1000)).$(((p % 1000) / 100)) ms unprotected, $((l / 1000)).$(((l % 1000) / 100)) ms with protect + freeze_all; kernel memory kept ${pm} kB vs ${lm} kB"
