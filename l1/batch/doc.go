// Package batch is the L1 data format, version 0 (docs/spec-l1.md).
//
// A Batch is a run of consecutive L2 blocks: the parent hash of the first,
// then per block what the derivation needs to rebuild its header (time,
// and the fields the builder's rules would not choose by themselves), the
// sequencer's claimed state root and the transactions. A batch is RLP
// encoded and zlib compressed into a channel; a channel is cut into frames
// (OP Stack's shape: channel id, frame number, length, data, is-last);
// frames travel in the calldata of L1 transactions sent to the inbox, after
// a version byte.
//
// Every decoder here is strict and bounded: declared lengths are checked
// before allocation, trailing bytes refused, decompression capped. A refusal
// is an error naming the reason; the derivation (package derive) skips what
// is refused, by the same rule on every node.
package batch
