#!/usr/bin/env bash
# Installs the real loaders the entry-path suites boot the probe with, all Debian 12 packages:
#   qemu-system-x86   QEMU -kernel on pc (SeaBIOS + linuxboot_dma: the 16-bit entry), PVH
#   ovmf              OVMF firmware: -kernel through the EFI stub or the handover entry
#   grub-pc-bin       GRUB 2 for BIOS (linux, linux16)
#   grub-efi-amd64-bin GRUB 2 for EFI (under OVMF)
#   xorriso mtools    grub-mkrescue's ISO and EFI system partition
#   u-boot-qemu       U-Boot for x86 (qemu-x86 u-boot.rom, zboot), arm64 (qemu_arm64) and riscv64
#                     (qemu-riscv64_smode): booti of the Image probes
#   qemu-system-arm qemu-system-misc opensbi  QEMU virt for arm64 and riscv64 (-kernel), OpenSBI
#                     fw_dynamic (QEMU's own) and Debian's fw_jump
#   systemd-boot-efi  systemd-boot, under OVMF
#   isolinux syslinux-common ipxe-qemu ISOLINUX 6.04 (its ISO is made with xorriso) and iPXE's e1000 ROM
#   kexec-tools       kexec, run inside a real kernel under QEMU (kexec-load, kexec-file)
# Needs root (apt-get); prints what is missing otherwise. Tests skip, with the reason, when a
# loader is missing.
set -euo pipefail
pkgs=(qemu-system-x86 ovmf grub-pc-bin grub-efi-amd64-bin xorriso mtools u-boot-qemu systemd-boot-efi
      isolinux syslinux-common ipxe-qemu kexec-tools qemu-system-arm qemu-system-misc opensbi)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "install-loaders: all present (${pkgs[*]})"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "install-loaders: missing ${missing[*]}; run as root, or: apt-get install ${missing[*]}" >&2; exit 1; fi
echo "install-loaders: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
