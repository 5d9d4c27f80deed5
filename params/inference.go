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
// Calibration: no model shape may make a node spend more time per gas than
// ecrecover does (3000 gas) on the same machine with the standard CPU backend
// (see docs/benchmarks.md, "gas calibration").
const (
	InferenceBaseGas          = 2000
	InferenceMACsPerGas       = 64
	InferenceElementOpsPerGas = 4
	InferenceBytesPerGas      = 8
	InferenceNodeGas          = 20
)
