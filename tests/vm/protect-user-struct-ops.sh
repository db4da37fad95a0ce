# `protect` from user space over a struct_ops registration (examples/tcp_cc): a
# failure at each call of the load leaves the congestion control unregistered and
# nothing behind, the guard's refusal of BPF_MAP_DELETE_ELEM notwithstanding
# (tests/probe/protect.rs).
# kernels: all
probe_checks protect-user-struct-ops
pass "$(echo "$PROBED" | tail -1 | sed 's/^ok: //')"
