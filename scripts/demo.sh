#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, records
# the bundled demo workloads into traces/, and serves them with weftd.
#   scripts/demo.sh [--listen ADDR:PORT] [--no-serve]
set -euo pipefail
cd "$(dirname "$0")/.."
listen=127.0.0.1:7878
serve=1
while (($#)); do
  case $1 in
    --listen) listen=$2; shift 2 ;;
    --no-serve) serve=0; shift ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

scripts/deps.sh
scripts/build.sh build
mkdir -p traces
if ! examples/record-all.sh build traces; then
  echo "weft: some demos could not be recorded (see above); serving the traces that were" >&2
fi

if ((serve)); then
  echo "weft: open the URL below in a browser; Ctrl-C stops the server" >&2
  exec build/bin/weftd --listen "$listen" traces
fi
