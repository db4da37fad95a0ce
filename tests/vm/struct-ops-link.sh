# A struct_ops map of `.struct_ops.link`, registered by a link the module holds
# (BPF_F_LINK maps and struct_ops links are from 6.4); rmmod drops it.
# kernels: stock since 6.4
# modules: unloadable examples/tcp_cc_link
cc=preload_renol
registered() { grep -qw $cc /proc/sys/net/ipv4/tcp_available_congestion_control; }
check "cannot bring lo up" ip link set lo up
load /modules/unloadable/tcp_cc_link.ko
check "$cc is not available" registered
check "a connection with $cc" preload-probe tcp $cc 4194304
check "the connection used $OUT" [ "$OUT" = $cc ]
check "rmmod failed" rmmod tcp_cc_link
refute "$cc is still available after rmmod" registered
check "left behind" preload-probe absent map preload_renol prog reno_init
pass "$cc, registered by a struct_ops link the module held, carried a connection; rmmod dropped the link and unregistered it"
