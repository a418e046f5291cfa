#!/usr/bin/env bash
# Two builds of weft side by side on one workload, runs alternating (A, B,
# A, B, ...) so that both meet the same machine: mean wall and CPU (user +
# system of weft record and everything it ran) of each, and the workload
# untraced in the same rounds. For a change whose effect is smaller than the
# machine's noise between separate runs.
#
#   bench/tracer/ab.sh BUILD_A BUILD_B [ROUNDS [-- COMMAND...]]
#
# Default workload: the 1,000-process shell loop; default 5 rounds.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 BUILD_A BUILD_B [ROUNDS [-- COMMAND...]]" >&2; exit 2; }
a=$1 b=$2
rounds=${3:-5}
shift $(($# < 3 ? $# : 3))
[[ ${1:-} == -- ]] && shift
cmd=("$@")
((${#cmd[@]})) || cmd=(sh -c 'for i in $(seq 1000); do /bin/true; done')
for build in "$a" "$b"; do
  [[ -x $build/bin/weft ]] || { echo "bench/tracer/ab.sh: $build/bin/weft not found" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sample() { # label, then the command: one line "label wall cpu"
  local label=$1
  shift
  /usr/bin/time -f "$label %e %U %S" -o "$out/t" "$@" >/dev/null 2>&1
  awk '{print $1, $2, $3 + $4}' "$out/t"
}
for _ in $(seq "$rounds"); do
  sample A "$a/bin/weft" record -o "$out/a.db" --force -- "${cmd[@]}"
  sample B "$b/bin/weft" record -o "$out/b.db" --force -- "${cmd[@]}"
  sample untraced "${cmd[@]}"
done | awk -v a="$a" -v b="$b" -v rounds="$rounds" '
  { wall[$1] += $2; cpu[$1] += $3; n[$1]++ }
  END {
    printf "| run | build | wall (mean of %d) | CPU (mean of %d) |\n|---|---|---|---|\n", rounds, rounds
    split("A B untraced", order, " ")
    for (i = 1; i <= 3; i++) {
      k = order[i]
      name = k == "A" ? a : k == "B" ? b : "-"
      printf "| %s | %s | %.0f ms | %.0f ms |\n", k, name, 1000 * wall[k] / n[k], 1000 * cpu[k] / n[k]
    }
  }'
