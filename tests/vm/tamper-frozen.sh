# The tamper matrix with `freeze_all` only (examples/tamper_policy_frozen): what
# freezing the maps holds without the guard. Passes once every route has run: its
# rows are the measurement.
# kernels: all
# modules: permanent examples/tamper_policy_frozen
# cmdline: bpf_preload_list=tamper_frozen
# include: lib/tamper-routes.sh
OBJ=tamper_frozen
# shellcheck disable=SC2034 # read by routes in lib/tamper-routes.sh, which the header includes
DATA=tamper_f.data MODE=frozen
t0=$(now)
load "/modules/$OBJ.ko"
t1=$(now)
routes
pass "insmod took $(elapsed "$t0" "$t1") ms; every route ran; tampered:${tampered:- none}"
