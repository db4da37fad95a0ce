# A process holding the object with `protect` (`preload-probe protect-hold`, pins in
# /sys/fs/bpf/held) is attacked: its fds copied with pidfd_getfd(2) or handed out
# with SCM_RIGHTS, one of them used by a program of root's, the process traced;
# then it is killed with SIGKILL, and the object its pins keep is attacked again
# (rows `ROW <route> user <cell>`, judged by what the object then does). The load
# itself, its checks and a failure at each of its calls are protect-user's.
# kernels: all
# include: lib/tamper-routes.sh
# shellcheck disable=SC2034 # MODE is read by row in lib/tamper-routes.sh
MODE=user
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
held=/sys/fs/bpf/held
preload-probe protect-hold "$held" /tmp/hold.sock >/tmp/hold.out 2>&1 &
holder=$!
tries=0
until grep -q '^ready' /tmp/hold.out; do
	tries=$((tries + 1))
	[ "$tries" -gt 600 ] && stop "protect-hold never got ready: $(cat /tmp/hold.out)"
	sleep 0.1
done
ready=$(grep '^ready' /tmp/hold.out)
echo "$ready"
# The fd the holder has of map, prog or link $1 (`map:exempt`).
fd_of() { echo "$ready" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
echo "pins: $(ls "$held")"
held_iter() { cat "$held/maps_tamper" 2>&1; }
held_is_ours() { held_iter | head -1 | grep -q '^tamper_policy list_maps: '; }
check "the held object's iterator prints its own output: $(held_iter | head -2)" held_is_ours
check "the held object's policy refuses" refuses

# Its fds copied into this process: by pidfd_getfd (the guard refuses attaching
# to the holder: ptrace_access_check), and handed out by the holder itself with
# SCM_RIGHTS (file_receive); a map's fd so obtained, used by a program of root's.
out=$(attack getfd-write "$holder" "$(fd_of map:exempt)" 0 01)
policy_cell getfd-map-write "$out"
out=$(attack scm /tmp/hold.sock map:exempt 0 01)
policy_cell scm-map-write "$out"
# The control: a file that is not the object's passes.
out=$(attack scm /tmp/hold.sock file:stdin)
case "$out" in
ok*) row scm-plain-file "harmless: control, $out" ;;
*) stop "SCM_RIGHTS of the holder's stdin failed, so the scm rows show nothing: $out" ;;
esac
for what in prog:refuse_denied link:refuse_denied link:list_maps; do
	for via in getfd scm; do
		if [ $via = getfd ]; then
			out=$(attack getfd "$holder" "$(fd_of "$what")")
		else
			out=$(attack scm /tmp/hold.sock "$what")
		fi
		case "$out" in
		ok*) row "$via-${what%%:*}-${what#*:}" "obtained: $out" ;;
		*) row "$via-${what%%:*}-${what#*:}" "refused: $out" ;;
		esac
	done
done
out=$(attack ptrace "$holder")
case "$out" in
ok*) row ptrace-holder "obtained: $out" ;;
*) row ptrace-holder "refused: $out" ;;
esac
# Opening /proc/PID/mem asks for PTRACE_MODE_ATTACH (reading address 0 then fails
# anyway: only whether it opens counts).
dd_said=$(dd if="/proc/$holder/mem" of=/dev/null bs=1 count=1 2>&1)
case "$dd_said" in
*"can't open"*) row proc-mem-holder "refused: $(echo "$dd_said" | head -1)" ;;
*) row proc-mem-holder "obtained: /proc/$holder/mem opened ($(echo "$dd_said" | head -1))" ;;
esac

# The holder killed: its pins keep the object, and the guard pinned beside them.
kill -9 "$holder"
wait "$holder" 2>/dev/null
data=$(held_iter | sed -n 's/^map \([0-9]*\) tamper_l.data$/\1/p' | head -1)
list_prog=$(sed -n 's/^prog \([0-9]*\) list_maps$/\1/p' "$held/progs_tamper" | head -1)
echo "after kill -9: pins $(ls "$held"); .data is map $data"
if held_is_ours && refuses; then
	row killed-holder "harmless: SIGKILL of the loading process; mkdir still refused, iterator its own"
else
	row killed-holder "TAMPERED: the object changed when its loading process was killed"
fi
out=$(attack map-write "$data" 0 "$(hexof nothing)")
policy_cell killed-map-update-by-id "$out"
out=$(attack pin-write "$held/data" 0 "$(hexof nothing)")
policy_cell killed-map-write-via-pin "$out"
for route in link-update link-update-race; do
	if [ "$route" = link-update ]; then
		out=$(attack link-update "$held/maps_tamper" impostor)
	else
		out=$(attack link-update-race "$held/maps_tamper" 3000)
	fi
	if held_is_ours; then
		row "killed-$route" "harmless: $out; the iterator prints its own output"
	else
		row "killed-$route" "TAMPERED: $out; the iterator now prints: $(held_iter | head -1)"
		attack link-update "$held/maps_tamper" "$list_prog" >/dev/null
	fi
done
out=$(attack map-write "$(held_iter | sed -n 's/^map \([0-9]*\) protected$/\1/p' | head -1)" 0 00)
policy_cell killed-guard-map-write "$out"

# Its pins removed by root: the link pins (the object's and the guard's) stay,
# so the guard goes only with the object.
rm_said=$(rm -f "$held"/* 2>&1)
left=$(cd "$held" && printf '%s ' *)
if held_is_ours && refuses; then
	row killed-unlink-pins "harmless: rm left $left($(echo "$rm_said" | head -1)); mkdir still refused, iterator its own"
else
	row killed-unlink-pins "TAMPERED: rm left $left; the object changed"
fi
# The mount's end frees the object and its guard together: a process-held object
# lives as long as its holder or its pins (a module holds its own).
umount /sys/fs/bpf
tries=0
while refuses; do
	tries=$((tries + 1))
	[ "$tries" -gt 100 ] && break
	sleep 0.1
done
if refuses; then
	echo "ROW killed-umount user harmless: umount left the object (and its guard) held"
else
	echo "ROW killed-umount user residual: umount of the last bpffs mount with its pins freed the object with its guard (a process-held object lives as long as its holder or its pins)"
fi
# shellcheck disable=SC2154 # tampered: set by row in lib/tamper-routes.sh
check "routes that changed the held object:$tampered" [ -z "$tampered" ]
pass "the held object's routes refused or harmless, before and after kill -9"
