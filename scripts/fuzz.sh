#!/usr/bin/env bash
# Builds fuzz/ (libFuzzer targets, clang-14, address + undefined sanitizers) into ./build-fuzz and
# runs targets for a bounded time each. docs/architecture.md ("Fuzzing") says what each covers.
#   scripts/fuzz.sh --build-only            configure + build only
#   scripts/fuzz.sh --ci TARGET             one target of the `fuzz` ctest label, 20 s
#   scripts/fuzz.sh [--seconds S] [TARGET...] on demand: every target (default 600 s each)
# The corpus of a target lives in build-fuzz/corpus/TARGET (kept between runs), seeded from
# fuzz/seeds/TARGET, the first lines of ../shared/data files when present (never copied into the
# repository) and, for the file readers, a small dataset the target writes. Crash inputs go to
# build-fuzz/crashes/TARGET/; a summary line per run to build-fuzz/summary.jsonl.
# Exit: 0 clean, 1 a target crashed, 77 no clang-14 / libFuzzer (ctest reports a skip).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/build-fuzz
ALL=(fuzz_amazon_s3rec fuzz_movielens fuzz_taobao fuzz_csv fuzz_ini fuzz_request fuzz_dataset
     fuzz_h5_raw)
mode=demand seconds=600 targets=()
while (($#)); do
  case $1 in
    --build-only) mode=build ;;
    --ci) mode=ci; seconds=${DIVREC_FUZZ_CI_SECONDS:-20} ;;
    --seconds) seconds=$2; shift ;;
    *) targets+=("$1") ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${ALL[@]}")

if ! command -v clang++-14 > /dev/null ||
   ! compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" > /dev/null; then
  echo "fuzz: clang++-14 with libFuzzer (libclang-rt-14-dev) not installed; skipping"
  exit 77
fi

build() {
  export CCACHE_BASEDIR=$ROOT
  if [[ ! -f $B/CMakeCache.txt ]]; then
    cmake -S fuzz -B "$B" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++-14 \
      -DCMAKE_C_COMPILER=clang-14 > "$B/cmake.log" 2>&1 || { cat "$B/cmake.log"; exit 1; }
  fi
  cmake --build "$B" -j "${DIVREC_JOBS:-$(nproc)}"
}

# Seeds from ../shared/data: a few dozen lines of each real file, in the targets' input layout.
shared_seeds() {
  local t=$1 out=$2 d=$ROOT/../shared/data
  [[ -d $d ]] || return 0
  /usr/bin/python3 - "$t" "$out" "$d" <<'PY'
import json, os, sys
t, out, d = sys.argv[1:]
SEP = "\n--8<--\n"
def head(path, n=40):
    if not os.path.exists(path): return None
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(line for _, line in zip(range(n), f))
def put(name, text):
    if text: open(os.path.join(out, "shared_" + name), "w", encoding="utf-8").write(text)
if t == "fuzz_amazon_s3rec":
    a = os.path.join(d, "amazon-beauty")
    seq = head(os.path.join(a, "Beauty.txt"), 30)
    attr_path = os.path.join(a, "Beauty_item2attributes.json")
    if seq and os.path.exists(attr_path):
        items = {x for line in seq.splitlines() for x in line.split()[1:]}
        attrs = json.load(open(attr_path))
        put("beauty.txt", seq + SEP + json.dumps({k: v for k, v in attrs.items() if k in items}))
elif t == "fuzz_movielens":
    m = os.path.join(d, "movielens-100k")
    parts = [head(os.path.join(m, f), 60) for f in ("u.data", "u.item", "u.genre")]
    if all(parts): put("ml100k.txt", "100k\n" + SEP.join(parts))
elif t in ("fuzz_taobao", "fuzz_csv"):
    rows = head(os.path.join(d, "taobao-sample", "UserBehavior.csv"), 60)
    if rows: put("taobao.csv", rows if t == "fuzz_taobao" else "\x00" + rows)
PY
}

run_target() {
  local t=$1 corpus=$B/corpus/$1 crashes=$B/crashes/$1 log=$B/logs/$1.log
  mkdir -p "$corpus" "$crashes" "$B/logs"
  [[ -d fuzz/seeds/$t ]] && cp -n fuzz/seeds/"$t"/* "$corpus"/ 2> /dev/null || true
  shared_seeds "$t" "$corpus"
  case $t in fuzz_dataset | fuzz_h5_raw) DIVREC_FUZZ_SEEDS_OUT=$corpus "$B/$t" > /dev/null 2>&1 ;;
  esac
  local rc=0 start=$SECONDS
  "$B/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" > "$log" 2>&1 || rc=$?
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '{"target": "%s", "seconds": %d, "execs": %s, "cov": %s, "corpus": %d, "crashed": %s}\n' \
    "$t" $((SECONDS - start)) "${execs:-0}" "${cov:-0}" "$(ls "$corpus" | wc -l)" \
    "$([[ $rc == 0 ]] && echo false || echo true)" | tee -a "$B/summary.jsonl"
  if [[ $rc != 0 ]]; then
    grep -E "ERROR|SUMMARY|==[0-9]+==|#[0-9]+ 0x|uncaught|what\(\)" "$log" | sed -n 1,40p
    ls "$crashes"
    return 1
  fi
}

mkdir -p "$B"
build > "$B/build.log" 2>&1 || { tail -50 "$B/build.log"; exit 1; }
[[ $mode == build ]] && exit 0
status=0
for t in "${targets[@]}"; do run_target "$t" || status=1; done
exit $status
