#!/bin/sh
# Builds the riscv64 Image probe with Debian's cross compiler (gcc-riscv64-linux-gnu) into
# Corpus/probe-riscv64/build/: one Image per variant, an initrd, and variants.json naming them.
# Variants (ID:TEXT_OFFSET:FLAGS:IMAGE_SIZE; facts: Documentation/arch/riscv/boot.rst,
# boot-image-header.rst, spec digest §6.2):
#   riscv64-t200000   text_offset 0x200000, as Linux 6.12 on rv64 (head.S)
#   riscv64-t0        text_offset 0 (an M-mode kernel's value)
#   riscv64-big       text_offset 0x200000, image_size 512 MiB: only the header says so (the file
#                     stays small); a loader that ignores image_size puts the initrd or the DTB
#                     inside the range the kernel claims
# riscv64 has no placement flag (flags bit 0 only: big-endian).
ARCH=riscv64 CROSS=riscv64-linux-gnu- \
ARCH_CFLAGS="-march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany -mno-relax" \
ASFLAGS_EXTRA="-march=rv64imac_zicsr_zifencei -mabi=lp64 -mno-relax -DTEXT_OFFSET=0x200000" \
ABS_RELOCS='R_RISCV_(64|32|HI20|LO12_I|LO12_S) ' \
VARIANTS="riscv64-t200000:0x200000:0: riscv64-t0:0:0: riscv64-big:0x200000:0:0x20000000" \
exec sh "$(dirname "$0")/../probe-image/build.sh"
