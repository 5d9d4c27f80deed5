// Package inference is infergeth's deterministic integer inference engine.
// It knows nothing about the EVM (ARCHITECTURE.md decision 3).
//
// Start with docs/spec.md, the normative specification; this package is its
// data half:
//
//   - model.go: the in-memory form of a model (tensors, nodes, attributes).
//   - decode.go, encode.go: the canonical binary format v1. Decode refuses
//     anything that Encode would not reproduce byte for byte; the model ID
//     is keccak256 of those bytes.
//   - validate.go: shapes, types, limits (params/inference.go) and the
//     static overflow proof, after which no accumulator can leave its width
//     for any input, so every backend may sum in any order.
//   - cost.go: the static cost of a validated graph and its gas.
//   - backend.go: the Backend interface that reference, cpu and cuda implement.
//
// The semantics of every op are in package inference/reference, the pure-Go
// backend that all others are tested against bit for bit.
package inference
