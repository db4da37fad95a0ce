# The tamper matrix with `protect` and `freeze_all` (examples/tamper_policy_locked):
# every route of tamper-lib.sh must be refused or harmless.
OBJ=tamper_locked DATA=tamper_l.data MODE=locked
t0=$(now)
insmod /modules/$OBJ.ko || { fail "insmod failed: $(klog $OBJ)"; exit 0; }
t1=$(now)
klog $OBJ
routes
[ -z "$tampered" ] || { fail "routes that changed the protected object:$tampered"; exit 0; }
pass "insmod took $(elapsed $t0 $t1) ms; every route refused or harmless"
