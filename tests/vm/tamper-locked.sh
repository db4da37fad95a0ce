# The tamper matrix with `protect` and `freeze_all` (examples/tamper_policy_locked):
# every route of lib/tamper-routes.sh must be refused or harmless.
# kernels: all
# modules: permanent examples/tamper_policy_locked
# cmdline: bpf_preload_list=tamper_locked
# include: lib/tamper-routes.sh
OBJ=tamper_locked
# shellcheck disable=SC2034 # read by routes in lib/tamper-routes.sh, which the header includes
DATA=tamper_l.data MODE=locked
t0=$(now)
load "/modules/$OBJ.ko"
t1=$(now)
klog "$OBJ"
routes
# shellcheck disable=SC2154 # tampered: the routes' TAMPERED rows, set by row in lib/tamper-routes.sh
check "routes that changed the protected object:$tampered" [ -z "$tampered" ]
pass "insmod took $(elapsed "$t0" "$t1") ms; every route refused or harmless"
