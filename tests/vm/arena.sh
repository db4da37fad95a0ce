# `__arena` globals (examples/arena_counter), which need an arena (Linux 6.9). From a
# process, the loader maps the arena at its map_extra and writes the globals there
# before the program loads: read back through a mapping of the arena and through
# what the program computes from them; a failure at each call leaves nothing
# (preload-probe arena, tests/probe/arena.rs). A module runs in no process to map
# the arena into: insmod is refused, naming the arena and the step, and leaves
# nothing behind.
# kernels: stock since 6.9
# modules: permanent examples/arena_counter
probe_checks arena
refute "insmod succeeded" insmod /modules/arena_counter.ko
msg=$(about arena_counter | grep -v taints)
echo "$msg"
# shellcheck disable=SC2016 # the backquotes are the module's own, in its message
for word in '`arena_counter`' 'arena `arena`' 'it runs in no process' EOPNOTSUPP; do
	check "the message does not say $word: $msg" contains "$msg" "$word"
done
refute "the module stayed loaded" grep -q '^arena_counter ' /proc/modules
check "left behind" preload-probe absent prog bump map arena map arena_co.bss
pass "$(echo "$PROBED" | grep -c '^ok:') checks from a process; insmod refused: $(echo "$msg" | head -1)"
