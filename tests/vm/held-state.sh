# A module holds its object as the fds it closes held it, user references included:
# a tail call through a program array filled at load and a bpf_timer keep working
# once insmod has returned and exited, while other processes open and close fds of
# the maps, and with no bpffs mounted. (The kernel empties a program array and
# cancels a map's timers when the map's last user reference goes.) rmmod of the
# unloadable modules leaves nothing. On the patched kernel, the kernel's own bpffs
# mount stays: only user mounts come and go.
# kernels: all
# modules: unloadable examples/map_kinds, unloadable examples/timer_tick
# cmdline: bpf_preload_list=map_kinds,timer_tick
load /modules/unloadable/map_kinds.ko
load /modules/unloadable/timer_tick.ko
# insmod is gone: the modules are the only holders.
check "test run of enter" preload-probe run enter
check "the tail call fell through: enter returned $OUT, not 42 (jumps lost its slot)" [ "$OUT" = 42 ]
check "test run of arm" preload-probe run arm
check "arming the timer failed with errno $OUT (EPERM: ticker has no user reference)" [ "$OUT" = 0 ]
check "the timer does not tick" preload-probe grows ticks 0 20
ticked=$OUT
# A user bpffs mount gone (on a stock kernel none holds anything of a module).
mount -t bpf bpf /sys/fs/bpf && umount /sys/fs/bpf
check "test run of enter after umount" preload-probe run enter
check "the tail call fell through after umount: enter returned $OUT" [ "$OUT" = 42 ]
check "the timer stopped ticking" preload-probe grows ticks 0 20
check "rmmod map_kinds failed" rmmod map_kinds
check "rmmod timer_tick failed" rmmod timer_tick
check "left behind" preload-probe absent prog enter prog tail prog arm \
	map jumps map outer map inner_a map ticker map ticks
pass "the held program array kept its slot (enter returned 42) and the held timer ticked (ticks $ticked, then 20 more after a bpffs mount came and went); rmmod left nothing"
