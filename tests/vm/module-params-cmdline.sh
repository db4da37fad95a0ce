# Module parameters from the kernel command line: `name_guard.reserved=...`, which
# the kernel leaves to modprobe, configures the policy when modprobe loads it later
# (as kmod and busybox read /proc/cmdline).
# kernels: stock
# cmdline: name_guard.reserved=cmdline-name
# modules: installed unloadable examples/name_guard
m=name_guard
check "modprobe failed" modprobe $m
about $m
check "reserved: $(cat /sys/module/$m/parameters/reserved 2>&1)" [ "$(cat /sys/module/$m/parameters/reserved)" = cmdline-name ]
refute "mkdir of the name from the command line succeeded" mkdir /tmp/cmdline-name
check "mkdir failed, but not with EPERM" contains "$ERR" 'Operation not permitted'
check "mkdir of the default name failed" mkdir /tmp/bpf-preload-param
check "rmmod failed" rmmod $m
pass "name_guard.reserved=cmdline-name on the kernel command line reached the policy through modprobe"
