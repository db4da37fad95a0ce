# The tamper matrix with `protect` and `freeze_all` (examples/tamper_policy_locked):
# every route of lib/tamper-routes.sh must be refused or harmless.
# kernels: all
# modules: permanent examples/tamper_policy_locked
# cmdline: bpf_preload_list=tamper_locked
# include: lib/tamper-routes.sh
OBJ=tamper_locked DATA=tamper_l.data MODE=locked
t0=$(now)
insmod /modules/$OBJ.ko || { fail "insmod failed: $(klog $OBJ)"; exit 0; }
t1=$(now)
klog $OBJ
routes
[ -z "$tampered" ] || { fail "routes that changed the protected object:$tampered"; exit 0; }
pass "insmod took $(elapsed $t0 $t1) ms; every route refused or harmless"
