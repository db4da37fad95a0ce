# The tamper matrix, unprotected (examples/tamper_policy): what each route of root
# in user space does to a preloaded LSM policy and its iterators (see
# lib/tamper-routes.sh). Passes once every route has run: its rows are the measurement.
# kernels: all
# modules: permanent examples/tamper_policy
# cmdline: bpf_preload_list=tamper_policy
# include: lib/tamper-routes.sh
OBJ=tamper_policy
# shellcheck disable=SC2034 # read by routes in lib/tamper-routes.sh, which the header includes
DATA=tamper_p.data MODE=open
t0=$(now)
load "/modules/$OBJ.ko"
t1=$(now)
routes
pass "insmod took $(elapsed "$t0" "$t1") ms; every route ran; tampered:${tampered:- none}"
