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
refute "the BPF LSM is active: $lsm" contains ",$lsm," ,bpf,
refute "insmod succeeded without the BPF LSM" insmod /modules/tamper_locked.ko
msg=$(klog tamper_locked)
echo "$msg"
check "the message does not say why: $msg" contains "$msg" 'BPF LSM is not active'
refute "the module stayed loaded" grep -q '^tamper_locked ' /proc/modules
check "left behind" preload-probe absent prog refuse_denied prog list_maps prog guard_bpf prog guard_bpf_map \
	map exempt map refusals map protected link refuse_denied link guard_bpf
pass "insmod refused: $msg"
