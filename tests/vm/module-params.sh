# Module parameters (params(...)): the object's .rodata variables `reserved` and
# `enforce`, given by modprobe's arguments and by /etc/modprobe.d/, change what the
# policy refuses; each is read-only in /sys/module/name_guard/parameters/; a value
# the object refuses fails modprobe, naming the variable, and leaves nothing.
# kernels: stock
# modules: installed unloadable examples/name_guard
m=name_guard
params=/sys/module/$m/parameters
# modprobe NAME VAR=VALUE.
check "modprobe with parameters failed" modprobe $m reserved=argv-name enforce=1
about $m
check "reserved: $(cat $params/reserved 2>&1)" [ "$(cat $params/reserved)" = argv-name ]
check "enforce: $(cat $params/enforce 2>&1)" [ "$(cat $params/enforce)" = 1 ]
check "not read-only: $(ls -l $params/reserved)" [ "$(stat -c %a $params/reserved)" = 444 ]
refute "a parameter was written after load" sh -c "echo other >$params/reserved"
check "reserved changed by the refused write" [ "$(cat $params/reserved)" = argv-name ]
refute "mkdir of the name given by modprobe succeeded" mkdir /tmp/argv-name
check "mkdir failed, but not with EPERM" contains "$ERR" 'Operation not permitted'
check "mkdir of the default name failed: the parameter did not replace it" mkdir /tmp/bpf-preload-param
check "cannot read matches" preload-probe lookup matches 0
check "matches says $OUT, expected 1" [ "$OUT" = 1 ]
check "rmmod failed" rmmod $m
check "left behind by rmmod" preload-probe absent prog guard_mkdir map matches link guard_mkdir
# options NAME VAR=VALUE in /etc/modprobe.d/: enforce off, so a match is counted only.
mkdir -p /etc/modprobe.d
echo "options $m reserved=conf-name enforce=N" >/etc/modprobe.d/$m.conf
check "modprobe with /etc/modprobe.d failed" modprobe $m
check "reserved: $(cat $params/reserved 2>&1)" [ "$(cat $params/reserved)" = conf-name ]
check "enforce: $(cat $params/enforce 2>&1)" [ "$(cat $params/enforce)" = N ]
check "mkdir refused with enforce=N" mkdir /tmp/conf-name
check "cannot read matches" preload-probe lookup matches 0
check "matches says $OUT, expected 1 (counted, not refused)" [ "$OUT" = 1 ]
check "rmmod failed" rmmod $m
rm /etc/modprobe.d/$m.conf
# Without any: the table's values, shown as they are.
check "modprobe without parameters failed" modprobe $m
check "default reserved: $(cat $params/reserved 2>&1)" [ "$(cat $params/reserved)" = bpf-preload-param ]
check "default enforce: $(cat $params/enforce 2>&1)" [ "$(cat $params/enforce)" = Y ]
rmdir /tmp/bpf-preload-param
refute "mkdir of the default name succeeded" mkdir /tmp/bpf-preload-param
check "rmmod failed" rmmod $m
check "left behind by rmmod" preload-probe absent prog guard_mkdir map matches link guard_mkdir
# Refused values: modprobe fails, the kernel log names the variable, nothing is left.
check "ids before the refused loads" preload-probe ids
before=$OUT
refute "enforce=maybe was accepted" modprobe $m enforce=maybe
check "no message naming enforce: $(klog $m)" sh -c "dmesg | grep -q 'bpf_preload_runtime: $m: parameter enforce: .maybe. does not fit ._Bool.: not a bool'"
long=0123456789abcdef0123456789abcdef
refute "a 32-byte reserved was accepted" modprobe $m reserved=$long
check "no message naming reserved: $(klog $m)" sh -c "dmesg | grep -q 'bpf_preload_runtime: $m: parameter reserved: .$long. does not fit .char\[32\].: the string.s 32 bytes and its terminating NUL do not fit: at most 31 bytes; nothing is loaded'"
refute "$m is loaded after refused values" grep -q "^$m " /proc/modules
check "ids after the refused loads" preload-probe ids
check "ids changed by the refused loads: before: $before after: $OUT" [ "$OUT" = "$before" ]
pass "modprobe arguments and /etc/modprobe.d set reserved and enforce (policy followed them; read-only 444 in /sys/module); refused values failed modprobe naming the variable, ids unchanged"
