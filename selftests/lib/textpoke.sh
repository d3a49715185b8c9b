# SPDX-License-Identifier: GPL-2.0
# selftests/lib/textpoke.sh - where the test VM's kernel patches its own text
# while a suite runs: every static-key (jump label) site it rewrites and every
# other int3-based patch (text_poke_bp: static calls, optimized kprobes).
# Under TCG the test VM once froze with both CPUs inside a never-finished
# patch of __schedule (Documentation/qemu.md); this counts who patches what.
#   textpoke_start     kprobe events on arch_jump_label_transform_queue and
#                      text_poke_bp (tracefs), buffer cleared
#   textpoke_report [N]  stop; one line per patched site, the N (40) most
#                      patched:
#                      "COUNT  FUNCTION+OFF  KEY  on|off" (jump labels) or
#                      "COUNT  FUNCTION+OFF  text_poke_bp"
# Needs tracefs with kprobe events; does nothing (returns 1) without them.
TP_TRACE=/sys/kernel/tracing

textpoke_start()
{
	[ -w $TP_TRACE/kprobe_events ] || return 1
	echo 0 > $TP_TRACE/tracing_on
	echo > $TP_TRACE/trace
	echo 8192 > $TP_TRACE/buffer_size_kb
	{
		# struct jump_entry { s32 code; s32 target; long key; }: the
		# fields are offsets from their own addresses.
		echo 'p:vhxtp/jl arch_jump_label_transform_queue entry=%di:x64 code=+0(%di):s32 key=+8(%di):s64 type=%si:u32'
		echo 'p:vhxtp/bp text_poke_bp addr=%di:x64'
	} >> $TP_TRACE/kprobe_events || return 1
	echo 1 > $TP_TRACE/events/vhxtp/enable
	echo 1 > $TP_TRACE/tracing_on
}

textpoke_report()
{
	[ -d $TP_TRACE/events/vhxtp ] || return 1
	echo 0 > $TP_TRACE/tracing_on
	echo 0 > $TP_TRACE/events/vhxtp/enable
	python3 - $TP_TRACE/trace /proc/kallsyms "${1:-40}" <<'PY'
import bisect, collections, re, sys
syms = []
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) >= 3:
        syms.append((int(f[0], 16), f[2]))
syms.sort()
addrs = [a for a, _ in syms]
def name(a):
    i = bisect.bisect_right(addrs, a) - 1
    return f"{syms[i][1]}+{a - syms[i][0]:#x}" if i >= 0 else hex(a)
def sym(a):
    i = bisect.bisect_right(addrs, a) - 1
    return syms[i][1] if i >= 0 and addrs[i] == a else name(a)
count = collections.Counter()
for line in open(sys.argv[1]):
    m = re.search(r"jl: .*entry=0x([0-9a-f]+) code=(-?\d+) key=(-?\d+) type=(\d+)", line)
    if m:
        e = int(m.group(1), 16)
        site = (e + int(m.group(2))) & (2**64 - 1)
        key = (e + 8 + (int(m.group(3)) & ~3)) & (2**64 - 1)
        count[(name(site), sym(key), "on" if m.group(4) == "1" else "off")] += 1
        continue
    m = re.search(r"bp: .*addr=0x([0-9a-f]+)", line)
    if m:
        count[(name(int(m.group(1), 16)), "text_poke_bp", "")] += 1
for (site, key, how), n in count.most_common(int(sys.argv[3])):
    print(f"{n:6d}  {site}  {key}  {how}")
if not count:
    print("     0  (no text patched)")
PY
	echo '-:vhxtp/jl' >> $TP_TRACE/kprobe_events
	echo '-:vhxtp/bp' >> $TP_TRACE/kprobe_events
}
