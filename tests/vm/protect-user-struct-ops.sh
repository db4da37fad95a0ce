# `protect` from user space over a struct_ops registration (examples/tcp_cc): a
# failure at each call of the load leaves the congestion control unregistered and
# nothing behind, the guard's refusal of BPF_MAP_DELETE_ELEM notwithstanding
# (tests/probe/protect.rs).
# kernels: all
out=$(preload-probe protect-user-struct-ops 2>&1)
echo "$out"
failed=$(echo "$out" | grep -m1 'FAILED\|preload-probe:\|panicked')
check "$failed" [ -z "$failed" ]
pass "$(echo "$out" | tail -1 | sed 's/^ok: //')"
