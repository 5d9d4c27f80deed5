// Package quantize turns a float ONNX model into an int8 one: post-training
// static quantization, the way onnxruntime's quantize_static and TFLite's
// full-integer conversion do it, but deterministic: the same model and
// calibration data give the same bytes on every machine and core count.
// `infergeth model quantize` is the command; docs/onnx-import.md ("From a
// float model") is the user's guide.
//
// Where to start: Quantize in quantize.go runs the steps in order.
//
//   - prepare.go: static input shapes, constant subgraphs (Shape, Gather,
//     Cast, … chains exporters leave) folded into initializers; rewrite.go
//     recognises a written-out layer normalization (ReduceMean, Sub, Pow,
//     Sqrt, Div) and a Sub of two activations; check.go refuses every node
//     op set v1 cannot express, all at once.
//   - calibrate.go: runs the float model on the calibration samples in the
//     importer's float64 reference evaluator (one sample at a time, a fixed
//     order of operations, no FMA contraction) and records each
//     activation's range by MinMax or by a percentile of an integer
//     histogram.
//   - qdq.go: writes the QDQ model (QuantizeLinear/DequantizeLinear around
//     float ops, int8 symmetric per-channel weights, int32 biases), the
//     form onnxruntime runs; inference/onnx imports it into the canonical
//     format, where every scale becomes a fixed-point multiplier and shift.
//   - accuracy.go: the quantized model against the float one on held-aside
//     samples; data.go reads samples from .npy, .npz or raw float32 files.
package quantize
