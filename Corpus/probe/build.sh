#!/bin/sh
# Builds the probe kernel's pieces with gcc and binutils into Corpus/probe/build/:
#   probe.bin     the image, linked at 0, position-independent (entries at 0, 0x200, pvh_start)
#   setup16.bin   real-mode setup code for the bzImage variants (goes at setup offset 0x400)
#   probe.json    symbol offsets the packager needs (conform probe-images reads it)
# The bzImage and ELF variants are wrapped by `conform corpus --probe` from these.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/build"
mkdir -p "$out"
CC=${CC:-gcc}
CFLAGS="-O2 -m64 -ffreestanding -fno-builtin -nostdlib -fPIE -fvisibility=hidden -mno-red-zone -mgeneral-regs-only \
 -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none -fno-jump-tables -Wall -Werror"
$CC $CFLAGS -c "$here/probe.c" -o "$out/probe.o"
$CC -m64 -fPIE -c "$here/entry.S" -o "$out/entry.o"
# Nothing may need an absolute relocation except symbol offsets from 0 in the 32-bit code,
# which are right only because the image is linked at 0 and the code adds its base.
if readelf -rW "$out/probe.o" | grep -E 'R_X86_64_(64|32S?) ' >/dev/null; then
  echo "probe.o has absolute relocations; the probe must be position-independent" >&2; exit 1
fi
ld -nostdlib -static -no-pie -T "$here/probe.ld" "$out/entry.o" "$out/probe.o" -o "$out/probe.elf"
objcopy -O binary "$out/probe.elf" "$out/probe.bin"
$CC -m32 -c "$here/setup16.S" -o "$out/setup16.o"
ld -m elf_i386 -nostdlib -static -T "$here/setup16.ld" "$out/setup16.o" -o "$out/setup16.elf"
objcopy -O binary "$out/setup16.elf" "$out/setup16.bin"
sym() { nm "$out/probe.elf" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }
cat > "$out/probe.json" <<JSON
{"format": "probe-build/1",
 "pvh_start": "$(sym pvh_start)", "efi_pe_entry": "$(sym efi_pe_entry)", "efi_handover64": "$(sym efi_handover64)", "pvh_base_imm": "$(sym pvh_base_imm)", "startup_64": "$(sym startup_64)", "variant": "$(sym probe_variant)", "tail": "$(sym probe_tail)",
 "scratch_start": "$(sym probe_scratch_start)", "scratch_end": "$(sym probe_scratch_end)", "image_end": "$(sym probe_image_end)", "memory_size": "$(sym probe_scratch_end)",
 "probe_sha256": "$(sha256sum "$out/probe.bin" | cut -d' ' -f1)", "setup16_sha256": "$(sha256sum "$out/setup16.bin" | cut -d' ' -f1)"}
JSON
echo "probe: $(stat -c %s "$out/probe.bin") bytes, setup16: $(stat -c %s "$out/setup16.bin") bytes -> $out"
