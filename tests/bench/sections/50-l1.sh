#!/usr/bin/env bash
# L1 settlement: compressed bytes per L2 transaction over a transaction mix
# and their ratio to the raw encoding; verifier replay rate against the
# sequencer's (tests/bench/l1bench).
set -euo pipefail
echo "## L1 settlement: batch size and verifier replay"
echo
echo "Compressed bytes per L2 transaction over a mix of transfers, ERC-20 calls and inference calls, with their ratio to the transactions' raw encoding (OP mainnet's figure is 0.36 for ~900-byte transactions); replay speed of \`infergeth verify\`'s pipeline against the sequencer building the same blocks. See docs/l1.md for how to read these."
echo
go run ./tests/bench/l1bench -input random
echo
go run ./tests/bench/l1bench -input signal
