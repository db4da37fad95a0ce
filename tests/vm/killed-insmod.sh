# insmod killed (SIGKILL) at different moments of an LSM policy's load: whatever the
# moment, the outcome is all or nothing. Either the module is live and its policy
# refuses, or nothing of it is left (no module, program, map or link); never an
# object loaded but not held, or held but not attached.
# kernels: all
# modules: unloadable examples/mkdir_guard
loaded=0 absent=0
for delay in 0 1000 5000 10000 20000 40000 80000 160000; do
	insmod /modules/unloadable/mkdir_guard.ko &
	pid=$!
	usleep $delay
	kill -9 $pid 2>/dev/null
	wait $pid
	if grep -q '^mkdir_guard ' /proc/modules; then
		loaded=$((loaded + 1))
		refute "killed after ${delay} us: the module is loaded but mkdir is allowed" mkdir /tmp/bpf-preload-reserved
		check "rmmod after a kill at ${delay} us" rmmod mkdir_guard
	else
		absent=$((absent + 1))
	fi
	check "killed after ${delay} us: left behind" preload-probe absent prog refuse_reserved map refusals link refuse_reserved
done
pass "8 kills: $loaded loads completed and held, $absent left nothing"
