#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets (swiftc -sanitize=fuzzer,address over the
# Conformance library built the same way) and runs each, one after the other, seeded from the
# corpus, for a time, a number of executions, or whichever comes first when both are given.
# Prints per target: executions, wall time, exec/s, peak RSS, corpus kept, crashes. Exits 1 if
# any target found a crash, which libFuzzer writes under .build/fuzz/crashes/TARGET/.
# Usage: tools/fuzz.sh [--time SECONDS] [--runs N] [TARGET...]
#   (default: every target, 60 s; --runs alone runs until N executions, with no time limit)
set -euo pipefail
cd "$(dirname "$0")/.."
time_s=""; runs=""; targets=()
while (($#)); do
  case $1 in
    --time) time_s=$2; shift 2;;
    --runs) runs=$2; shift 2;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    -*) echo "fuzz: unknown option $1 (have --time SECONDS, --runs N)" >&2; exit 2;;
    *) targets+=("$1"); shift;;
  esac
done
for v in "$time_s" "$runs"; do [[ -z $v || $v =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --time and --runs take a positive whole number, got '$v'" >&2; exit 2; }; done
[ -n "$time_s$runs" ] || time_s=60
((${#targets[@]})) || targets=($(ls Fuzz/Targets | sed 's/\.swift$//'))
B=.build/fuzz
say() { printf '==> %s\n' "$*"; }

say "building Conformance with -sanitize=fuzzer,address (release)"
swift build -c release --build-path "$B" --target Conformance -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -E 'error|warning: unre|Compiling|Build' | tail -n 3
# A Swift module's objects are those its output file map names for its current sources (and
# that were built: the map is written for modules Conformance does not need): the build leaves
# the objects of renamed or deleted files behind, and linking those too defines symbols twice.
swift_objs() {
  python3 -c 'import json, os, sys
print("\n".join(o for k, v in json.load(open(sys.argv[1])).items() if k and os.path.exists(o := v.get("object", ""))))' "$B/release/$1.build/output-file-map.json"
}
objs="$(for m in Conformance Crypto CryptoBoringWrapper SwiftASN1; do swift_objs "$m"; done)
$(find "$B/release/" -name '*.o' \( -path '*/CCryptoBoringSSL.build/*' -o -path '*/CCryptoBoringSSLShims.build/*' \))"
[ -n "$objs" ] || { echo "fuzz: no object files under $B/release/" >&2; exit 2; }

seeds() {  # seed files for a target, into $1
  local dir=$1 t=$2
  case $t in
    elf|pvh-note) cp Corpus/synthetic/images/*.elf "$dir"/ 2>/dev/null || true; cp Corpus/probe/images/*.elf "$dir"/ 2>/dev/null || true;;
    bzimage) cp Corpus/synthetic/images/*.bzImage "$dir"/ 2>/dev/null || true; cp Corpus/probe/images/*.bzImage "$dir"/ 2>/dev/null || true;;
    newc) cp Corpus/initramfs/build/initramfs.cpio "$dir"/ 2>/dev/null || true;;
    snapshot) cp Corpus/golden/*.json "$dir"/ 2>/dev/null || true;;
  esac
  cp Fuzz/Seeds/"$t"/* "$dir"/ 2>/dev/null || true
  if [ "$t" = pvh-note ]; then  # the notes themselves: "Xen" PHYS32_ENTRY with 4- and 8-byte descriptors
    printf '\x04\x00\x00\x00\x08\x00\x00\x00\x12\x00\x00\x00Xen\x00\x00\x00\x00\x01\x00\x00\x00\x00' > "$dir/xen-desc8"
    printf '\x04\x00\x00\x00\x04\x00\x00\x00\x12\x00\x00\x00Xen\x00\x00\x00\x00\x01' > "$dir/xen-desc4"
  fi
}

# The longest input libFuzzer may make for a target (-max_len; it was 1 MiB for all): room
# above the largest seed each needs (a probe bzImage is up to 32 KiB, an ELF or snapshot file
# about 20 KiB, a probe report 10 KiB, a PVH note list or a command line far less; the built
# initramfs, a newc seed of several hundred KiB, is read up to its first 64 KiB). Longer inputs
# reach no code that shorter ones do not (every length and offset field is still free to point
# past the end); they only make each run cost more.
max_len() {
  case $1 in
    bzimage|elf|snapshot|newc) echo 65536;;
    probe-report|kernel-report) echo 32768;;
    pvh-note) echo 8192;;
    cmdline) echo 4096;;
    *) echo 65536;;
  esac
}

stat_of() { grep -E "stat::$1:" "$2" | awk '{print $2}' | tail -n1; }

status=0
summary=()
limit=""; [ -n "$time_s" ] && limit="${time_s}s"; [ -n "$runs" ] && limit="${limit:+$limit or }$runs executions"
for t in "${targets[@]}"; do
  [ -f "Fuzz/Targets/$t.swift" ] || { echo "fuzz: no target $t (have: $(ls Fuzz/Targets | sed 's/\.swift$//' | tr '\n' ' '))" >&2; exit 2; }
  say "linking $t"
  if ! swiftc -O -sanitize=fuzzer,address -parse-as-library -I "$B/release/Modules" "Fuzz/Targets/$t.swift" $objs -o "$B/fuzz-$t" > "$B/link-$t.log" 2>&1; then
    grep -v 'Cannot export local symbol' "$B/link-$t.log" | head -n 20 >&2; echo "fuzz: $t did not link" >&2; exit 2
  fi
  corpus="$B/corpus/$t"; crashes="$B/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  seed=$(mktemp -d); seeds "$seed" "$t"
  say "running $t for $limit ($(ls "$seed" | wc -l) seeds, corpus $corpus, max_len $(max_len "$t"))"
  log="$B/fuzz-$t.log"
  set +e
  start=$(date +%s.%N)
  "$B/fuzz-$t" "$corpus" "$seed" -max_total_time="${time_s:-0}" -runs="${runs:--1}" -print_final_stats=1 -artifact_prefix="$crashes/" \
    -rss_limit_mb=4096 -max_len="$(max_len "$t")" > "$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  set -e
  rm -rf "$seed"
  execs=$(stat_of number_of_executed_units "$log"); rss=$(stat_of peak_rss_mb "$log")
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  rate=$(awk -v n="${execs:-0}" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
  kept="$(ls "$corpus" | wc -l) inputs, $(du -sk "$corpus" | cut -f1) KiB"
  found=$(ls "$crashes" | wc -l)
  line="$t: ${execs:-?} executions in ${wall} s (${rate} exec/s), peak RSS ${rss:-?} MB, corpus $kept"
  if [ $rc -ne 0 ]; then
    status=1
    echo "fuzz: $t FAILED (exit $rc); see $log and $crashes" >&2
    grep -E 'ERROR|Fatal error|SUMMARY|Test unit written' "$log" | head -n 8 >&2
    summary+=("$line, CRASH ($found files in $crashes)")
  else
    summary+=("$line, no crash")
  fi
done
say "summary"
printf '  %s\n' "${summary[@]}"
exit $status
