# A program that replaces a function of another BPF program (freplace), given that
# program's pin (examples/freplace_verdict, target_program(...)). From a process:
# while it is loaded, examples/freplace_target's filter returns the replacement's
# value, once freed its own again, and a failure at each call leaves nothing
# (preload-probe freplace, tests/probe/freplace.rs). A module opens no pin: insmod
# is refused, naming the program, the function and the pin, and leaves nothing.
# kernels: all
# modules: permanent examples/freplace_verdict
mount -t bpf bpf /sys/fs/bpf
probe_checks freplace
refute "insmod succeeded" insmod /modules/freplace_verdict.ko
msg=$(about freplace_verdict | grep -v taints)
echo "$msg"
# shellcheck disable=SC2016 # the backquotes are the module's own, in its message
for word in '`new_verdict`' '`verdict`' '`/sys/fs/bpf/freplace_target/filter_prog`' 'from a process only' EOPNOTSUPP; do
	check "the message does not say $word: $msg" contains "$msg" "$word"
done
refute "the module stayed loaded" grep -q '^freplace_verdict ' /proc/modules
check "left behind" preload-probe absent prog new_verdict prog filter
pass "$(echo "$PROBED" | grep -c '^ok:') checks from a process; insmod refused: $(echo "$msg" | head -1)"
