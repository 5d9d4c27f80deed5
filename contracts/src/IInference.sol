// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The inference precompile
/// @notice A contract calls a quantized neural network inline and gets the
/// same bytes on every node. The precompile lives at `INFERENCE_ADDRESS`; its
/// Go implementation is vm/inference.go (and vm/freshness.go for the
/// freshness guard). This interface is the whole surface.
///
/// Inputs and outputs are the model's tensors, little-endian, concatenated
/// in the model's input (output) order; an int8 element is one byte, int16
/// two, int32 four. `TensorCodec` packs and reads them.
///
/// Every function is read-only: the precompile never writes state or logs,
/// so it behaves the same under CALL and STATICCALL, in transactions,
/// eth_call, gas estimation and traces. Gas is charged before any work and
/// is a function of the model and the call's shape only:
///   infer               4,900 + the model's gas (`quote`)
///   inferFresh          the same + 200 per stamp
///   inferWithFeeds      the same + 53,000 per feed (of which the feed's
///                       `latestRoundData()` gets 50,000)
///   inferFreshWithFeeds the same + 200 per stamp + 53,000 per feed
/// Every refusal is a revert with one of the custom errors below, so a
/// caller can `try/catch` it and tools can decode it.
///
/// The freshness guard: "now" is `block.timestamp`, never the caller's.
/// An input element observed at `observedAt` is from the future when
/// `observedAt > now`, and stale when `now - observedAt > maxAge`, where
/// `maxAge` is the tighter of the caller's and the model's declared one.
/// A model may declare maximum ages for some input elements; calling it
/// without a proof for each of them reverts with MissingFreshness, so plain
/// `infer` on such a model always reverts. A declared element takes one kind
/// of proof, fixed by the model:
///   - an element with a feed scale (`Freshness.feedable`) is a price feed:
///     only a feed the precompile reads itself satisfies it. A caller's
///     stamp for it reverts BadInput, so no caller can forge the price by
///     stamping its own value "observed now".
///   - any other declared element takes a stamp (it cannot be fed).
/// Which entry point to use follows from the declaration (`modelInfo`):
///   no declared element          infer (or any of the others)
///   stamped elements only        inferFresh
///   feed elements only           inferWithFeeds
///   both kinds                   inferFreshWithFeeds
interface IInference {
    /// A caller's claim that input element `inputIndex` was observed at
    /// `observedAt` (unix seconds), and the oldest it accepts (`maxAge`).
    struct Stamp {
        uint32 inputIndex;
        uint64 observedAt;
        uint64 maxAge;
    }

    /// Binds input element `inputIndex` to a Chainlink AggregatorV3 price
    /// feed: the precompile static-calls `latestRoundData()` with 50,000
    /// gas and writes the quantized answer into the element, replacing
    /// whatever the caller put there. Its age is `block.timestamp -
    /// updatedAt`. The feed is unavailable (FeedUnavailable) when the call
    /// fails, returns fewer than 160 bytes, `updatedAt == 0` or
    /// `answeredInRound < roundId`. The answer `a` becomes
    /// `clamp(zeroPoint + roundHalfUp(a * feedMultiplier / 2**feedShift))`
    /// in the element's type, with the element's multiplier and shift
    /// declared in the model (`Freshness.feedable`).
    struct Feed {
        address aggregator;
        uint32 inputIndex;
        uint64 maxAge;
    }

    /// A model-declared freshness requirement on one input element.
    struct Freshness {
        uint32 element; // flat index across the concatenated inputs
        uint64 maxAge; // seconds
        bool feedable; // a price feed: only a feed satisfies it, never a stamp
    }

    /// What the precompile knows of a registered model.
    struct ModelInfo {
        uint32 inputBytes;
        uint32 outputBytes;
        uint32 inputElements;
        uint64 gas; // the model's own gas; a call costs 4,900 more
        uint32 size; // canonical model bytes
        Freshness[] freshness; // sorted by element
    }

    /// Where one output tensor sits in `infer`'s output bytes
    /// (inference.TensorLayout): tensors follow one another in the model's
    /// output order, each little-endian, so read element `i` of an int32
    /// tensor with `TensorCodec.int32AtByte(out, offset + 4 * i)`.
    struct TensorLayout {
        uint32 offset; // byte offset in the output
        uint32 byteLength; // elements x element width
        uint8 dtype; // the format's code: 1 int8, 2 int16, 3 int32
        uint32[] shape; // dimensions, outermost first; empty for a scalar
        int32 zeroPoint; // the integer that stands for real zero (0 for int32)
    }

    /// No model with this id is registered.
    error ModelNotFound(bytes32 modelId);
    /// Input element `index`, observed at `observedAt`, is older than
    /// `maxAge` seconds at block time `now`.
    error StaleInput(uint256 index, uint64 observedAt, uint64 now, uint64 maxAge);
    /// Input element `index` claims an observation after block time `now`.
    error FutureInput(uint256 index, uint64 observedAt, uint64 now);
    /// The model declares a maximum age for input element `index` and the
    /// call gave no stamp or feed for it.
    error MissingFreshness(uint256 index);
    /// The call is malformed: wrong input length, an index that is not an
    /// input element, a feed on an element without a feed scale, a stamp on
    /// an element the model binds to a feed, an element fed twice, garbage
    /// calldata. The message is for people, not code.
    error BadInput(string reason);
    /// A price feed could not be read or reported an incomplete round.
    error FeedUnavailable(address aggregator);
    /// The bytes given to `validate` are not a valid model.
    error InvalidModel(string reason);

    /// Runs model `modelId` on `input`. Reverts MissingFreshness on a model
    /// that declares freshness requirements.
    function infer(bytes32 modelId, bytes calldata input) external view returns (bytes memory output);

    /// Runs the model after checking each stamp (in order) and that every
    /// model-declared element is stamped. A stamp may also cover an element
    /// the model does not declare; then only the caller's maxAge applies.
    /// A stamp on an element the model declares feedable reverts BadInput:
    /// a feed element is satisfied only by a feed (inferWithFeeds,
    /// inferFreshWithFeeds).
    function inferFresh(bytes32 modelId, bytes calldata input, Stamp[] calldata stamps)
        external
        view
        returns (bytes memory output);

    /// Runs the model after reading each feed (in order) into its element.
    /// Every model-declared element must be fed, and every fed element must
    /// be declared feedable by the model; a model that also declares
    /// stamped elements needs inferFreshWithFeeds.
    function inferWithFeeds(bytes32 modelId, bytes calldata input, Feed[] calldata feeds)
        external
        view
        returns (bytes memory output);

    /// For a model that declares both kinds: checks each stamp (in order,
    /// as inferFresh), then reads each feed (in order, as inferWithFeeds)
    /// into its element, then requires every model-declared element to be
    /// covered, stamped elements by a stamp and feed elements by a feed.
    /// Either array may be empty, so this entry point calls any model.
    function inferFreshWithFeeds(bytes32 modelId, bytes calldata input, Stamp[] calldata stamps, Feed[] calldata feeds)
        external
        view
        returns (bytes memory output);

    /// The gas `infer` charges for the model (without stamps or feeds).
    /// Reverts BadInput unless `inputLength` is the model's input size.
    function quote(bytes32 modelId, uint256 inputLength) external view returns (uint256 gas);

    /// The model's shapes, gas and freshness requirements.
    function modelInfo(bytes32 modelId) external view returns (ModelInfo memory info);

    /// Each output tensor's place in the output bytes, in output order: for
    /// the demo MLP, ten int8 logits at byte 0 (shape [1, 10]) then an int32
    /// class at byte 10 (shape [1]). Charged and loaded as `modelInfo`;
    /// reverts ModelNotFound for an unregistered model.
    function outputLayout(bytes32 modelId) external view returns (TensorLayout[] memory layout);

    /// Assembles the payloads of data contracts `chunks` (code 0xFE ‖
    /// payload) into model bytes, validates them, and returns the model id
    /// (keccak256 of the bytes) and the info word the registry stores (see
    /// IModelRegistry). The registry calls it when it registers a model;
    /// anyone may call it to check a model before registering.
    function validate(address[] calldata chunks) external view returns (bytes32 modelId, uint256 info);
}

// The inference precompile's address.
address constant INFERENCE_ADDRESS = address(uint160(0x0A00));

// The inference precompile.
IInference constant INFERENCE = IInference(INFERENCE_ADDRESS);

// The gas a call costs on top of the model's own gas (params.InferenceCallGas).
uint256 constant INFERENCE_CALL_GAS = 4_900;

// The gas a price feed's latestRoundData() gets (params.InferenceFeedCallGas).
uint256 constant INFERENCE_FEED_CALL_GAS = 50_000;

// The gas a call costs per stamp (params.InferenceStampGas).
uint256 constant INFERENCE_STAMP_GAS = 200;

// The gas a call costs per feed, its latestRoundData() included
// (params.InferenceFeedGas).
uint256 constant INFERENCE_FEED_GAS = 53_000;
