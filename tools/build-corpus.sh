#!/usr/bin/env bash
# Builds the corpus that is not committed:
#   - the newest Debian 6.1 and 6.12 kernels, cloud and generic flavours (…-amd64-unsigned), with
#     the ELF vmlinux extracted from each bzImage payload, recorded in Corpus/real/manifest.json
#     (series, flavour, version, SHA-256 of the .deb and of each image);
#   - the initramfs real kernels boot into (Corpus/initramfs/build/, a static C init; gcc, libc6-dev);
#   - the synthetic images as files (Corpus/synthetic/images/), for pointing other loaders at them.
# Idempotent: a second run reuses what is there after checking its checksum.
# Usage: tools/build-corpus.sh [--no-synthetic]
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=Corpus/real
mkdir -p "$REAL/debs"
say() { printf '==> %s\n' "$*"; }
die() { printf 'build-corpus: error: %s\n' "$*" >&2; exit 1; }

need_tools=()
for t in zstd lz4 xz gzip bzip2 python3 dpkg-deb apt-get; do command -v "$t" >/dev/null || need_tools+=("$t"); done
if ((${#need_tools[@]})); then
  pkgs=()
  for t in "${need_tools[@]}"; do case $t in xz) pkgs+=(xz-utils);; python3) pkgs+=(python3);; *) pkgs+=("$t");; esac; done
  [ "$(id -u)" = 0 ] || die "missing tools: ${need_tools[*]} (install: apt-get install ${pkgs[*]})"
  say "installing ${pkgs[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

# The newest package of a series, by version order of the names apt knows.
newest() {
  local pattern=$1 found
  found=$(apt-cache search --names-only "$pattern" 2>/dev/null | cut -d' ' -f1 | sort -V | tail -n1)
  if [ -z "$found" ] && [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true
    found=$(apt-cache search --names-only "$pattern" 2>/dev/null | cut -d' ' -f1 | sort -V | tail -n1); fi
  [ -n "$found" ] || die "no package matches $pattern (is apt-get update done?)"
  echo "$found"
}

entries=()
for spec in '6.1 cloud ^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' \
            '6.1 generic ^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' \
            '6.12 cloud ^linux-image-6\.12\.[0-9]+\+deb[0-9]+-cloud-amd64-unsigned$' \
            '6.12 generic ^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$'; do
  read -r series flavour pattern <<<"$spec"
  pkg=$(newest "$pattern")
  want_sha=$(apt-cache show "$pkg" | awk '/^SHA256:/{print $2; exit}')
  version=$(apt-cache show "$pkg" | awk '/^Version:/{print $2; exit}')
  deb=$(ls "$REAL/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
  if [ -n "$deb" ] && [ "$(sha256sum "$deb" | cut -d' ' -f1)" = "$want_sha" ]; then
    say "$pkg $version: reusing $(basename "$deb") (sha256 ok)"
  else
    say "$pkg $version: downloading"
    rm -f "$REAL/debs/${pkg}_"*.deb
    (cd "$REAL/debs" && apt-get download -qq "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    deb=$(ls "$REAL/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
    [ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
    got=$(sha256sum "$deb" | cut -d' ' -f1)
    [ "$got" = "$want_sha" ] || die "$deb: sha256 $got, apt says $want_sha"
  fi
  krel=${pkg#linux-image-}; krel=${krel%-unsigned}
  bz="$REAL/vmlinuz-$krel"
  if [ ! -s "$bz" ]; then
    say "$pkg: extracting vmlinuz-$krel"
    # Only boot/ (the generic packages carry ~400 MB of modules we do not need).
    tmp=$(mktemp -d); dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/vmlinuz-$krel" \
      || { rm -rf "$tmp"; die "$deb: no ./boot/vmlinuz-$krel inside"; }
    cp "$tmp/boot/vmlinuz-$krel" "$bz.tmp" && mv "$bz.tmp" "$bz"; rm -rf "$tmp"
  fi
  elf="$REAL/vmlinux-$krel.elf"
  if [ ! -s "$elf" ]; then
    say "$pkg: extracting the ELF vmlinux from the bzImage payload"
    # payload_offset/length at 0x248/0x24C, relative to the protected-mode image at (setup_sects+1)*512
    read -r fmt usize < <(python3 - "$bz" "$elf.payload" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
ss = b[0x1F1] or 4
pm = (ss + 1) * 512
po, pl = struct.unpack_from('<II', b, 0x248)
p = b[pm + po: pm + po + pl]
magic = {b'\x1f\x8b': 'gzip', b'\x1f\x9e': 'gzip', b'BZ': 'bzip2', b'\x5d\x00': 'lzma', b'\xfd\x37': 'xz', b'\x02\x21': 'lz4', b'\x28\xb5': 'zstd', b'\x7fE': 'elf'}
open(sys.argv[2], 'wb').write(p[:-4])  # the last 4 bytes are the uncompressed length
print(magic.get(p[:2], 'unknown'), struct.unpack_from('<I', p, pl - 4)[0])
PY
)
    case $fmt in
      zstd) dec=(zstd -dcq);; lz4) dec=(lz4 -dcq);; xz) dec=(xz -dcq);; lzma) dec=(xz --format=lzma -dcq);;
      gzip) dec=(gzip -dcq);; bzip2) dec=(bzip2 -dcq);; elf) dec=(cat);; *) die "$bz: payload compression not recognised";;
    esac
    "${dec[@]}" < "$elf.payload" > "$elf.tmp" || die "$bz: $fmt decompression failed"
    rm -f "$elf.payload"
    [ "$(head -c 4 "$elf.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "$bz: payload did not decompress to an ELF"
    [ "$(stat -c %s "$elf.tmp")" = "$usize" ] || die "$bz: vmlinux is $(stat -c %s "$elf.tmp") bytes, the payload trailer says $usize"
    mv "$elf.tmp" "$elf"
  fi
  kver=${version%%-*}
  for f in "$bz" "$elf"; do
    case $f in *.elf) fmt=elf; what=vmlinux;; *) fmt=bzImage; what=bzImage;; esac
    entries+=("debian-$krel $what	$(basename "$f")	$fmt	$pkg	$version	$(sha256sum "$f" | cut -d' ' -f1)	$want_sha	$series	$flavour")
  done
  say "$pkg: ready ($kver, $series $flavour)"
done
say "building the initramfs (static C init; gcc, libc6-dev)"
Corpus/initramfs/build.sh || die "the initramfs did not build (needs gcc, libc6-dev, python3)"
printf '%s\n' "${entries[@]}" | python3 -c '
import json, sys
keys = ["name", "path", "format", "package", "version", "sha256", "debSha256", "series", "flavour"]
images = [dict(zip(keys, line.rstrip("\n").split("\t"))) for line in sys.stdin if line.strip()]
initramfs = json.load(open("Corpus/initramfs/build/initramfs.json"))
initramfs["path"] = "../initramfs/build/initramfs.cpio"
json.dump({"about": "Generated by tools/build-corpus.sh; not committed.", "initramfs": initramfs, "images": images}, open(sys.argv[1], "w"), indent=1)
print(len(images))' "$REAL/manifest.json.tmp" > "$REAL/count.tmp" || die "could not write the manifest"
mv "$REAL/manifest.json.tmp" "$REAL/manifest.json"
say "wrote $REAL/manifest.json ($(cat "$REAL/count.tmp") images)"; rm -f "$REAL/count.tmp"

if [ "${1:-}" != "--no-synthetic" ]; then
  say "writing synthetic images to Corpus/synthetic/images"
  swift run -q conform corpus Corpus/synthetic/images
  say "building the probe kernel (gcc, binutils)"
  Corpus/probe/build.sh || die "the probe kernel did not build (needs gcc and binutils)"
  say "writing probe-kernel variants to Corpus/probe/images"
  swift run -q conform corpus --probe Corpus/probe/images
fi
