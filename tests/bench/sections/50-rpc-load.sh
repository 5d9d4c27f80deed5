#!/usr/bin/env bash
# Section: `infergeth devnet` under mixed concurrent RPC load, briefly (the
# full run is `make loadtest`; docs/reliability.md). Markdown on stdout.
set -euo pipefail
cd "$(dirname "$0")/../../.."
make -s build >&2
go run ./tests/loadtest -infergeth build/bin/infergeth -duration 15s -markdown
