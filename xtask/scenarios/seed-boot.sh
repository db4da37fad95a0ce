# The patched kernel loads mkdir_guard itself at boot (its preload list names it):
# kernel start -> policy active, from the kernel log's timestamps (printk.time=1).
line=$(dmesg | grep 'mkdir_guard: registered with the kernel' | tail -1)
[ -n "$line" ] || { fail "mkdir_guard did not register at boot: $(dmesg | grep -E 'bpf_preload|mkdir_guard' | tail -3)"; exit 0; }
echo "$line"
t=$(echo "$line" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
[ -n "$t" ] || { fail "no timestamp on: $line"; exit 0; }
mkdir /tmp/bpf-preload-reserved 2>/dev/null && { fail "the policy is not active"; exit 0; }
pass "policy active at ${t} s after kernel start (preload list, request_module from the kernel's own bpffs mount)"
