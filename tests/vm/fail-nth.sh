# Systematic fault injection into loading and unloading each module: for n = 1, 2,
# 3, ... the n-th fault point (a slab or page allocation, a user copy) with module
# code on its stack of finit_module(2) fails (/proc/thread-self/fail-nth, set by
# `preload-probe fail-nth` just before the call), until a load reaches no n-th point. Every failed load must
# leave no module, no new BPF program, map, link or BTF id, no pin in a new bpffs
# mount and no kernel report; a load that succeeds despite the fault (a fallback in
# the kernel took it) must have made every object the fault-free load makes. Then the
# same for delete_module(2) of the loaded module: a failed rmmod leaves it loaded
# and whole, a successful one leaves nothing. kmemleak is asked after each module.
# One verdict per module, and a table of fault points.
# kernels: preload-sanitizer
# cmdline: bpf_preload_list=iterators,mkdir_guard,getppid_count,tcp_cc
# modules: unloadable examples/iterators, unloadable examples/mkdir_guard, unloadable examples/getppid_count, unloadable examples/tcp_cc
# timeout: 7200

# A loop that never reaches the end of a load is a bug of its own: fail there.
CAP=2000
FI=/sys/kernel/debug
# fail-nth ignores the knobs' probabilities, but not their filters: by default both
# allocators skip sleeping (GFP_KERNEL) allocations and the page allocator order-0
# pages, which is nearly everything a load allocates. And no stack dump per fault.
for knob in failslab/ignore-gfp-wait fail_page_alloc/ignore-gfp-wait fail_page_alloc/ignore-gfp-highmem; do
	echo N >"$FI/$knob" || {
		fail "cannot set $FI/$knob"
		exit 0
	}
done
echo 0 >"$FI/fail_page_alloc/min-order"
# Only the fault points with module code on their stack count
# (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): what the module's init and exit do and
# call (bpf(2), the verifier, the preload series' functions), not load_module()'s
# own copying, signature check and sysfs entries, which every module shares and
# which would make each sweep hours long under TCG. x86_64's module area, without
# KASLR: MODULES_VADDR (__START_KERNEL_map + 512 MiB) to MODULES_END.
MODULES_START=0xffffffffa0000000
MODULES_END=0xffffffffff000000
# Nor kmemleak's allocation of its metadata for each object, which falls back to its
# memory pool when it fails (mem_pool_alloc(), inlined into __alloc_object()): a
# fault there is taken, never seen by the module, and would only double the sweep.
kmemleak_fn=$(grep -A1 ' __alloc_object$' /proc/kallsyms | cut -d' ' -f1)
reject_start=0x$(echo "$kmemleak_fn" | sed -n 1p)
reject_end=0x$(echo "$kmemleak_fn" | sed -n 2p)
case "$reject_start $reject_end" in
0x0* | *" 0x0"* | *"0x ") fail "no address for kmemleak's __alloc_object in /proc/kallsyms: $kmemleak_fn" && exit 0 ;;
esac
for attr in failslab fail_page_alloc fail_usercopy; do
	echo 0 >"$FI/$attr/verbose"
	echo "$MODULES_START" >"$FI/$attr/require-start"
	echo "$MODULES_END" >"$FI/$attr/require-end"
	echo "$reject_start" >"$FI/$attr/reject-start"
	echo "$reject_end" >"$FI/$attr/reject-end"
done
mkdir -p /mnt/fresh

# Objects per kind among the ids of `preload-probe ids` in file $2 that file $1 does
# not have: e.g. `btf=1 link=1 map=2 prog=2`.
new_objects() {
	grep -vxF -f "$1" "$2" | cut -d' ' -f1 | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'
}

# Kernel reports since the last look, from the first line with one of
# KERNEL_DEFECTS' words on (failed allocations' own warnings come with a call trace:
# only those words count here); the log is emptied for the next look.
new_problems() {
	dmesg -c >/tmp/kmsg
	grep -qE "$KERNEL_DEFECTS" /tmp/kmsg || return 0
	awk -v re="$KERNEL_DEFECTS" '$0 ~ re { on = 1 } on' /tmp/kmsg | head -150
}

# nothing_left WHAT: the kernel is back at the baseline (/tmp/ids.base), with no
# pin in a new bpffs mount and no report; otherwise prints why.
nothing_left() {
	if [ -e "/sys/module/$m" ]; then
		echo "$1: $m is loaded"
		return
	fi
	preload-probe nothing-left /tmp/ids.base /mnt/fresh >/tmp/left 2>&1 || echo "$1: $(cat /tmp/left)"
	_problems=$(new_problems)
	[ -z "$_problems" ] || echo "$1: kernel report: $_problems"
}

# loaded_whole WHAT: the module is loaded with every object of a fault-free load.
# Up to 20 s: what a load made and freed can outlive its id's last holder for a
# while (the attach-target finder's map goes with its sleepable program, after an
# RCU tasks trace grace period, which takes seconds under TCG with the sanitizers).
loaded_whole() {
	[ -e "/sys/module/$m" ] || echo "$1: $m is not loaded"
	_until=$(($(now) + 20000))
	while :; do
		preload-probe ids >/tmp/ids.now
		_made=$(new_objects /tmp/ids.base /tmp/ids.now)
		if [ "$_made" = "$objects" ] || [ "$(now)" -ge "$_until" ]; then
			break
		fi
	done
	[ "$_made" = "$objects" ] || echo "$1: made $_made, a fault-free load makes $objects"
	_problems=$(new_problems)
	[ -z "$_problems" ] || echo "$1: kernel report: $_problems"
}

# One module: fault-free load and unload, then every fault point of each.
one_module() {
	m=$1
	ko=/modules/unloadable/$m.ko
	dmesg -c >/dev/null
	preload-probe ids >/tmp/ids.base
	if ! insmod "$ko"; then
		fail "$m: the fault-free insmod failed: $(klog "$m")"
		return
	fi
	preload-probe ids >/tmp/ids.loaded
	objects=$(new_objects /tmp/ids.base /tmp/ids.loaded)
	# The filter above counts this module's code only if it is in the module area.
	address=$(grep "^$m " /proc/modules | cut -d' ' -f6)
	case "$address" in
	0xffffffff[a-f]*) ;;
	*)
		fail "$m: loaded at $address, outside the module area the filter expects"
		return
		;;
	esac
	rmmod "$m"
	bad=$(nothing_left "fault-free rmmod")
	[ -z "$bad" ] || {
		fail "$m: $bad"
		return
	}

	n=1
	tolerated=0
	while :; do
		if [ "$n" -gt "$CAP" ]; then
			fail "$m: insmod still reaches its fault point $CAP: no end in sight"
			return
		fi
		out=$(preload-probe fail-nth "$n" insmod "$ko" 2>&1)
		case "$out" in
		*" clean")
			# Fewer than n fault points: the load ran through.
			if [ "${out%% *}" != ok ]; then
				fail "$m: insmod without a fault failed: $out"
				return
			fi
			break
			;;
		"ok injected")
			# A fallback took the fault: the load must be whole, and unload.
			tolerated=$((tolerated + 1))
			bad=$(loaded_whole "insmod with fault $n tolerated")
			if rmmod "$m"; then
				bad="$bad$(nothing_left "rmmod after fault $n")"
			else
				bad="$bad rmmod after fault $n failed"
			fi
			;;
		*" injected")
			bad=$(nothing_left "insmod failing at fault $n ($out)")
			;;
		*)
			fail "$m: preload-probe fail-nth $n insmod: $out"
			return
			;;
		esac
		[ -z "$bad" ] || {
			fail "$m: $bad"
			return
		}
		[ $((n % 100)) -ne 0 ] || echo "$m: insmod fault $n, $(elapsed "$started" "$(now)") ms"
		n=$((n + 1))
	done
	insmod_points=$((n - 1))
	insmod_tolerated=$tolerated
	bad=$(loaded_whole "the load that reached no fault")
	[ -z "$bad" ] || {
		fail "$m: $bad"
		return
	}

	# Unloading: a failed rmmod leaves the module loaded and whole.
	n=1
	tolerated=0
	while :; do
		if [ "$n" -gt "$CAP" ]; then
			fail "$m: rmmod still reaches its fault point $CAP: no end in sight"
			return
		fi
		out=$(preload-probe fail-nth "$n" rmmod "$m" 2>&1)
		case "$out" in
		*" clean")
			if [ "${out%% *}" != ok ]; then
				fail "$m: rmmod without a fault failed: $out"
				return
			fi
			bad=$(nothing_left "rmmod that reached no fault")
			[ -z "$bad" ] || {
				fail "$m: $bad"
				return
			}
			break
			;;
		"ok injected")
			# Unloaded despite the fault: nothing may remain; load it again.
			tolerated=$((tolerated + 1))
			bad=$(nothing_left "rmmod with fault $n tolerated")
			insmod "$ko" || bad="$bad insmod after fault $n failed"
			;;
		*" injected")
			bad=$(loaded_whole "rmmod failing at fault $n ($out)")
			;;
		*)
			fail "$m: preload-probe fail-nth $n rmmod: $out"
			return
			;;
		esac
		[ -z "$bad" ] || {
			fail "$m: $bad"
			return
		}
		[ $((n % 100)) -ne 0 ] || echo "$m: rmmod fault $n, $(elapsed "$started" "$(now)") ms"
		n=$((n + 1))
	done
	rmmod_points=$((n - 1))

	leaks=$(kmemleak_report)
	if [ -n "$leaks" ]; then
		echo "$leaks"
		kmemleak_forget
		fail "$m: kmemleak: $(echo "$leaks" | grep -c '^unreferenced object') unreferenced object(s) after the fault injection, $(echo "$leaks" | head -1)"
		return
	fi
	row="$m: $insmod_points injection points in insmod ($insmod_tolerated tolerated), $rmmod_points in rmmod ($tolerated tolerated); objects $objects"
	table="$table
$row"
	pass "$row"
}

table=
for ko in /modules/unloadable/*.ko; do
	started=$(now)
	one_module "$(basename "$ko" .ko)"
	echo "$(basename "$ko" .ko): $(elapsed "$started" "$(now)") ms"
done
echo "fault points (module: N injection points):$table"
