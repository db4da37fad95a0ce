# A listed object that fails while the kernel preloads it (program allowed loaded,
# bad_deref rejected): no directory, no pins, nothing loaded.
# kernels: preload
# cmdline: bpf_preload_list=bpf_preload,verifier_reject
# modules: installed permanent tests/fixtures/verifier_reject
dmesg | grep -E 'bpf_preload|verifier_reject:' | grep -v 'verification failed'
check "the kernel did not report the failed object" sh -c "dmesg | grep -q 'bpf_preload: verifier_reject is on the preload list but did not register'"
# shellcheck disable=SC2016 # the backquotes are the module's own, in its message
msg=$(about verifier_reject | grep -F '`bad_deref`' | head -1)
check "the module did not say what failed: $msg" contains "$msg" BPF_PROG_LOAD
check "mount bpffs" mount -t bpf bpf /sys/fs/bpf
ls -la /sys/fs/bpf
refute "a partial directory was left: $(ls /sys/fs/bpf/verifier_reject 2>&1)" test -e /sys/fs/bpf/verifier_reject
refute "the module stayed loaded" grep -q '^verifier_reject ' /proc/modules
check "left behind" preload-probe absent prog allowed prog bad_deref map reject_counts link allowed
pass "the listed object failed while the kernel preloaded it (program allowed loaded, bad_deref rejected): no directory, no pins, nothing loaded; $msg"
