# The patched kernel loads mkdir_guard itself at boot (its preload list names it):
# kernel start -> policy active, from the kernel log's timestamps (printk.time=1).
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,mkdir_guard printk.time=1
# modules: installed permanent examples/mkdir_guard
line=$(dmesg | grep 'mkdir_guard: registered with the kernel' | tail -1)
check "mkdir_guard did not register at boot: $(dmesg | grep -E 'bpf_preload|mkdir_guard' | tail -3)" [ -n "$line" ]
echo "$line"
t=$(timestamp "$line")
check "no timestamp on: $line" [ -n "$t" ]
refute "the policy is not active" mkdir /tmp/bpf-preload-reserved
pass "policy active at ${t} s after kernel start (preload list, request_module from the kernel's own bpffs mount)"
