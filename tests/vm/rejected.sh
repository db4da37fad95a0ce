# An object whose second program the verifier rejects (tests/fixtures/verifier_reject):
# insmod fails, saying which program and why, and leaves nothing behind.
# kernels: all
# modules: permanent tests/fixtures/verifier_reject
refute "insmod succeeded" insmod /modules/verifier_reject.ko
msg=$(about verifier_reject | grep -v -e taints -e 'verification failed')
echo "$msg"
# shellcheck disable=SC2016 # the backquotes are the module's own, in its message
for word in '`verifier_reject`' '`bad_deref`' BPF_PROG_LOAD EACCES; do
	check "the message does not say $word: $msg" contains "$msg" "$word"
done
refute "the module stayed loaded" grep -q '^verifier_reject ' /proc/modules
check "left behind" preload-probe absent prog allowed prog bad_deref map reject_counts link allowed
pass "insmod refused: $(echo "$msg" | head -1)"
