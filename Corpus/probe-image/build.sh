#!/bin/sh
# Builds one architecture's Image probe (called by Corpus/probe-ARCH/build.sh, which sets ARCH,
# CROSS, ARCH_CFLAGS, ASFLAGS_EXTRA, ABS_RELOCS and VARIANTS): compiles the shared report code
# and the architecture's entry and CPU code, checks that no absolute relocation is left (the
# probe runs wherever a loader puts it), links at 0, and writes the variants (variants.py).
# Exit status 3: the cross compiler is missing (tools/build-corpus.sh skips the architecture).
set -eu
common=$(cd "$(dirname "$0")" && pwd)
here=$(cd "$common/../probe-$ARCH" && pwd)
out="$here/build"
CC=${CC:-${CROSS}gcc}
command -v "$CC" >/dev/null || { echo "probe-$ARCH: $CC not installed (apt-get install gcc-${CROSS%-}); skipped" >&2; exit 3; }
mkdir -p "$out"
CFLAGS="-O2 -ffreestanding -fno-builtin -nostdlib -fpie -fvisibility=hidden $ARCH_CFLAGS \
 -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-jump-tables -Wall -Werror"
$CC $CFLAGS -c "$common/report.c" -o "$out/report.o"
$CC $CFLAGS -c "$here/arch.c" -o "$out/arch.o"
$CC -fpie $ASFLAGS_EXTRA -c "$here/entry.S" -o "$out/entry.o"
for o in report arch entry; do
  # probe_image_size is the linker's constant (_end - _text), not an address.
  if ${CROSS}readelf -rW "$out/$o.o" | grep -E "$ABS_RELOCS" | grep -v probe_image_size >/dev/null; then
    echo "probe-$ARCH: $o.o has absolute relocations; the probe must be position-independent" >&2; exit 1
  fi
done
${CROSS}ld -nostdlib -static -no-pie --no-relax --no-warn-rwx-segments -T "$here/probe.ld" "$out/entry.o" "$out/arch.o" "$out/report.o" -o "$out/probe.elf"
${CROSS}objcopy -O binary "$out/probe.elf" "$out/probe.bin"
sym() { ${CROSS}nm "$out/probe.elf" | awk -v s="$1" '$3 == s { print $1 }'; }
size=$(stat -c %s "$out/probe.bin")
[ $((0x$(sym probe_file_end))) -eq "$size" ] || { echo "probe-$ARCH: probe_file_end 0x$(sym probe_file_end) is not the file size $size" >&2; exit 1; }
# shellcheck disable=SC2086
python3 "$common/variants.py" --arch "$ARCH" --image "$out/probe.bin" --variant-offset "0x$(sym probe_variant_name)" --out "$out" $VARIANTS
echo "probe-$ARCH: $size bytes, image_size 0x$(sym probe_image_size), $($CC --version | head -n1) -> $out"
