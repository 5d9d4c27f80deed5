package params

// Hard limits of model format v1. Every one is checked at decode or validate,
// before any compute, and tested at its edge in package inference. They are
// consensus: a model valid on one node is valid on all.
const (
	// ModelFormatVersion is the only format version this node reads.
	ModelFormatVersion = 1
	// ModelOpsetVersion is the only op set version this node executes.
	ModelOpsetVersion = 1

	// MaxModelBytes bounds the canonical encoding of one model (16 MiB).
	MaxModelBytes = 16 << 20
	// MaxModelTensors bounds the tensor table.
	MaxModelTensors = 4096
	// MaxModelNodes bounds the node table.
	MaxModelNodes = 2048
	// MaxModelInputs and MaxModelOutputs bound the graph's inputs and outputs.
	MaxModelInputs  = 16
	MaxModelOutputs = 16
	// MaxFreshnessEntries bounds the per-input freshness requirements.
	MaxFreshnessEntries = 64
	// MaxConcatInputs bounds the operands of one Concat.
	MaxConcatInputs = 16

	// MaxTensorRank is the largest rank of any tensor.
	MaxTensorRank = 6
	// MaxTensorDim bounds every dimension (2^18 = 262144: enough for the
	// longest dot product the overflow proof can ever allow, 132104).
	MaxTensorDim = 1 << 18
	// MaxTensorElements bounds the elements of one tensor (2^24).
	MaxTensorElements = 1 << 24
	// MaxPeakActivationBytes bounds the bytes of activations alive at once
	// while a model runs (64 MiB), inputs and outputs included.
	MaxPeakActivationBytes = 64 << 20
	// MaxModelMACs bounds the multiply-accumulates of one call (2^28).
	MaxModelMACs = 1 << 28
	// MaxModelElementOps bounds the elementwise work of one call (2^28).
	MaxModelElementOps = 1 << 28
	// MaxNormAxis bounds the axis length of LayerNorm/RMSNorm and Softmax:
	// the integer normalisation proof needs it (see docs/spec.md).
	MaxNormAxis = 4096
	// MaxNormFractionBits bounds LayerNorm's fixed-point fraction bits.
	MaxNormFractionBits = 16
	// MaxNormEpsilon bounds LayerNorm's integer epsilon, so the variance
	// term stays below 2^61 and its square root can be taken at extra precision.
	MaxNormEpsilon = 1 << 60
	// MaxKernelDim bounds a convolution or pooling window side.
	MaxKernelDim = 64
	// MaxStride bounds strides and dilations.
	MaxStride = 64
	// MaxShift bounds every requantization right shift.
	MaxShift = 62
	// MaxFeedShift bounds the right shift that quantizes a price feed's
	// answer (computed exactly in 256+ bits, so it may exceed MaxShift).
	MaxFeedShift = 255
)

// Gas schedule of the inference engine. The cost of a call is a pure
// function of the model (and so of its input length, which the model fixes):
//
//	gas = InferenceBaseGas
//	    + ceil(MACs / InferenceMACsPerGas)
//	    + ceil(elementOps / InferenceElementOpsPerGas)
//	    + ceil(bytesTouched / InferenceBytesPerGas)
//	    + nodes * InferenceNodeGas
//
// Calibration (docs/spec.md, section 9; docs/benchmarks.md, "Gas
// calibration"): no model shape may make a node spend more time per gas
// than ecrecover does (3000 gas) on the same machine, on every path a
// validator may run: the cpu backend's AVX2 and AVX-512 VNNI kernels (the
// minimum validator CPU is x86-64 with AVX2). The reference code, the last
// resort after faults, is outside it. tests/bench/gascal measures every
// shape on every path, each call paired with ecrecover calls.
const (
	// InferenceBaseGas covers a call's fixed work (input and output copies,
	// the program's setup).
	InferenceBaseGas = 2000
	// InferenceMACsPerGas: the dense kernels run at 0.01-0.2× ecrecover's
	// ns/gas on both kernel paths; per-tap work of convolutions with few
	// channels is priced as element ops instead (see inference/cost.go).
	InferenceMACsPerGas = 64
	// InferenceElementOpsPerGas was 4 until the per-path calibration: on a
	// loaded machine (other processes contending for memory bandwidth and
	// caches) the memory-bound element ops (Add and Mul with broadcasting,
	// Mean, Transpose) reached 1.0-1.5× ecrecover's ns/gas while ecrecover,
	// compute-bound, slowed far less. 2 gives them a 2× margin.
	InferenceElementOpsPerGas = 2
	// InferenceBytesPerGas was 8 until the per-path calibration, now 2: a
	// model's first call (the cold path an attacker can force on every call
	// by cycling through more models than the cache holds) loads, decodes,
	// validates and packs every weight byte, and on the loaded calibration
	// machine it reached 2-3.5× ecrecover's ns/gas at 8 (about 0.8× at 4);
	// the bytes of constants count at every use. Memory-bound element ops
	// gain the same margin.
	InferenceBytesPerGas = 2
	// InferenceNodeGas covers each node's dispatch and output allocation.
	InferenceNodeGas = 20
)
