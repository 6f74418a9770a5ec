#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short while (CI: `fuzz/run.sh 20`).
#
#   fuzz/run.sh [seconds-per-target] [target...]     default: 20 s, every target
#
# Stable Rust is enough: RUSTC_BOOTSTRAP=1 lets it take the nightly flags cargo-fuzz
# passes (-Zsanitizer...). No sanitizer is used: the crate forbids unsafe code, so
# AddressSanitizer would find nothing the fuzzer's own panics do not, and it would
# double the build time. Seeds and crash regressions live in fuzz/seeds/<target>/
# (committed); libFuzzer runs every one of them first, so an old crash fails at once.
# The working corpus grows in fuzz/corpus/<target>/ (not committed). Exits non-zero
# on any crash, leaving the input in fuzz/artifacts/<target>/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-20}"
shift || true

cargo_fuzz_version=0.13.1
if ! cargo fuzz --version 2>/dev/null | grep -q "$cargo_fuzz_version"; then
  echo "== installing cargo-fuzz $cargo_fuzz_version"
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi

export RUSTC_BOOTSTRAP=1
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

echo "== building ${#targets[@]} fuzz targets"
cargo fuzz build --sanitizer none

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "seeds/$target" "artifacts/$target"
  echo "== fuzzing $target for ${seconds}s"
  rc=0
  cargo fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$work/$target.log" 2>&1 || rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$' || echo "?")
  if [ "$rc" != 0 ]; then
    tail -40 "$work/$target.log"
    summary+=("$target: FAILED (exit $rc) after $runs inputs; see fuzz/artifacts/$target/")
    status=1
  else
    summary+=("$target: $runs inputs in ${seconds}s, no crash")
  fi
done
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
exit "$status"
