#!/usr/bin/env bash
# Builds the corpus that is not committed:
#   - the Debian kernel packages Corpus/real.lock.json names (6.1 and 6.12, cloud and generic,
#     …-amd64-unsigned) and the ELF vmlinux extracted from each bzImage payload, every .deb and
#     file checked against the lock's SHA-256, recorded in Corpus/real/manifest.json (series,
#     flavour, version, SHA-256 of the .deb and of each image);
#   - the arm64 and riscv64 kernel packages the lock's "imagePackages" name (Debian's Image
#     vmlinuz, checked for its magic; a gzip-compressed Image is decompressed), recorded in the
#     manifest's "imageKernels";
#   - the initramfs real kernels boot into (Corpus/initramfs/build/, a static C init; gcc, libc6-dev),
#     and the same init cross-built for arm64 and riscv64 (build-arm64/, build-riscv64/;
#     gcc-aarch64-linux-gnu, gcc-riscv64-linux-gnu; skipped with the reason when missing);
#   - the synthetic images as files (Corpus/synthetic/images/), for pointing other loaders at them.
# The lock is the source of truth: this fetches exactly its versions (apt-get download PKG=VERSION),
# and a hash that differs or a version the archive no longer has ends the run, naming the
# package, what the lock expects and what was found. --update takes the newest package of each
# series in SERIES below instead, and rewrites the lock, printing old → new. --lock FILE reads
# (and with --update writes) another lock. --add SUITE FLAVOUR RELEASE|newest pins one more
# kernel from any Debian suite (bookworm, bookworm-backports, trixie, trixie-backports,
# unstable, experimental; flavour cloud, generic or rt; either package layout) in the lock,
# resolved by `conform fetch`, replacing the entry of the same series and flavour; --update
# keeps such entries as they are. --add-image ARCH SUITE FLAVOUR RELEASE|newest does the same for
# an arm64 or riscv64 kernel in "imagePackages" (replacing the entry of the same architecture,
# series and flavour); apt then runs with that architecture's private configuration
# (APT::Architecture ARCH, under CACHE/apt/SUITE-ARCH), never dpkg's foreign architectures.
# apt runs with a private configuration under $BOOTCONFORMANCE_CACHE (default
# ~/.cache/bootconformance, the cache `conform fetch` uses): the system's apt sources and lists
# are neither read nor changed.
# Idempotent: a second run reuses what is there after checking its checksum against the lock.
# Usage: tools/build-corpus.sh [--update] [--add SUITE FLAVOUR RELEASE|newest]... [--add-image ARCH SUITE FLAVOUR RELEASE|newest]... [--lock FILE] [--no-synthetic]
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=Corpus/real
LOCK=Corpus/real.lock.json
say() { printf '==> %s\n' "$*"; }
die() { printf 'build-corpus: error: %s\n' "$*" >&2; exit 1; }
usage="usage: tools/build-corpus.sh [--update] [--add SUITE FLAVOUR RELEASE|newest]... [--add-image ARCH SUITE FLAVOUR RELEASE|newest]... [--lock FILE] [--no-synthetic]"
update=0 synthetic=1 adds=() image_adds=()
while (($#)); do
  case $1 in
    --update) update=1;;
    --no-synthetic) synthetic=0;;
    --add) (($# >= 4)) || die "--add needs SUITE FLAVOUR RELEASE|newest ($usage)"; adds+=("$2 $3 $4"); shift 3;;
    --add-image) (($# >= 5)) || die "--add-image needs ARCH SUITE FLAVOUR RELEASE|newest ($usage)"; image_adds+=("$2 $3 $4 $5"); shift 4;;
    --lock) (($# >= 2)) || die "--lock needs a file ($usage)"; LOCK=$2; shift;;
    -h|--help) echo "$usage"; exit 0;;
    *) die "unknown argument $1 ($usage)";;
  esac
  shift
done
mkdir -p "$REAL/debs"
STALE="if the lock is out of date, run tools/build-corpus.sh --update (it takes the newest package of each series and rewrites $LOCK)"

# The series --update follows: series, flavour, and an extended regex for the package names
# (apt-cache search --names-only). Each lock entry records the series and flavour it is for.
SERIES=('6.1 cloud ^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$'
        '6.1 generic ^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$'
        '6.12 cloud ^linux-image-6\.12\.[0-9]+\+deb[0-9]+-cloud-amd64-unsigned$'
        '6.12 generic ^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$')

# A lock entry's fields (Corpus/README.md), in the order of the tab-separated lines below.
LOCK_FIELDS='series flavour suite package version debSha256 bzImage.member bzImage.path bzImage.sha256 vmlinux.path vmlinux.sha256'

need_tools=()
for t in zstd lz4 xz gzip bzip2 python3 dpkg-deb apt-get; do command -v "$t" >/dev/null || need_tools+=("$t"); done
if ((${#need_tools[@]})); then
  pkgs=()
  for t in "${need_tools[@]}"; do case $t in xz) pkgs+=(xz-utils);; python3) pkgs+=(python3);; *) pkgs+=("$t");; esac; done
  [ "$(id -u)" = 0 ] || die "missing tools: ${need_tools[*]} (install: apt-get install ${pkgs[*]})"
  say "installing ${pkgs[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

sha() { sha256sum "$1" | cut -d' ' -f1; }

# apt runs with a private configuration per suite under the cache, written by `conform fetch
# SUITE` (CACHE/apt/SUITE/apt.conf: sources, lists, caches and an empty dpkg status there), so
# the system's apt sources and lists are neither read nor changed. SUITE is a suite as a lock
# entry records it (bookworm-security) or as conform fetch takes it (bookworm, unstable, …).
CACHE=${BOOTCONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootconformance}
# The architecture apt is asked about (set per arm64/riscv64 entry below); each has its own
# private configuration, CACHE/apt/SUITE for amd64 and CACHE/apt/SUITE-ARCH for the others.
ARCH=amd64
suite_family() {
  case $1 in
    bookworm|bookworm-updates|bookworm-security) echo bookworm;;
    trixie|trixie-updates|trixie-security) echo trixie;;
    bookworm-backports|trixie-backports|unstable|experimental) echo "$1";;
    *) die "suite $1: expected bookworm, bookworm-backports, trixie, trixie-backports, unstable or experimental";;
  esac
}
# Prints the apt.conf of SUITE's private configuration; conform fetch writes it and fetches
# the package lists when they are missing.
private_apt() {
  local family d sfx=; family=$(suite_family "$1"); [ "$ARCH" = amd64 ] || sfx=-$ARCH; d=$CACHE/apt/$family$sfx
  if [ ! -e "$d/apt.conf" ] || ! ls "$d/lists/"*_Packages* >/dev/null 2>&1; then
    say "$family$sfx: writing the private apt configuration and fetching package lists (conform fetch $family --arch $ARCH)" >&2
    swift run -q conform fetch "$family" --arch "$ARCH" --cache "$CACHE" >/dev/null || die "conform fetch $family --arch $ARCH failed"
  fi
  echo "$d/apt.conf"
}
# As root apt drops to the _apt user for downloads, which cannot write a private cache.
apt_sandbox() { [ "$(id -u)" != 0 ] || echo "-o APT::Sandbox::User=root"; }
# What `TOOL ARGS` prints under SUITE's private configuration; when it prints nothing, the
# suite's package lists are fetched again and it is asked again.
declare -A APT_REFRESHED=()
apt_query() {
  local suite=$1 tool=$2 conf out; shift 2
  conf=$(private_apt "$suite")
  out=$("$tool" -c "$conf" "$@" 2>/dev/null || true)
  if [ -z "$out" ] && [ -z "${APT_REFRESHED[$conf]:-}" ]; then
    APT_REFRESHED[$conf]=1; apt-get -c "$conf" $(apt_sandbox) -qq update >/dev/null 2>&1 || true; out=$("$tool" -c "$conf" "$@" 2>/dev/null || true)
  fi
  printf '%s\n' "$out"
}

# The newest package of a series (SUITE PATTERN), by version order of the names apt knows.
newest_package() {
  local found; found=$(apt_query "$1" apt-cache search --names-only "$2" | cut -d' ' -f1 | sort -V | tail -n1)
  [ -n "$found" ] || die "no package matches $2 in $1"
  echo "$found"
}

# "VERSION SUITE" for every version of a package (SUITE PACKAGE) the archive has (the suite as
# apt-cache madison reports it: bookworm, bookworm-updates, bookworm-security).
archive_versions() {
  apt_query "$1" apt-cache madison "$2" | awk -F'|' 'NF >= 3 {gsub(/ /, "", $2); split($3, w, " "); split(w[2], s, "/"); print $2, s[1]}'
}

# "VERSION SUITE" of the newest version of a package (SUITE PACKAGE), by Debian version order.
newest_version() {
  local v s best= best_suite=
  while read -r v s; do
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v best_suite=$s; fi
  done < <(archive_versions "$1" "$2")
  [ -n "$best" ] || die "$2: the archive has no version of it"
  echo "$best $best_suite"
}

# The SHA-256 apt records for PACKAGE=VERSION (SUITE PACKAGE VERSION); empty when the archive
# does not have it.
archive_sha() { apt_query "$1" apt-cache show "$2=$3" | awk '/^SHA256:/{print $2; exit}'; }

# "PACKAGE VERSION" from a .deb's control file.
deb_identity() { dpkg-deb -f "$1" Package Version | awk '{printf "%s%s", (NR > 1 ? " " : ""), $2}'; }

# Sets DEB to the .deb of PKG VERSION (from SUITE) whose SHA-256 is WANT: one already in debs/
# if its checksum and control file match, else apt-get download PKG=VERSION, once apt records
# the same checksum.
fetch_deb() {
  local suite=$1 pkg=$2 version=$3 want=$4 d known apt_sha got conf
  for d in "$REAL/debs/${pkg}_"*.deb; do
    if [ -e "$d" ] && [ "$(sha "$d")" = "$want" ] && [ "$(deb_identity "$d")" = "$pkg $version" ]; then
      say "$pkg $version: reusing $(basename "$d") (sha256 ok)"; DEB=$d; return
    fi
  done
  apt_sha=$(archive_sha "$suite" "$pkg" "$version")
  if [ -z "$apt_sha" ]; then
    known=$(archive_versions "$suite" "$pkg" | awk '{printf "%s%s (%s)", (NR > 1 ? ", " : ""), $1, $2}')
    die "$pkg: the lock expects version $version, the archive has ${known:-no version of this package}; $STALE"
  fi
  [ "$apt_sha" = "$want" ] || die "$pkg $version: the lock expects .deb SHA-256 $want, the archive records $apt_sha; $STALE"
  say "$pkg $version: downloading"
  rm -f "$REAL/debs/${pkg}_"*.deb
  conf=$(private_apt "$suite")
  (cd "$REAL/debs" && apt-get -c "$conf" $(apt_sandbox) download -qq "$pkg=$version" 2>&1 || true)
  DEB=$(ls "$REAL/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
  [ -n "$DEB" ] || die "apt-get download $pkg=$version produced no .deb"
  got=$(sha "$DEB")
  [ "$got" = "$want" ] || die "$pkg $version: the lock expects .deb SHA-256 $want, the download $(basename "$DEB") has $got"
  got=$(deb_identity "$DEB")
  [ "$got" = "$pkg $version" ] || die "$pkg $version: the download $(basename "$DEB") is $got"
}

# Writes DEST from the member MEMBER of the package DEB (only that: the generic packages also
# carry about 400 MB of modules).
extract_member() {
  local deb=$1 member=$2 dest=$3 tmp
  tmp=$(mktemp -d)
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "$member" || { rm -rf "$tmp"; die "$deb: no $member inside"; }
  cp "$tmp/$member" "$dest.tmp" && mv "$dest.tmp" "$dest"; rm -rf "$tmp"
}

# Writes the ELF vmlinux ELF from the payload of the bzImage BZ.
extract_vmlinux() {
  local bz=$1 elf=$2 fmt usize dec
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
}

# Makes FILE (of the package named WHO) with the command that follows, unless it is there with
# the lock's SHA-256 WANT; then checks it against WANT ("-": no hash known yet, under --update,
# so it is always made afresh). Sets GOT to its SHA-256.
ensure_file() {
  local who=$1 file=$2 want=$3; shift 3
  if [ "$want" != - ] && [ -s "$file" ]; then
    GOT=$(sha "$file"); [ "$GOT" = "$want" ] && return
    say "$who: $(basename "$file") has SHA-256 $GOT, the lock expects $want: extracting it again"
  else
    say "$who: extracting $(basename "$file")"
  fi
  "$@"
  GOT=$(sha "$file")
  [ "$want" = - ] || [ "$GOT" = "$want" ] || die "$who: the lock expects $(basename "$file") SHA-256 $want, extracting it gave $GOT; $STALE"
}

# The lock's "packages" as tab-separated lines, LOCK_FIELDS in order (or, with KEY FIELDS, the
# list KEY, which may be absent or empty, by FIELDS); ends the run naming the first field that
# is missing or malformed.
read_lock() {
  python3 - "$1" "${3:-$LOCK_FIELDS}" "${2:-packages}" <<'PY'
import json, re, sys
path, fields, key = sys.argv[1], sys.argv[2].split(), sys.argv[3]
def fail(msg): sys.exit(f"build-corpus: error: {path}: {msg}")
try:
    lock = json.load(open(path))
except (OSError, ValueError) as e:
    fail(f"not a readable lock: {e}")
if not isinstance(lock, dict) or lock.get("format") != "real-corpus-lock/1":
    fail(f"format: expected real-corpus-lock/1, found {lock.get('format') if isinstance(lock, dict) else type(lock).__name__}")
packages = lock.get(key, [] if key != "packages" else None)
if not isinstance(packages, list) or (key == "packages" and not packages):
    fail(f"{key}: expected a non-empty list, found {packages!r}")
for i, p in enumerate(packages):
    row = []
    for f in fields:
        v = p
        for k in f.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        if not isinstance(v, str) or not v or "\t" in v or "\n" in v:
            fail(f"{key}[{i}].{f}: expected a string, found {v!r}")
        if f.endswith("ha256") and not re.fullmatch("[0-9a-f]{64}", v):
            fail(f"{key}[{i}].{f}: expected 64 lowercase hex digits, found {v!r}")
        row.append(v)
    print("\t".join(row))
PY
}

# Writes the lock FILE's "packages" from tab-separated lines (LOCK_FIELDS in order) on standard
# input (or, with KEY FIELDS, the list KEY), keeping the other list as it is.
write_lock() {
  python3 -c '
import json, os, sys
fields, path, list_key, dest = sys.argv[1].split(), sys.argv[2], sys.argv[3], sys.argv[4]
packages = []
for line in sys.stdin:
    p = {}
    for f, v in zip(fields, line.rstrip("\n").split("\t")):
        *parents, key = f.split(".")
        d = p
        for k in parents:
            d = d.setdefault(k, {})
        d[key] = v
    packages.append(p)
about = ("The Debian kernel packages tools/build-corpus.sh fetches, with the SHA-256 of each .deb and of "
         "the files taken from it. Written by tools/build-corpus.sh --update (Corpus/README.md).")
old = {}
if os.path.exists(dest):
    try: old = json.load(open(dest))
    except ValueError: old = {}
lock = {"format": "real-corpus-lock/1", "about": about, "packages": old.get("packages", []), "imagePackages": old.get("imagePackages", [])}
lock[list_key] = packages
if not lock["imagePackages"]: del lock["imagePackages"]
with open(path, "w") as f:
    json.dump(lock, f, indent=1, ensure_ascii=False)
    f.write("\n")
' "${3:-$LOCK_FIELDS}" "$1.tmp" "${2:-packages}" "$1" && mv "$1.tmp" "$1"
}

# What to fetch: one line per package, LOCK_FIELDS in order; "-" for a file hash not known yet.
wanted=() moves=()
if ((update)); then
  old=()
  if [ -e "$LOCK" ]; then
    if out=$(read_lock "$LOCK"); then mapfile -t old <<<"$out"; else say "$LOCK is unreadable: writing it anew"; fi
  fi
  for spec in "${SERIES[@]}"; do
    read -r series flavour pattern <<<"$spec"
    pkg=$(newest_package bookworm "$pattern")
    newest=$(newest_version bookworm "$pkg"); read -r version suite <<<"$newest"
    deb_sha=$(archive_sha bookworm "$pkg" "$version")
    [ -n "$deb_sha" ] || die "$pkg $version: apt records no SHA-256 for it"
    krel=${pkg#linux-image-}; krel=${krel%-unsigned}
    bz_sha=- elf_sha=- was="(none)"
    for line in "${old[@]}"; do
      IFS=$'\t' read -r o_series o_flavour _ o_pkg o_version o_deb _ _ o_bz _ o_elf <<<"$line"
      [ "$o_series $o_flavour" = "$series $flavour" ] || continue
      was="$o_pkg $o_version"
      # The same .deb as before: its files' hashes are known, so matching files are kept.
      if [ "$o_pkg $o_version $o_deb" = "$pkg $version $deb_sha" ]; then bz_sha=$o_bz elf_sha=$o_elf; fi
    done
    if [ "$was" = "$pkg $version" ]; then moves+=("$series $flavour: $pkg $version (unchanged)")
    else moves+=("$series $flavour: $was → $pkg $version"); fi
    wanted+=("$series	$flavour	$suite	$pkg	$version	$deb_sha	./boot/vmlinuz-$krel	vmlinuz-$krel	$bz_sha	vmlinux-$krel.elf	$elf_sha")
  done
  for line in "${old[@]}"; do
    IFS=$'\t' read -r o_series o_flavour _ o_pkg o_version _ <<<"$line"
    printf '%s\n' "${SERIES[@]}" | grep -q "^$o_series $o_flavour " && continue
    moves+=("$o_series $o_flavour: $o_pkg $o_version kept (pinned with --add; --update follows only SERIES)"); wanted+=("$line")
  done
  say "newest of each series:"; printf '    %s\n' "${moves[@]}"
else
  [ -e "$LOCK" ] || die "no lock at $LOCK; run tools/build-corpus.sh --update to write one from the newest packages"
  out=$(read_lock "$LOCK") || exit 1
  mapfile -t wanted <<<"$out"
fi

# --add / --add-image: conform fetch resolves the release in its suite (for ARCH, or amd64 when
# it is "-") and prints its package as a lock line (TAB-separated): series flavour suite package
# version debSha256 member bzImage - vmlinux - for amd64; architecture series flavour suite
# package version debSha256 member Image - for an Image. The files' hashes ("-") are taken on
# this run.
fetch_line() {  # ARCH|- SUITE FLAVOUR RELEASE
  local arch=$1 suite=$2 flavour=$3 release=$4 fetched archarg=()
  [ "$arch" = - ] || archarg=(--arch "$arch")
  fetched=$(swift run -q conform fetch "$suite" "$flavour" "$release" "${archarg[@]}" --cache "$CACHE" --output "$CACHE/kernels" --json) ||
    die "conform fetch $suite $flavour $release${archarg[*]:+ ${archarg[*]}} failed"
  printf '%s' "$fetched" | FETCH_ARCH=$arch python3 -c '
import json, os, re, sys
f = json.load(sys.stdin)
m = re.match(r"\d+\.\d+", f["release"])
abi = f["image"].rsplit("/vmlinuz-", 1)[1]
pkg = [m.group(0), f["flavour"], f["suite"], f["package"], f["version"], f["debSha256"], f["member"], "vmlinuz-" + abi, "-"]
print("\t".join(pkg + ["vmlinux-" + abi + ".elf", "-"] if os.environ["FETCH_ARCH"] == "-" else [f["architecture"]] + pkg))' || die "conform fetch printed no usable JSON"
}
# Puts LINE into the array named LIST in place of the entry whose first KEYS fields (series and
# flavour; with the architecture first for an Image) are the same, and says so in `moves`.
pin_line() {  # LIST KEYS LINE OPTION
  local -n list=$1
  local keys=$2 line=$3 opt=$4 w found="" rest=()
  local key; key=$(cut -f1-"$keys" <<<"$line")
  pkg_of() { cut -f$((keys + 2))-$((keys + 3)) <<<"$1" | tr '\t' ' '; }  # package version
  for w in "${list[@]}"; do
    if [ "$(cut -f1-"$keys" <<<"$w")" = "$key" ]; then moves+=("${key//$'\t'/ }: $(pkg_of "$w") → $(pkg_of "$line") ($opt)"); found=1; else rest+=("$w"); fi
  done
  [ -n "$found" ] || moves+=("${key//$'\t'/ }: $(pkg_of "$line") added ($opt)")
  list=("${rest[@]}" "$line")
}
for spec in "${adds[@]}"; do
  read -r a_suite a_flavour a_release <<<"$spec"
  say "--add $a_suite $a_flavour $a_release: resolving with conform fetch"
  line=$(fetch_line - "$a_suite" "$a_flavour" "$a_release") || exit 1
  pin_line wanted 2 "$line" --add
done

entries=() locked=()
for line in "${wanted[@]}"; do
  IFS=$'\t' read -r series flavour suite pkg version deb_sha member bz_name bz_sha elf_name elf_sha <<<"$line"
  fetch_deb "$suite" "$pkg" "$version" "$deb_sha"
  bz="$REAL/$bz_name" elf="$REAL/$elf_name"
  ensure_file "$pkg $version" "$bz" "$bz_sha" extract_member "$DEB" "$member" "$bz"; bz_got=$GOT
  ensure_file "$pkg $version" "$elf" "$elf_sha" extract_vmlinux "$bz" "$elf"; elf_got=$GOT
  name="debian-${bz_name#vmlinuz-}"
  entries+=("$name bzImage	$bz_name	bzImage	$pkg	$version	$bz_got	$deb_sha	$series	$flavour"
            "$name vmlinux	$elf_name	elf	$pkg	$version	$elf_got	$deb_sha	$series	$flavour")
  locked+=("$series	$flavour	$suite	$pkg	$version	$deb_sha	$member	$bz_name	$bz_got	$elf_name	$elf_got")
  say "$pkg: ready (${version%%-*}, $series $flavour)"
done
if ((update || ${#adds[@]})); then
  printf '%s\n' "${locked[@]}" | write_lock "$LOCK" || die "could not write $LOCK"
  say "wrote $LOCK (${#locked[@]} packages):"; printf '    %s\n' "${moves[@]}"
fi
# The arm64 and riscv64 kernels: the lock's "imagePackages", IMAGE_FIELDS in order.
IMAGE_FIELDS='architecture series flavour suite package version debSha256 image.member image.path image.sha256'
out=$(read_lock "$LOCK" imagePackages "$IMAGE_FIELDS") || exit 1
images=(); [ -z "$out" ] || mapfile -t images <<<"$out"
for spec in "${image_adds[@]}"; do
  read -r a_arch a_suite a_flavour a_release <<<"$spec"
  say "--add-image $a_arch $a_suite $a_flavour $a_release: resolving with conform fetch"
  line=$(fetch_line "$a_arch" "$a_suite" "$a_flavour" "$a_release") || exit 1
  pin_line images 3 "$line" --add-image
done

# Writes the Image DEST from the package member's file RAW: as it is when it is an Image ("ARM\x64"
# or "RSC\x05" at 0x38: boot-image-header.rst, magic2), decompressed when it is gzip (Image.gz) or an EFI zboot image
# ("MZ", "zimg" at 4: payload offset and size at 8 and 12, the compression's name at 0x18).
extract_image() {
  local deb=$1 member=$2 dest=$3 arch=$4
  extract_member "$deb" "$member" "$dest.raw"
  python3 - "$dest.raw" "$dest.tmp" "$arch" <<'PY' || { rm -f "$dest.raw" "$dest.tmp"; die "$deb: $member is not a usable $arch Image"; }
import gzip, lzma, struct, subprocess, sys
raw, dest, arch = sys.argv[1], sys.argv[2], sys.argv[3]
b = open(raw, "rb").read()
how = "plain Image"
if b[:2] == b"\x1f\x8b":
    b, how = gzip.decompress(b), "gzip-compressed Image (Image.gz)"
elif b[:2] == b"MZ" and b[4:8] == b"zimg":
    off, size = struct.unpack_from("<II", b, 8)
    comp = b[0x18:0x38].split(b"\0")[0].decode()
    payload = b[off:off + size]
    if comp == "gzip": b = gzip.decompress(payload)
    elif comp in ("xz", "lzma"): b = lzma.decompress(payload)
    elif comp == "zstd": b = subprocess.run(["zstd", "-dcq"], input=payload, capture_output=True, check=True).stdout
    else: sys.exit(f"EFI zboot payload compressed with {comp!r}: not handled")
    how = f"EFI zboot image ({comp} payload at {off:#x}, {size} bytes)"
magic = {"arm64": (0x38, b"ARM\x64"), "riscv64": (0x38, b"RSC\x05")}[arch]
found = b[magic[0]:magic[0] + 4]
if found != magic[1]:
    sys.exit(f"{arch} Image magic at {magic[0]:#x}: expected {magic[1]!r}, found {found!r}")
open(dest, "wb").write(b)
print(f"{how}, {len(b)} bytes, magic {magic[1]!r} at {magic[0]:#x}", file=sys.stderr)
PY
  rm -f "$dest.raw"; mv "$dest.tmp" "$dest"
}

image_entries=() image_locked=()
for line in "${images[@]}"; do
  IFS=$'\t' read -r arch series flavour suite pkg version deb_sha member img_name img_sha <<<"$line"
  ARCH=$arch
  fetch_deb "$suite" "$pkg" "$version" "$deb_sha"
  img="$REAL/$img_name"
  ensure_file "$pkg $version" "$img" "$img_sha" extract_image "$DEB" "$member" "$img" "$arch"; img_got=$GOT
  image_entries+=("debian-${img_name#vmlinuz-} Image	$img_name	$arch	$pkg	$version	$img_got	$deb_sha	$series	$flavour")
  image_locked+=("$arch	$series	$flavour	$suite	$pkg	$version	$deb_sha	$member	$img_name	$img_got")
  say "$pkg: ready ($arch, ${version%%-*}, $series $flavour)"
done
ARCH=amd64
if ((${#image_adds[@]})); then
  printf '%s\n' "${image_locked[@]}" | write_lock "$LOCK" imagePackages "$IMAGE_FIELDS" || die "could not write $LOCK"
  say "wrote $LOCK (${#image_locked[@]} image packages):"; printf '    %s\n' "${moves[@]}"
fi

say "building the initramfs (static C init; gcc, libc6-dev)"
Corpus/initramfs/build.sh || die "the initramfs did not build (needs gcc, libc6-dev, python3)"
initramfs_archs=()
for a in arm64 riscv64; do
  cc=$([ $a = arm64 ] && echo aarch64-linux-gnu-gcc || echo riscv64-linux-gnu-gcc)
  if command -v "$cc" >/dev/null; then
    say "building the $a initramfs ($cc -static)"
    Corpus/initramfs/build.sh "$a" || die "the $a initramfs did not build (needs $cc and its libc6-dev cross package)"
    initramfs_archs+=("$a")
  else
    say "$a initramfs: skipped, $cc is not installed (apt-get install gcc-${cc%-gcc}); the $a real-kernel boots skip"
  fi
done
{ printf '%s\n' "${entries[@]}"; printf '%s\n' "${image_entries[@]/#/image	}"; } | python3 -c '
import json, sys
keys = ["name", "path", "format", "package", "version", "sha256", "debSha256", "series", "flavour"]
image_keys = ["name", "path", "architecture", "package", "version", "sha256", "debSha256", "series", "flavour"]
images, image_kernels = [], []
for line in sys.stdin:
    if not line.strip(): continue
    f = line.rstrip("\n").split("\t")
    if f[0] == "image": image_kernels.append(dict(zip(image_keys, f[1:])))
    else: images.append(dict(zip(keys, f)))
initramfs = json.load(open("Corpus/initramfs/build/initramfs.json"))
initramfs["path"] = "../initramfs/build/initramfs.cpio"
by_arch = {}
for a in sys.argv[2].split():
    by_arch[a] = json.load(open(f"Corpus/initramfs/build-{a}/initramfs.json"))
    by_arch[a]["path"] = f"../initramfs/build-{a}/initramfs.cpio"
json.dump({"about": "Generated by tools/build-corpus.sh; not committed.", "initramfs": initramfs, "images": images,
           "imageInitramfs": by_arch, "imageKernels": image_kernels}, open(sys.argv[1], "w"), indent=1)
print(len(images) + len(image_kernels))' "$REAL/manifest.json.tmp" "${initramfs_archs[*]}" > "$REAL/count.tmp" || die "could not write the manifest"
mv "$REAL/manifest.json.tmp" "$REAL/manifest.json"
say "wrote $REAL/manifest.json ($(cat "$REAL/count.tmp") images)"; rm -f "$REAL/count.tmp"

if ((synthetic)); then
  say "writing synthetic images to Corpus/synthetic/images"
  swift run -q conform corpus Corpus/synthetic/images
  say "building the probe kernel (gcc, binutils)"
  Corpus/probe/build.sh || die "the probe kernel did not build (needs gcc and binutils)"
  say "writing probe-kernel variants to Corpus/probe/images"
  swift run -q conform corpus --probe Corpus/probe/images
  # The arm64 and riscv64 Image probes, each with Debian's cross compiler; an architecture
  # whose compiler is missing is skipped with the reason (its tests and matrix rows skip too).
  for arch in arm64 riscv64; do
    say "building the $arch Image probe (Corpus/probe-$arch/build.sh)"
    rc=0; Corpus/probe-$arch/build.sh || rc=$?
    if ((rc == 3)); then say "$arch Image probe skipped: its cross compiler is missing (see above)"
    elif ((rc != 0)); then die "the $arch Image probe did not build"; fi
  done
fi
