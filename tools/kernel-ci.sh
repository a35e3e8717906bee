#!/usr/bin/env bash
# Kernel CI recipe (issue 15): gate a new kernel against the previous release and publish the
# results as JUnit, HTML, Markdown and JSON.
#
#   tools/kernel-ci.sh [--new SUITE:FLAVOUR:RELEASE | --new-image FILE] [--baseline SUITE:FLAVOUR:RELEASE | --baseline-image FILE]
#                      [--out DIR] [--no-boot]
#
# Defaults: the newest cloud kernel Debian unstable packages (`conform fetch unstable cloud
# newest`), against the newest bookworm 6.12 cloud kernel, results in gate-results/. A kernel
# you built yourself is `--new-image arch/x86/boot/bzImage` (or an ELF vmlinux, or a .deb of
# either package layout). Exit status: conform gate's (0 pass, 1 regression, 2 bad input).
# Needs Swift, qemu-system-x86 (for the boot step), apt-get and dpkg-deb (for fetching), and
# the initramfs tools/build-corpus.sh builds (the script builds it when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
new_spec="unstable:cloud:newest"; new_image=""
base_spec="bookworm:cloud:6.12"; base_image=""
out="gate-results"; boot=()
while (($#)); do
  case $1 in
    --new) new_spec=$2; shift 2;;
    --new-image) new_image=$2; shift 2;;
    --baseline) base_spec=$2; shift 2;;
    --baseline-image) base_image=$2; shift 2;;
    --out) out=$2; shift 2;;
    --no-boot) boot=(--no-boot); shift;;
    -h|--help) sed -n '2,13p' "$0"; exit 0;;
    *) echo "kernel-ci: unknown argument $1 (see --help)" >&2; exit 2;;
  esac
done

say() { printf '==> %s\n' "$*"; }
conform() { swift run conform "$@"; }

# SUITE:FLAVOUR:RELEASE → the fetched .deb's path (conform fetch checks its SHA-256 against
# the archive's record and caches it).
fetch() {
  local spec=$1 suite flavour release
  IFS=: read -r suite flavour release <<<"$spec"
  [ -n "$suite" ] && [ -n "$flavour" ] && [ -n "$release" ] || { echo "kernel-ci: '$spec' is not SUITE:FLAVOUR:RELEASE" >&2; exit 2; }
  conform fetch "$suite" "$flavour" "$release" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["deb"]); print("fetched %s %s (%s), sha256 %s" % (d["package"], d["version"], d["suite"], d["debSha256"]), file=sys.stderr)'
}

say "building conform"
swift build --product conform >/dev/null
if [ ${#boot[@]} -eq 0 ] && [ ! -f Corpus/initramfs/build/initramfs.cpio ]; then
  say "building the initramfs (Corpus/initramfs/build.sh)"
  Corpus/initramfs/build.sh >/dev/null
fi
new=${new_image:-$(fetch "$new_spec")}
base=${base_image:-$(fetch "$base_spec")}
mkdir -p "$out"
say "gate: $new against $base"
status=0
conform gate "$new" --baseline "$base" "${boot[@]}" \
  --junit "$out/gate.xml" --html "$out/gate.html" --markdown "$out/gate.md" --json-file "$out/gate.json" || status=$?
say "results: $out/gate.xml (JUnit), $out/gate.html (HTML report), $out/gate.md (Markdown), $out/gate.json; exit $status"
exit "$status"
