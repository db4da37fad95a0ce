# `protect` from user space: preload-probe loads the locked object with the user
# backend and checks that the guard refuses the process its own fds' writes and
# every new fd, that free leaves nothing, and that a failure at each call of the
# load (the guard's included) leaves nothing behind (tests/probe/protect.rs).
# kernels: all
probe_checks protect-user
pass "$(echo "$PROBED" | tail -1 | sed 's/^ok: //')"
