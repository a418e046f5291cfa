#!/usr/bin/env bash
# Records every demo workload with `weft record` and prints a short summary
# of each trace (processes, threads, time per state) using `weft query`.
#
#   examples/record-all.sh BUILD_DIR OUT_DIR
#
# Writes OUT_DIR/<name>.db for: cashiers-1, cashiers-2, waiter, prodcons,
# pipeline, family, lockhold, deadlock. Open one with `weftd OUT_DIR` or
# `sqlite3 OUT_DIR/lockhold.db`. Exits non-zero if any recording or query
# failed (the others are still recorded).
set -uo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR OUT_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
out=$2
weft=$build/bin/weft
if [[ ! -x $weft ]]; then
  echo "record-all: $weft not found (build the tree first)" >&2
  exit 1
fi
mkdir -p "$out" || exit 1

# name | command line (words split on spaces)
demos=(
  "cashiers-1|weft-demo-cashiers --cashiers 1"
  "cashiers-2|weft-demo-cashiers --cashiers 2"
  "waiter|weft-demo-waiter"
  "prodcons|weft-demo-prodcons"
  "pipeline|weft-demo-pipeline /usr/share a"
  "family|weft-demo-family"
  "lockhold|weft-demo-lockhold 200"
  "deadlock|weft-demo-deadlock"
)

summary_sql="
SELECT (SELECT COUNT(*) FROM process) AS processes,
       (SELECT COUNT(*) FROM thread) AS threads,
       (SELECT ROUND((MAX(end_ts) - MIN(start_ts)) / 1e6, 1) FROM process) AS wall_ms;"
states_sql="
SELECT state, COALESCE(reason, '') AS reason, COUNT(*) AS spans,
       ROUND(SUM(dur) / 1e6, 1) AS total_ms
FROM thread_state GROUP BY state, reason ORDER BY SUM(dur) DESC;"

failed=0
for entry in "${demos[@]}"; do
  name=${entry%%|*}
  read -r -a cmd <<<"${entry#*|}"
  db=$out/$name.db
  rm -f "$db" "$db-wal" "$db-shm"
  echo "=== $name: weft record -o $db -- ${cmd[*]}"
  "$weft" record -o "$db" -- "$build/bin/${cmd[0]}" "${cmd[@]:1}" >"$out/$name.stdout"
  rc=$?
  echo "exit status $rc (program output in $out/$name.stdout)"
  if ((rc != 0)) || [[ ! -s $db ]]; then
    echo "record-all: recording $name failed" >&2
    failed=1
    continue
  fi
  "$weft" query "$db" "$summary_sql" && "$weft" query "$db" "$states_sql" || failed=1
  echo
done
exit $failed
