#!/bin/sh
# Builds the arm64 Image probe with Debian's cross compiler (gcc-aarch64-linux-gnu) into
# Corpus/probe-arm64/build/: one Image per variant, an initrd, and variants.json naming them.
# Variants (ID:TEXT_OFFSET:FLAGS:IMAGE_SIZE; facts: Documentation/arch/arm64/booting.rst §4,
# spec digest §6.1):
#   arm64-t0-anywhere       text_offset 0, flags 0xa (LE, 4K pages, bit 3: anywhere), as Linux 6.12
#   arm64-t0-base           text_offset 0, flags 0x2 (bit 3 clear: 2 MiB-aligned base near the start of RAM)
#   arm64-t80000-anywhere   text_offset 0x80000, flags 0xa
#   arm64-t80000-base       text_offset 0x80000, flags 0x2 (the layout of kernels before 4.x)
#   arm64-big               text_offset 0, flags 0xa, image_size 512 MiB: only the header says so
#                           (the file stays small); a loader that ignores image_size puts the
#                           initrd or the DTB inside the range the kernel claims
# EL1 or EL2 entry is a property of the run (QEMU virt's virtualization=on), not of the image.
ARCH=arm64 CROSS=aarch64-linux-gnu- \
ARCH_CFLAGS="-mgeneral-regs-only -mstrict-align -mbranch-protection=none" \
ASFLAGS_EXTRA="-DTEXT_OFFSET=0 -DIMAGE_FLAGS=0xa" \
ABS_RELOCS='R_AARCH64_(ABS64|ABS32|MOVW_UABS)' \
VARIANTS="arm64-t0-anywhere:0:0xa: arm64-t0-base:0:0x2: arm64-t80000-anywhere:0x80000:0xa: arm64-t80000-base:0x80000:0x2: arm64-big:0:0xa:0x20000000" \
exec sh "$(dirname "$0")/../probe-image/build.sh"
