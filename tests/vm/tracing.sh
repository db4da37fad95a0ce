# A tracing program (fentry on getppid) counting calls in a map.
# kernels: all
# modules: permanent examples/getppid_count
load /modules/getppid_count.ko
dmesg | grep 'getppid_count:'
check "no map getppid_calls" preload-probe find map getppid_calls
id=$OUT
check "probe failed" preload-probe getppid 3 getppid_calls
a=$OUT
check "probe failed" preload-probe getppid 250 getppid_calls
b=$OUT
check "counts $a and $b, expected at least 3 and 250" [ "$a" -ge 3 ]
check "counts $a and $b, expected at least 3 and 250" [ "$b" -ge 250 ]
pass "map getppid_calls (id $id) counted $a and $b getppid(2) calls of two processes (3 and 250 made)"
