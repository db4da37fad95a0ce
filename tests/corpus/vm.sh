# The corpus VM's script (`cargo xtask corpus`, tests/corpus/src/vm.rs): the same harness
# as on the host, statically linked, over the objects the host refuses to every loader.
# Each result is one CORPUS-ROW line on the console.
mkdir -p /tmp/corpus
/bin/corpus-harness corpus-guest /corpus/list.tsv /corpus/libbpf-load.sh
echo "CORPUS-DONE $?"
