package params

// Gas of the inference precompile's functions, on top of a model's own gas
// (InferenceBaseGas and the rest, params/inference.go). Every figure is
// known before the call runs: gas is charged before any work.
const (
	// InferenceCallGas covers ABI decoding and the two registry slots read
	// to find a model and its gas (two cold SLOADs).
	InferenceCallGas = 4_900
	// InferenceStampGas is charged per freshness stamp.
	InferenceStampGas = 200
	// InferenceFeedCallGas is the gas a price feed's latestRoundData() may
	// use; a feed that needs more is unavailable. Enough for Chainlink's
	// aggregator proxies (about 15k) with room to spare.
	InferenceFeedCallGas = 50_000
	// InferenceFeedGas is charged per feed: a cold account access, the
	// feed's call budget and the integer quantization of its answer.
	InferenceFeedGas = 2_600 + InferenceFeedCallGas + 400
	// InferenceQuoteGas is the gas of quote(): the two registry slots.
	InferenceQuoteGas = 4_900
	// InferenceModelInfoGas is the base of modelInfo(), which also pays for
	// loading the model (size / InferenceBytesPerGas).
	InferenceModelInfoGas = 4_900
	// InferenceValidateBaseGas, InferenceValidateChunkGas (a cold code
	// read) and InferenceValidateGasPerByte price validate(), which the
	// registry calls once per registration: it reads, hashes, decodes and
	// validates every byte.
	InferenceValidateBaseGas    = 10_000
	InferenceValidateChunkGas   = 2_600
	InferenceValidateGasPerByte = 1
	// InferenceExcessChunkGas is charged per call, on top of a model's own
	// gas, for each chunk its manifest lists beyond the fewest that can hold
	// it (ceil(size / 24575)): every call reads each chunk's account (its
	// code hash names the bytes the node's model cache may reuse), and a
	// model split into needlessly many chunks must pay for those reads, at
	// EIP-2929's price of a cold account access. A model uploaded in full
	// chunks, as the CLI and genesis do, pays nothing.
	InferenceExcessChunkGas = 2_600
	// InferenceCacheBytes is the default budget of prepared models a node
	// keeps in memory (not consensus: it changes speed, not results).
	InferenceCacheBytes = 512 << 20
)
