# A TCP congestion control (a struct_ops map) from a module: chosen by a connection and
# as the default; rmmod of the unloadable module unregisters it and leaves nothing.
# On the patched kernel (tcp_cc on its default list) and from its list at boot
# (preload-struct-ops.sh) too.
# kernels: all
# modules: permanent examples/tcp_cc, unloadable examples/tcp_cc
cc=preload_reno
registered() { grep -qw $cc /proc/sys/net/ipv4/tcp_available_congestion_control; }
check "cannot bring lo up" ip link set lo up
load /modules/unloadable/tcp_cc.ko
check "$cc is not available" registered
check "a connection with $cc" preload-probe tcp $cc 4194304
check "the connection used $OUT" [ "$OUT" = $cc ]
# Selected as the default, it carries connections that ask for nothing.
check "cannot select $cc" sh -c "echo $cc > /proc/sys/net/ipv4/tcp_congestion_control"
check "a connection by default" preload-probe tcp default 4194304
check "the default connection used $OUT" [ "$OUT" = $cc ]
check "cc_events" preload-probe lookup cc_events 0
connections=$OUT
check "cc_events" preload-probe lookup cc_events 1
acks=$OUT
check "cc_events: $connections connections, $acks window ACKs" test "$connections" -ge 2 -a "$acks" -ge 1
echo cubic >/proc/sys/net/ipv4/tcp_congestion_control
check "rmmod failed" rmmod tcp_cc
refute "$cc is still available after rmmod" registered
check "left behind" preload-probe absent map preload_reno map cc_events prog reno_init prog reno_cong_avoid
# The permanent module: registered until shutdown.
load /modules/tcp_cc.ko
refute "rmmod of the permanent module succeeded" rmmod tcp_cc
check "a connection after rmmod was refused" preload-probe tcp $cc 1048576
pass "$cc (struct tcp_congestion_ops laid out from the kernel's BTF) carried loopback connections, by choice and as the default ($connections connections, $acks window ACKs counted); after rmmod of the unloadable module it and its programs are gone"
