#!/usr/bin/env bash
# Compares LSTM(64 → 128), B 16, T 100 forward + backward on WASM (one thread) between the layers
# source at revision BASE (default HEAD~1) and the working tree: bundles lstm-step-cost.ts against
# each (esbuild; @axon/* packages external, from their built dist), then runs ROUNDS (default 6)
# rounds of one process each, alternating old/new so that the machine's noise hits both alike.
# Prints every sample and the medians. Usage: bash test/bench/lstm-step-cost.sh [BASE]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$(cd "$here/../.." && pwd)"
base="${1:-HEAD~1}"
rounds="${ROUNDS:-6}"
out="$pkg/node_modules/.cache/lstm-step-cost"
rm -rf "$out" && mkdir -p "$out/old/src" "$out/old/test/bench"
git -C "$pkg" archive "$base" src | tar -x -C "$out/old"
cp "$here/lstm-step-cost.ts" "$out/old/test/bench/"
esb() { esbuild "$1" --bundle --platform=node --format=esm --target=node20 --packages=external --log-level=warning --outfile="$2"; }
esb "$out/old/test/bench/lstm-step-cost.ts" "$out/old.mjs"
esb "$here/lstm-step-cost.ts" "$out/new.mjs"
old=(); new=()
for r in $(seq 1 "$rounds"); do
  for v in old new; do
    line="$(node "$out/$v.mjs")"
    echo "round $r $v $line"
    ts="$(node -e 'const j=JSON.parse(process.argv[1]); if (j.leaked) throw new Error("leaked " + j.leaked); console.log(j.times.join(" "))' "$line")"
    if [ "$v" = old ]; then old+=($ts); else new+=($ts); fi
  done
done
node -e '
const med = (a) => { const s = a.map(Number).sort((x, y) => x - y); return s[s.length >> 1]; };
const min = (a) => Math.min(...a.map(Number));
const [o, n] = [process.argv[1].split(" "), process.argv[2].split(" ")];
console.log(`ms per forward+backward, median / min: old (${process.argv[3]}) ${med(o).toFixed(1)} / ${min(o).toFixed(1)} (n=${o.length}), new ${med(n).toFixed(1)} / ${min(n).toFixed(1)} (n=${n.length}); new/old median ${(med(n) / med(o)).toFixed(3)}, min ${(min(n) / min(o)).toFixed(3)}`);
' "${old[*]}" "${new[*]}" "$base"
