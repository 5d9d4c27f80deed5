#!/usr/bin/env bash
# Runs every composed vector (tests/vectors/NAME/) through the CLI, as a user
# would: `infergeth model run NAME/model.bin --input @NAME/input.hex` must
# print NAME/output.hex exactly, with GOMAXPROCS=1 and 2, and with every
# backend (reference, auto, and each accelerated one this machine has).
set -euo pipefail
bin=${1:-build/bin/infergeth}
cd "$(dirname "$0")/../.."
backends="auto $("$bin" model backends | tr '\n' ' ')"
pass=0 fail=0
for dir in tests/vectors/*/; do
  [ -f "$dir/model.bin" ] || continue
  want=$(tr -d '[:space:]' < "$dir/output.hex")
  for procs in 1 2; do
    for be in $backends; do
      got=$(GOMAXPROCS=$procs "$bin" model run "$dir/model.bin" --input "@$dir/input.hex" --backend "$be") || { echo "FAIL $dir backend=$be GOMAXPROCS=$procs: exit $?"; fail=$((fail+1)); continue; }
      if [ "$got" = "$want" ]; then pass=$((pass+1)); else echo "FAIL $dir backend=$be GOMAXPROCS=$procs: got $got want $want"; fail=$((fail+1)); fi
    done
  done
done
echo "vectors via CLI: $pass passed, $fail failed (backends: $backends)"
[ "$fail" -eq 0 ]
