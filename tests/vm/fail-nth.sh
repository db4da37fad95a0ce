# Systematic fault injection into loading and unloading each module: for n = 1, 2,
# 3, ... the n-th fault point (a slab or page allocation, a user copy) of
# finit_module(2) fails (/proc/thread-self/fail-nth, set by `preload-probe fail-nth`
# just before the call), until a load reaches no n-th point. Every failed load must
# leave no module, no new BPF program, map, link or BTF id, no pin in a new bpffs
# mount and no kernel report; a load that succeeds despite the fault (a fallback in
# the kernel took it) must have made every object the fault-free load makes. Then the
# same for delete_module(2) of the loaded module: a failed rmmod leaves it loaded
# and whole, a successful one leaves nothing. kmemleak is asked after each module.
# One verdict per module, and a table of fault points.
# kernels: preload-sanitizer
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
for attr in failslab fail_page_alloc fail_usercopy; do
	echo 0 >"$FI/$attr/verbose"
done
mkdir -p /mnt/fresh

# The pins a new bpffs instance gets (none, while no module is registered).
fresh_pins() {
	mount -t bpf bpf /mnt/fresh || {
		echo "cannot mount bpffs"
		return
	}
	find /mnt/fresh -mindepth 1
	umount /mnt/fresh
}

# Objects per kind among the ids of `preload-probe ids` in file $2 that file $1 does
# not have: e.g. `btf=1 link=1 map=2 prog=2`.
new_objects() {
	grep -vxF -f "$1" "$2" | cut -d' ' -f1 | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'
}

# Kernel reports since the last look (failed allocations' own warnings come with a
# call trace: only KERNEL_DEFECTS' words count here), then forgets the log.
new_problems() {
	kernel_problems
	dmesg -c >/dev/null
}

# nothing_left WHAT: the kernel is back at the baseline (/tmp/ids.base), with no
# pin in a new mount and no report; otherwise prints why.
nothing_left() {
	if [ -e "/sys/module/$m" ]; then
		echo "$1: $m is loaded"
		return
	fi
	preload-probe same-ids /tmp/ids.base >/tmp/left || echo "$1: $(cat /tmp/left)"
	_pins=$(fresh_pins)
	[ -z "$_pins" ] || echo "$1: pins in a new mount: $_pins"
	_problems=$(new_problems)
	[ -z "$_problems" ] || echo "$1: kernel report: $_problems"
}

# loaded_whole WHAT: the module is loaded with every object of a fault-free load.
loaded_whole() {
	[ -e "/sys/module/$m" ] || echo "$1: $m is not loaded"
	preload-probe ids >/tmp/ids.now
	_made=$(new_objects /tmp/ids.base /tmp/ids.now)
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
