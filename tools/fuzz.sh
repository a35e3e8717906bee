#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/Targets (swiftc -sanitize=fuzzer,address over the
# Conformance library built the same way) and runs each for a given time, seeded from the
# corpus. Prints the executions each target ran; exits 1 if any target found a crash, which
# libFuzzer writes under .build/fuzz/crashes/TARGET/.
# Usage: tools/fuzz.sh [--time SECONDS] [--jobs N] [TARGET...]   (default: every target, 60 s)
set -euo pipefail
cd "$(dirname "$0")/.."
time_s=60; targets=()
while (($#)); do
  case $1 in
    --time) time_s=$2; shift 2;;
    *) targets+=("$1"); shift;;
  esac
done
((${#targets[@]})) || targets=($(ls Fuzz/Targets | sed 's/\.swift$//'))
B=.build/fuzz
say() { printf '==> %s\n' "$*"; }

say "building Conformance with -sanitize=fuzzer,address (release)"
swift build -c release --build-path "$B" --target Conformance -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -E 'error|warning: unre|Compiling|Build' | tail -n 3
objs=$(find "$B/release/" -name '*.o' \( -path '*/Conformance.build/*' -o -path '*/Crypto.build/*' -o -path '*/CCryptoBoringSSL.build/*' \
        -o -path '*/CCryptoBoringSSLShims.build/*' -o -path '*/CryptoBoringWrapper.build/*' -o -path '*/SwiftASN1.build/*' \))
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

status=0
summary=()
for t in "${targets[@]}"; do
  [ -f "Fuzz/Targets/$t.swift" ] || { echo "fuzz: no target $t (have: $(ls Fuzz/Targets | sed 's/\.swift$//' | tr '\n' ' '))" >&2; exit 2; }
  say "linking $t"
  if ! swiftc -O -sanitize=fuzzer,address -parse-as-library -I "$B/release/Modules" "Fuzz/Targets/$t.swift" $objs -o "$B/fuzz-$t" > "$B/link-$t.log" 2>&1; then
    grep -v 'Cannot export local symbol' "$B/link-$t.log" | head -n 20 >&2; echo "fuzz: $t did not link" >&2; exit 2
  fi
  corpus="$B/corpus/$t"; crashes="$B/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  seed=$(mktemp -d); seeds "$seed" "$t"
  say "running $t for ${time_s}s ($(ls "$seed" | wc -l) seeds, corpus $corpus)"
  log="$B/fuzz-$t.log"
  set +e
  "$B/fuzz-$t" "$corpus" "$seed" -max_total_time="$time_s" -print_final_stats=1 -artifact_prefix="$crashes/" -rss_limit_mb=4096 -max_len=1048576 > "$log" 2>&1
  rc=$?
  set -e
  rm -rf "$seed"
  execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -n1)
  if [ $rc -ne 0 ]; then
    status=1
    echo "fuzz: $t FAILED (exit $rc); see $log and $crashes" >&2
    grep -E 'ERROR|Fatal error|SUMMARY|Test unit written' "$log" | head -n 8 >&2
    summary+=("$t: CRASH after ${execs:-?} executions")
  else
    summary+=("$t: ${execs:-?} executions in ${time_s}s, no crash")
  fi
done
say "summary"
printf '  %s\n' "${summary[@]}"
exit $status
