// Package onnx converts int8 ONNX models (QDQ and QOperator form, opsets
// 10 to 21) to infergeth's canonical model format, offline. docs/onnx-import.md
// is the user's guide; `infergeth model import` is the command.
//
// Where to start:
//
//   - import.go: Import, the conversion loop over the ONNX nodes, the
//     Report (what each node became, inputs, outputs, notes).
//   - value.go: what an ONNX value is to the importer: a quantized
//     activation, a dequantized one, a constant, a dequantized constant
//     (weights), or a pending op whose output quantization the next
//     QuantizeLinear will give.
//   - layout.go: activations are views of engine tensors (permuted,
//     reshaped), so NCHW models run NHWC without moving data needlessly.
//   - ops_*.go: one file per family of ONNX ops; ops.go is the table and
//     the refusals. dense.go and weights.go turn weights, biases and scales
//     into the engine's integers; quant.go is the only place a real scale
//     becomes (multiplier, shift).
//   - eval.go: a float64 reference evaluator of ONNX graphs, written from
//     the ONNX specification and independent of the importer: constant
//     folding uses it, and accuracy.go compares converted models with it.
//     eval_node.go dispatches one node; eval_quant.go, eval_dense.go,
//     eval_pool.go, eval_shape.go and eval_norm.go hold the op families.
//   - read.go: parsing, with every declared size checked before allocation.
//
// Subpackages: quantize (float models to int8: `infergeth model
// quantize`), npy (NumPy .npy/.npz reader for its sample data), onnxpb
// (generated protobuf types), onnxbuild (writes ONNX graphs from Go: the
// tests and tests/models use it), detmath (exp, log, tanh, erf and pow with
// the same bits on every machine, for lookup tables).
//
// The importer may use float64; the model it writes holds integers only,
// and the same ONNX bytes always give the same model bytes.
package onnx
