# Kconfig, kfunc and kallsyms externs, resolved by the module as the kernel says.
# kernels: stock
# modules: permanent examples/externs
load /modules/externs.ko
check "reading the iterator" preload-probe iter dump_externs
out=$OUT
echo "$out"
got() { echo "$out" | sed -n "s/^$1 //p"; }
cfg() { sed -n "s/^$1=//p" /kernel.config; }
tri() { case "$(cfg "$1")" in y) echo 1 ;; m) echo 2 ;; *) echo 0 ;; esac; }
same() { check "$1 is '$(got "$1")', the kernel says '$2'" [ "$(got "$1")" = "$2" ]; }
same CONFIG_HZ "$(cfg CONFIG_HZ)"
same CONFIG_BPF_SYSCALL 1
same CONFIG_BTRFS_FS "$(tri CONFIG_BTRFS_FS)"
same CONFIG_CC_VERSION_TEXT "$(cfg CONFIG_CC_VERSION_TEXT | tr -d '"' | cut -c1-63)"
same LINUX_HAS_SYSCALL_WRAPPER "$(tri CONFIG_ARCH_HAS_SYSCALL_WRAPPER)"
same CONFIG_BPF_PRELOAD_NO_SUCH_OPTION 0
same bpf_lookup_system_key 1
same bpf_preload_no_such_kfunc 0
same vfs_read "$(sed -n 's/^0*\([0-9a-f]*\) [Tt] vfs_read$/\1/p' /proc/kallsyms)"
v=$(got LINUX_KERNEL_VERSION)
check "LINUX_KERNEL_VERSION $v is not $(uname -r)" prefixed "$(uname -r)" "$((v >> 16)).$(((v >> 8) & 255))."
pass "Kconfig (bool, tristate, int, string, weak), kfuncs, a kallsyms address and a missing weak kfunc resolved from the module as the kernel says"
