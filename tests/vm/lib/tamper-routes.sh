# shellcheck shell=sh
# The routes of the tamper matrix, shared by tamper-open.sh (the object without
# protections), tamper-frozen.sh (`freeze_all` only) and tamper-locked.sh (with
# `protect` and `freeze_all`), which set OBJ (the module and object name), DATA
# (its .data map's kernel name) and MODE (open|frozen|locked) and then call
# `routes`. Root attacks the policy of examples/tamper_policy (mkdir of
# `tamper-denied` refused unless the uid is in `exempt`, refusals counted in
# `refusals`) and its two iterators; every row judges by what the kernel then
# does: the policy still refuses, the counter still counts, the iterator still
# prints its own program's output.
#
# Each route prints `ROW <route> <MODE> <cell>` (`cargo xtask tamper-matrix`
# tabulates them). A cell starts with `harmless` or `refused` when the object is
# unaffected, and with `TAMPERED` when the route changed what it does. In open
# mode the attack is undone after its row, so that every route starts from the
# same object (frozen maps refuse the writes to undo); in locked mode any TAMPERED
# row fails the scenario.

tampered=""
row() {
	echo "ROW $1 $MODE $2"
	case "$2" in TAMPERED*) tampered="$tampered $1" ;; esac
}

# The hex bytes of a string, NUL-terminated.
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; echo 00; }

n_dir=0
# 0 if mkdir of the denied name is refused with EPERM (as root, uid 0). Each call
# tries a new directory, counted in this shell (so not through `check`, whose
# command runs in a subshell).
refuses() {
	n_dir=$((n_dir + 1))
	mkdir -p "/tmp/t$n_dir"
	_said=$(mkdir "/tmp/t$n_dir/tamper-denied" 2>&1) && return 1
	contains "$_said" 'Operation not permitted'
}

# The object's iterators, read through their pins in a bpffs mount (on a stock
# kernel, the two links the module offers every mount; on the patched kernel,
# the object's own directory).
iter() { cat "$(pins /sys/fs/bpf "$OBJ")/$1" 2>&1; }
iter_is_ours() { iter maps.tamper | head -1 | grep -q '^tamper_policy list_maps: '; }
count() { iter maps.tamper | head -1 | sed -n 's/.*refusals(root)=\([0-9]*\).*/\1/p'; }
map_id() { iter maps.tamper | sed -n "s/^map \([0-9]*\) $1\$/\1/p" | head -1; }
prog_id() { iter progs.tamper | sed -n "s/^prog \([0-9]*\) $1\$/\1/p" | head -1; }
# Link ids: by name where the kernel gives fds, else every id it refuses.
link_ids() { preload-probe find link "$1" 2>/dev/null || preload-probe attack refused link; }

# The policy's effect as a cell: what a route left of it.
policy_cell() {
	if ! refuses; then
		row "$1" "TAMPERED: $2; mkdir of tamper-denied now allowed"
	else
		case "$2" in
		*ok*) row "$1" "harmless: $2; mkdir still refused" ;;
		*) row "$1" "$2" ;;
		esac
	fi
}

attack() { preload-probe attack "$@" 2>&1 | tail -1; }
# One line for the outcomes of one route tried on several ids (links, when the
# kernel refuses to say which id is whose): each distinct outcome and how often.
summary() { echo "$1" | sort | uniq -c | sed 's/^ *\([0-9]*\) \(.*\)/\2 (x\1)/' | tr '\n' ';' | sed 's/;$//'; }
# The words of several lines on one line, one space apart.
words() { printf '%s' "$1" | tr '\t\n' '  ' | sed 's/  */ /g; s/^ //; s/ $//'; }

routes() {
	check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
	iter_is_ours || {
		fail "the iterator does not print the object's output: $(iter maps.tamper | head -3)"
		exit 0
	}
	refuses || {
		fail "the policy does not refuse mkdir of tamper-denied"
		exit 0
	}
	# shellcheck disable=SC2153 # DATA is the scenario's (the .data map's name), not a misspelling of data
	data=$(map_id "$DATA")
	exempt=$(map_id exempt)
	refusals=$(map_id refusals)
	refuse_prog=$(prog_id refuse_denied)
	list_prog=$(prog_id list_maps)
	for id in "$data" "$exempt" "$refusals" "$refuse_prog"; do
		check "ids not found in the iterators: data=$data exempt=$exempt refusals=$refusals prog=$refuse_prog" [ -n "$id" ]
	done
	echo "ids: $DATA=$data exempt=$exempt refusals=$refusals refuse_denied=$refuse_prog list_maps=$list_prog"
	echo "probe sees: maps refused: $(preload-probe attack refused map); progs refused: $(preload-probe attack refused prog); links refused: $(preload-probe attack refused link)"

	# fds by id: what they would give is the routes below.
	for kind in map prog; do
		id=$data
		[ $kind = prog ] && id=$refuse_prog
		out=$(attack fd-by-id $kind "$id")
		case "$out" in
		ok*) row $kind-fd-by-id "obtained: $out" ;;
		*) row $kind-fd-by-id "refused: $out" ;;
		esac
	done
	out=$(for id in $(link_ids refuse_denied); do attack fd-by-id link "$id"; done)
	case "$out" in
	*ok*) row link-fd-by-id "obtained: $(words "$out")" ;;
	*) row link-fd-by-id "refused: $(summary "$out")" ;;
	esac

	# The policy's data, rewritten by id.
	out=$(attack map-write "$data" 0 "$(hexof nothing)")
	policy_cell map-update-by-id "$out"
	[ "$MODE" = open ] && attack map-write "$data" 0 "$(hexof tamper-denied)" >/dev/null

	# Its allow list, extended by id (uid 0 exempt).
	out=$(attack map-write "$exempt" 0 01)
	policy_cell map-insert-by-id "$out"
	[ "$MODE" = open ] && attack map-delete "$exempt" 0 >/dev/null

	# Its counter, erased by id.
	refuses
	before=$(count)
	out=$(attack map-delete "$refusals" 0)
	after=$(count)
	if [ "${after:-0}" -ge "${before:-1}" ] 2>/dev/null; then
		row map-delete-by-id "harmless: $out; count $before -> $after"
	else
		row map-delete-by-id "TAMPERED: $out; count $before -> ${after:-gone}"
	fi

	# Written through a pin: one the attacker makes in its own mount, opened read-write.
	mkdir -p /mnt/u && mount -t bpf bpf /mnt/u
	out=$(attack pin-by-id map "$data" /mnt/u/data)
	case "$out" in ok*) out=$(attack pin-write /mnt/u/data 0 "$(hexof nothing)") ;; esac
	policy_cell map-write-via-pin "$out"
	[ "$MODE" = open ] && attack map-write "$data" 0 "$(hexof tamper-denied)" >/dev/null
	# ... and the patched kernel's own pins of the object's maps.
	if [ "$PROFILE" = preload ]; then
		own=/sys/fs/bpf/$OBJ
		out=$(attack pin-write "$own/data" 0 "$(hexof nothing)")
		policy_cell preload-mount-write "$out"
		[ "$MODE" = open ] && attack pin-write "$own/data" 0 "$(hexof tamper-denied)" >/dev/null
		rm -f "$own/refusals" "$own/data" 2>/dev/null
		if refuses && iter_is_ours; then
			row preload-mount-unlink "harmless: data and refusals unlinked (left: $(cd "$own" && printf '%s ' *)), policy and iterator unchanged"
		else
			row preload-mount-unlink "TAMPERED: the object changed after its pins were removed"
		fi
	fi

	# The policy's global function `exempted` replaced (freplace) by one that
	# exempts every uid: the policy's program by id, pinned in a mount of the
	# attacker's, the replacement loaded against it and its link pinned there.
	mkdir -p /mnt/freplace && mount -t bpf bpf /mnt/freplace
	out=$(attack freplace "$refuse_prog")
	policy_cell prog-freplace-by-id "$out"
	# Undone with the pins: the replacement's link goes with its mount, and the
	# kernel patches the function back once the link is freed.
	umount /mnt/freplace
	n=0
	until refuses || [ $n -ge 50 ]; do
		n=$((n + 1))
		sleep 0.2
	done
	refuses || {
		fail "the policy still lets mkdir of tamper-denied through once the replacement's pins are gone"
		exit 0
	}

	# An iterator link given another program, through an fd from its pin
	# (BPF_OBJ_GET, which only inode_permission sees for a link).
	out=$(attack link-update "$(pins /sys/fs/bpf "$OBJ")/maps.tamper" impostor)
	if iter_is_ours; then
		row link-update "harmless: $out; the iterator prints its own output"
	else
		row link-update "TAMPERED: $out; the iterator now prints: $(iter maps.tamper | head -1)"
		attack link-update "$(pins /sys/fs/bpf "$OBJ")/maps.tamper" "$list_prog" >/dev/null
	fi

	# The same through a race: a thread updates fd number N while another dup2s
	# the pin's link and a link of the attacker's onto N by turns, so that the
	# guard's bpf hook may read the attacker's link where the syscall then finds
	# the object's. It needs an fd of the object's link to begin with.
	out=$(attack link-update-race "$(pins /sys/fs/bpf "$OBJ")/maps.tamper" 3000)
	if iter_is_ours; then
		row link-update-race "harmless: $out; the iterator prints its own output"
	else
		row link-update-race "TAMPERED: $out; the iterator now prints: $(iter maps.tamper | head -1)"
		attack link-update "$(pins /sys/fs/bpf "$OBJ")/maps.tamper" "$list_prog" >/dev/null
	fi

	# Links detached: the policy's by id, the iterator's by its pin.
	out=$(for id in $(link_ids refuse_denied); do attack link-detach "$id"; done)
	policy_cell link-detach-lsm "$(summary "$out")"
	out=$(attack link-detach "$(pins /sys/fs/bpf "$OBJ")/maps.tamper")
	if iter_is_ours; then
		row link-detach-iter "harmless: $out; the iterator prints its own output"
	else
		row link-detach-iter "TAMPERED: $out; the iterator is gone: $(iter maps.tamper | head -1)"
	fi

	# Pins in a user mount: removed, then replaced by an impostor's iterator.
	m=$(pins /mnt/u "$OBJ")
	if rm "$m/progs.tamper" 2>/dev/null; then r="removed"; else r="refused rm"; fi
	mkdir -p /mnt/v && mount -t bpf bpf /mnt/v
	if [ -e "$(pins /mnt/v "$OBJ")/progs.tamper" ] && refuses; then
		row pin-unlink "harmless: $r; a new mount shows it again, policy unchanged"
	else
		row pin-unlink "TAMPERED: $r; a new mount lacks it"
	fi
	out=$(attack replace-pin "$m/maps.tamper")
	head=$(head -1 "$m/maps.tamper" 2>&1)
	fresh=$(head -1 "$(pins /mnt/v "$OBJ")/maps.tamper" 2>&1)
	case "$out:$fresh" in
	ok*:tamper_policy*) row pin-replace "harmless for the object: $out; that mount now shows '$head', others the object's" ;;
	*BPF_OBJ_PIN\ EPERM*:tamper_policy*) row pin-replace "harmless: unlinked, but bpffs keeps names with a dot for the kernel ($out); other mounts unchanged" ;;
	*:tamper_policy*) row pin-replace "harmless: $out" ;;
	*) row pin-replace "TAMPERED: $out; other mounts show '$fresh'" ;;
	esac

	# The guard's own list of protected ids, emptied by id.
	guard=$(map_id protected)
	if [ -z "$guard" ]; then
		row guard-map-write "n/a: no guard"
	else
		out=$(attack map-write "$guard" 0 00)
		policy_cell guard-map-write "$out"
	fi

	# Switches that stop or bypass BPF programs without touching the object (the
	# survey in SECURITY.md): each is set, judged, then set back.
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
	t=/sys/kernel/tracing
	knob tracefs-function-tracer \
		"echo bpf_lsm_path_mkdir >$t/set_ftrace_filter && echo function >$t/current_tracer && echo 0 >$t/tracing_on" \
		"echo nop >$t/current_tracer; echo >$t/set_ftrace_filter; echo 1 >$t/tracing_on"
	knob tracefs-notrace "echo bpf_lsm_path_mkdir >$t/set_ftrace_notrace" "echo >$t/set_ftrace_notrace"
	knob kprobes-disabled "echo 0 >/sys/kernel/debug/kprobes/enabled" "echo 1 >/sys/kernel/debug/kprobes/enabled"
	knob bpf-jit-off "echo 0 >/proc/sys/net/core/bpf_jit_enable" "echo 1 >/proc/sys/net/core/bpf_jit_enable"
	# ftrace switched off, which would turn every BPF trampoline (the LSM policy's and
	# the guard's) into a no-op without touching the object.
	ftrace_off ftrace-off

	# Last: the module removed by force (Debian allows it), then ftrace switched off:
	# a forced removal runs the module's exit, which must let go of the ftrace_ops
	# that lives in the module's memory.
	before=$(count)
	if out=$(rmmod -f "$OBJ" 2>&1); then out="rmmod -f succeeded"; else out="rmmod -f failed: $out"; fi
	grep -q "^$OBJ " /proc/modules || out="$out, module gone"
	if refuses && refuses; then
		row rmmod-force "harmless: $out; mkdir still refused"
	else
		row rmmod-force "TAMPERED: $out; mkdir of tamper-denied allowed"
	fi
	ftrace_off rmmod-force-ftrace-off
}

# knob ROW SET UNSET: runs the shell command SET, judges the object while it stands
# (the policy refuses, the iterator prints its own output), then runs UNSET.
knob() {
	if out=$(sh -c "$2" 2>&1); then out="set"; else out="refused (${out##*: })"; fi
	if refuses && iter_is_ours; then
		row "$1" "harmless: $out; mkdir still refused, the iterator prints its own output"
	else
		row "$1" "TAMPERED: $out; the policy or the iterator changed"
	fi
	sh -c "$3" 2>/dev/null
}

# ftrace_off ROW: writes 0 to kernel.ftrace_enabled and judges the policy (and, with
# the guard, an fd by id) while it stands; then writes 1 back.
ftrace_off() {
	if out=$( (echo 0 >/proc/sys/kernel/ftrace_enabled) 2>&1); then
		out="ftrace_enabled=0 accepted"
	else
		out="ftrace_enabled=0 refused (${out##*: })"
	fi
	out="$out, now $(cat /proc/sys/kernel/ftrace_enabled)"
	if ! refuses; then
		row "$1" "TAMPERED: $out; mkdir of tamper-denied allowed"
	elif [ "$MODE" = locked ] && prefixed "$(attack fd-by-id map "$data")" ok; then
		row "$1" "TAMPERED: $out; the guard hands out an fd of the policy's data by id"
	else
		row "$1" "harmless: $out; mkdir still refused"
	fi
	echo 1 >/proc/sys/kernel/ftrace_enabled
}
