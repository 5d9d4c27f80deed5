#!/usr/bin/env bash
# make bench: runs every section script in tests/bench/sections (in name
# order) and writes their markdown, with the machine and the command, to
# docs/benchmarks.md. Sections print markdown on stdout and progress on stderr.
# One run, side by side: every ratio in the file comes from the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/benchmarks.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` ($(date -u +%Y-%m-%dT%H:%MZ)). Absolute times drift on shared"
  echo "machines; read the ratios, which come from one run, side by side."
  echo
  echo "## Machine"
  echo
  echo '```'
  echo "cpu:    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores)"
  echo "flags:  $(grep -m1 -o 'avx512_vnni\|avx_vnni' /proc/cpuinfo | head -1) $(grep -m1 -o ' avx2 ' /proc/cpuinfo | tr -d ' ')"
  echo "memory: $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "go:     $(go version | cut -d' ' -f3-)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo '```'
  echo
  for s in tests/bench/sections/*.sh; do
    [ -e "$s" ] || continue
    echo "bench: $s" >&2
    bash "$s"
    echo
  done
} > "$tmp"
# Sections recorded by hand on other machines (e.g. GPU runs) are kept.
if [ -f docs/benchmarks-recorded.md ]; then cat docs/benchmarks-recorded.md >> "$tmp"; fi
mv "$tmp" "$out"
echo "wrote $out" >&2
