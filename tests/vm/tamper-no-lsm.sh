# A `protect` module on a kernel booted without the BPF LSM (`lsm=` lacks bpf):
# the guard would attach and never run, so insmod fails, says why, and leaves
# nothing behind.
# Debian's default lsm= without bpf (the patched kernel's config has its own).
# kernels: all
# modules: permanent examples/tamper_policy_locked
# cmdline: bpf_preload_list=tamper_locked lsm=lockdown,capability,yama
cat /sys/kernel/security/lsm 2>/dev/null || mount -t securityfs securityfs /sys/kernel/security
lsm=$(cat /sys/kernel/security/lsm)
echo "lsm: $lsm"
case ",$lsm," in *,bpf,*) fail "the BPF LSM is active: $lsm"; exit 0;; esac
insmod /modules/tamper_locked.ko 2>/dev/null && { fail "insmod succeeded without the BPF LSM"; exit 0; }
msg=$(klog tamper_locked)
echo "$msg"
echo "$msg" | grep -q 'BPF LSM is not active' || { fail "the message does not say why: $msg"; exit 0; }
grep -q '^tamper_locked ' /proc/modules && { fail "the module stayed loaded"; exit 0; }
left=$(preload-probe absent prog refuse_denied prog list_maps prog guard_bpf prog guard_bpf_map \
    map exempt map refusals map protected link refuse_denied link guard_bpf) || { fail "left behind: $left"; exit 0; }
pass "insmod refused: $msg"
