# A typed ksym: a per-CPU kernel variable found by its BTF id from the module.
# kernels: stock
# modules: permanent examples/typed_ksym
load /modules/typed_ksym.ko
check "reading the iterator" preload-probe iter dump_typed_ksym
echo "$OUT"
v=$(echo "$OUT" | sed -n 's/^bpf_prog_active //p')
check "no value of bpf_prog_active: $OUT" number "$v"
pass "the per-CPU variable bpf_prog_active, by its BTF id from the module, reads $v"
