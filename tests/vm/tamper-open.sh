# The tamper matrix, unprotected (examples/tamper_policy): what each route of root
# in user space does to a preloaded LSM policy and its iterators (see
# lib/tamper-routes.sh). Passes once every route has run: its rows are the measurement.
# kernels: all
# modules: permanent examples/tamper_policy
# cmdline: bpf_preload_list=tamper_policy
# include: lib/tamper-routes.sh
OBJ=tamper_policy DATA=tamper_p.data MODE=open
t0=$(now)
insmod /modules/$OBJ.ko || { fail "insmod failed: $(klog $OBJ)"; exit 0; }
t1=$(now)
routes
pass "insmod took $(elapsed $t0 $t1) ms; every route ran; tampered:${tampered:- none}"
