// Package l1 settles the L2 on an L1: its subpackages post every finalized
// L2 block's data and an output root every N blocks to the L1, and rebuild
// and check the L2 from the L1 alone.
//
// Where to start:
//   - batch: the data format (docs/spec-l1.md): blocks in a batch, a batch
//     compressed into a channel, a channel cut into frames, frames in the
//     calldata of L1 transactions. Strict decoding, one rule for everyone.
//   - derive: reads the L1, keeps the authorised batcher's frames sent to
//     the inbox, reassembles channels and yields batches in order; the
//     batcher (to resume) and the verifier (to rebuild) read the L1 through
//     it, so they can never disagree on what is posted.
//   - oracle: the output oracle contract (contracts/l1) and its calls.
//   - submit: sends L1 transactions with retries and fee bumps.
//   - batcher: the component a node starts (devnet or validator): posts
//     batches and output roots, stateless across restarts.
//   - verifier: re-executes the derived blocks and checks the output roots.
//   - l1test: the tests' in-process L2 (with a sequencer whose inference
//     can be made wrong on purpose); only tests import it.
//
// This package holds what they share: the L1 client interface and the L2
// genesis file.
package l1
