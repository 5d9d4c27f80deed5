// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInference, INFERENCE_CALL_GAS, INFERENCE_FEED_CALL_GAS} from "./IInference.sol";
import {InfoWord, MAX_MODEL_CHUNKS} from "./IModelRegistry.sol";

/// A model for MockInference written in Solidity: `run` gets the input the
/// model would see (feeds written in) and returns its output.
interface IMockModel {
    function run(bytes calldata input) external view returns (bytes memory output);
}

/// @title A stand-in for the inference precompile in forge tests
/// @notice forge's EVM has no inference precompile. Install this one at its
/// address and configure models on it, best from the model's own bytes, so
/// the mock declares exactly the freshness the real model declares:
///
///   vm.etch(INFERENCE_ADDRESS, address(new MockInference()).code);
///   MockInference mock = MockInference(INFERENCE_ADDRESS);
///   bytes32 id = mock.setModelBytes(modelBytes, gas); // shapes and freshness from the bytes
///   mock.setOutput(id, input, hex"02");               // what the model returns
///
/// or by hand (then declare each requirement the real model declares):
///
///   mock.setModel(id, 4, 1);                      // int8[4] in, 1 byte out
///   mock.declareFreshness(id, 0, 60, 3, 8);       // element 0: 60 s, a feed
///
/// The freshness guard is the precompile's (vm/freshness.go), rule for rule
/// and in the same order, so a dApp's tests see StaleInput, FutureInput,
/// MissingFreshness, FeedUnavailable, BadInput and ModelNotFound exactly
/// where the chain would raise them, with the same arguments (BadInput's
/// message text may differ: it is for people).
/// An element declared with a feed scale takes only a feed (a stamp for it
/// is BadInput), any other declared element a stamp; inferFreshWithFeeds
/// takes both. Feeds are read with the same 50,000-gas static call, the same
/// round checks and the same exact quantization.
///
/// What a model returns, in order: the output set for (model, input) with
/// `setOutput`; else the output of the `IMockModel` set with `setLogic`;
/// else `outputBytes` bytes of keccak256(modelId, input, counter).
///
/// `validate` assembles data contracts as the precompile does and returns
/// keccak256 of the bytes as the model id; the info word carries the figures
/// of a model configured with that id, or else gas 2,000 + size/16 and
/// zero shapes. `setInvalid` makes it refuse given bytes with InvalidModel.
/// It does not run real models: the Go and end-to-end tests do.
contract MockInference is IInference {
    /// Element types, numbered as the model format's (inference/dtype.go).
    uint8 public constant INT8 = 1;
    uint8 public constant INT16 = 2;
    uint8 public constant INT32 = 3;

    /// The most bytes of one model (params.MaxModelBytes).
    uint256 public constant MAX_MODEL_BYTES = 16 << 20;

    /// One graph input: `elements` values of `dtype` with `zeroPoint`.
    struct InputTensor {
        uint8 dtype;
        uint32 elements;
        int32 zeroPoint;
    }

    /// A model-declared freshness requirement, as in the model format.
    struct Requirement {
        uint32 element;
        uint64 maxAge;
        int32 feedMultiplier; // 0: not feedable
        uint32 feedShift;
    }

    struct Model {
        bool exists;
        uint32 inputBytes;
        uint32 outputBytes;
        uint32 inputElements;
        uint64 gas;
        uint32 size;
        address logic;
    }

    /// A configuration call was inconsistent (not a precompile error).
    error MockSetup(string reason);

    mapping(bytes32 => Model) private _models;
    mapping(bytes32 => InputTensor[]) private _inputs;
    mapping(bytes32 => Requirement[]) private _fresh;
    mapping(bytes32 => mapping(bytes32 => bytes)) private _outputs;
    mapping(bytes32 => mapping(bytes32 => bool)) private _hasOutput;
    mapping(bytes32 => string) private _invalid;
    mapping(bytes32 => TensorLayout[]) private _layouts;

    // ---- configuration ----

    /// A model with one int8 input of `inputBytes` elements (zero point 0),
    /// `outputBytes` of output and 10,000 gas. Replaces any model with the id
    /// (and its freshness requirements); keeps outputs set for it.
    function setModel(bytes32 modelId, uint32 inputBytes, uint32 outputBytes) external {
        InputTensor[] memory t = new InputTensor[](1);
        t[0] = InputTensor(INT8, inputBytes, 0);
        _setModel(modelId, t, outputBytes, 10_000);
    }

    /// A model with the given inputs (in input order), output size and gas.
    function setModel(bytes32 modelId, InputTensor[] calldata inputs, uint32 outputBytes, uint64 gas) external {
        _setModel(modelId, inputs, outputBytes, gas);
    }

    function _setModel(bytes32 modelId, InputTensor[] memory inputs, uint32 outputBytes, uint64 gas) private {
        delete _inputs[modelId];
        delete _fresh[modelId];
        delete _layouts[modelId];
        uint256 bytes_;
        uint256 elements;
        for (uint256 i = 0; i < inputs.length; i++) {
            if (inputs[i].dtype < INT8 || inputs[i].dtype > INT32) revert MockSetup("dtype is 1, 2 or 3");
            (int256 lo, int256 hi) = _range(inputs[i].dtype);
            if (inputs[i].zeroPoint < lo || inputs[i].zeroPoint > hi || (inputs[i].dtype == INT32 && inputs[i].zeroPoint != 0)) {
                revert MockSetup("zero point outside the type (int32's is 0)");
            }
            _inputs[modelId].push(inputs[i]);
            bytes_ += uint256(inputs[i].elements) * _width(inputs[i].dtype);
            elements += inputs[i].elements;
        }
        _models[modelId] = Model({
            exists: true,
            inputBytes: uint32(bytes_),
            outputBytes: outputBytes,
            inputElements: uint32(elements),
            gas: gas,
            size: uint32(bytes_ + outputBytes),
            logic: address(0)
        });
    }

    /// A model configured from its canonical bytes (the file `infergeth model
    /// import` writes; docs/spec.md section 2): the id is keccak256 of the
    /// bytes, and the inputs (types, element counts, zero points), the output
    /// size and the freshness requirements are read from them as the
    /// precompile reads them, so the mock enforces exactly what the model
    /// declares, and `outputLayout` returns the model's output tensors. `gas` is the model's gas (`infergeth model inspect` prints
    /// it). The mock reads the header and the tables only: it does not
    /// validate or run the model (set its outputs as for any mock model).
    function setModelBytes(bytes calldata model, uint64 gas) external returns (bytes32 modelId) {
        (uint256 freshAt, uint256 tensorsAt) = _layout(model);
        (InputTensor[] memory ins, uint256 outBytes) = _io(model, tensorsAt);
        modelId = keccak256(model);
        _setModel(modelId, ins, uint32(outBytes), gas);
        _models[modelId].size = uint32(model.length);
        _setOutputLayout(modelId, model, tensorsAt);
        uint256 fresh = _le(model, 20, 4);
        for (uint256 k = 0; k < fresh; k++) {
            _declareEntry(modelId, model[freshAt + 24 * k:freshAt + 24 * (k + 1)]);
        }
    }

    /// _declareEntry declares one 24-byte freshness entry: maxAge u64,
    /// element u32, feedMultiplier i32, feedShift u32, reserved u32.
    function _declareEntry(bytes32 modelId, bytes calldata e) private {
        _declare(
            modelId, uint32(_le(e, 8, 4)), uint64(_le(e, 0, 8)), int32(uint32(_le(e, 12, 4))), uint32(_le(e, 16, 4))
        );
    }

    /// _layout checks the header and returns where the freshness and tensor
    /// tables start.
    function _layout(bytes calldata model) private pure returns (uint256 freshAt, uint256 tensorsAt) {
        if (
            model.length < 32 || bytes4(model[0:4]) != "INFM" || _le(model, 4, 2) != 1 || _le(model, 6, 2) != 1
        ) revert MockSetup("model bytes: not an INFM v1 model");
        uint256 tensors = _le(model, 8, 4);
        uint256 lists = _le(model, 16, 2) + _le(model, 18, 2);
        uint256 fresh = _le(model, 20, 4);
        if (tensors > 4096 || lists > 32 || fresh > 64) revert MockSetup("model bytes: counts beyond the format's limits");
        freshAt = 32 + ((4 * lists + 7) & ~uint256(7));
        tensorsAt = freshAt + 24 * fresh;
        if (tensorsAt + 32 * tensors > model.length) revert MockSetup("model bytes: the tables run past the end");
    }

    /// _io reads the input tensors and the output size.
    function _io(bytes calldata model, uint256 tensorsAt)
        private
        pure
        returns (InputTensor[] memory ins, uint256 outBytes)
    {
        uint256 inputs = _le(model, 16, 2);
        uint256 outputs = _le(model, 18, 2);
        ins = new InputTensor[](inputs);
        for (uint256 i = 0; i < inputs; i++) {
            (ins[i],) = _tensor(model, tensorsAt, _le(model, 32 + 4 * i, 4));
        }
        for (uint256 i = 0; i < outputs; i++) {
            (, uint256 n) = _tensor(model, tensorsAt, _le(model, 32 + 4 * (inputs + i), 4));
            outBytes += n;
        }
    }

    /// _setOutputLayout records the output tensors' layout, as
    /// inference.Model.OutputLayout computes it.
    function _setOutputLayout(bytes32 modelId, bytes calldata model, uint256 tensorsAt) private {
        uint256 inputs = _le(model, 16, 2);
        uint256 outputs = _le(model, 18, 2);
        uint256 off;
        for (uint256 i = 0; i < outputs; i++) {
            uint256 t = _le(model, 32 + 4 * (inputs + i), 4);
            (InputTensor memory x, uint256 size) = _tensor(model, tensorsAt, t);
            uint256 at = tensorsAt + 32 * t;
            uint32[] memory shape = new uint32[](uint8(model[at + 2]));
            for (uint256 d = 0; d < shape.length; d++) {
                shape[d] = uint32(_le(model, at + 8 + 4 * d, 4));
            }
            _layouts[modelId].push(TensorLayout(uint32(off), uint32(size), x.dtype, shape, x.zeroPoint));
            off += size;
        }
    }

    /// _tensor reads tensor t of the table at `at`: its type, element count
    /// and zero point, and its size in bytes.
    function _tensor(bytes calldata model, uint256 at, uint256 t)
        private
        pure
        returns (InputTensor memory x, uint256 size)
    {
        if (t >= _le(model, 8, 4)) revert MockSetup("model bytes: a tensor index beyond the table");
        at += 32 * t;
        uint8 dtype = uint8(model[at + 1]);
        uint256 rank = uint8(model[at + 2]);
        if (dtype < INT8 || dtype > INT32 || rank > 6) revert MockSetup("model bytes: a tensor's dtype or rank");
        uint256 elements = 1;
        for (uint256 d = 0; d < rank; d++) {
            elements *= _le(model, at + 8 + 4 * d, 4);
            if (elements > 1 << 24) revert MockSetup("model bytes: a tensor beyond MaxTensorElements");
        }
        x = InputTensor(dtype, uint32(elements), int32(uint32(_le(model, at + 4, 4))));
        size = elements * _width(dtype);
    }

    /// _le reads the n-byte little-endian unsigned integer at b[at:].
    function _le(bytes calldata b, uint256 at, uint256 n) private pure returns (uint256 v) {
        for (uint256 i = n; i > 0; i--) {
            v = (v << 8) | uint8(b[at + i - 1]);
        }
    }

    /// Declares a maximum age for input element `element`, feedable when
    /// `feedMultiplier` > 0. Declarations must come in increasing element
    /// order, as the model format requires.
    function declareFreshness(bytes32 modelId, uint32 element, uint64 maxAge, int32 feedMultiplier, uint32 feedShift)
        external
    {
        _declare(modelId, element, maxAge, feedMultiplier, feedShift);
    }

    function _declare(bytes32 modelId, uint32 element, uint64 maxAge, int32 feedMultiplier, uint32 feedShift) private {
        Model storage m = _model(modelId);
        Requirement[] storage f = _fresh[modelId];
        if (element >= m.inputElements) revert MockSetup("element is not an input element");
        if (f.length > 0 && element <= f[f.length - 1].element) revert MockSetup("elements must increase");
        if (feedMultiplier < 0) revert MockSetup("feedMultiplier is negative");
        if (feedShift > 255) revert MockSetup("feedShift exceeds 255");
        if (feedMultiplier == 0 && feedShift != 0) revert MockSetup("feedShift must be 0 when not feedable");
        f.push(Requirement(element, maxAge, feedMultiplier, feedShift));
    }

    /// The model returns `output` for exactly `input` (after feeds).
    function setOutput(bytes32 modelId, bytes calldata input, bytes calldata output) external {
        Model storage m = _model(modelId);
        if (output.length != m.outputBytes) revert MockSetup("output length is not the model's");
        bytes32 k = keccak256(input);
        _outputs[modelId][k] = output;
        _hasOutput[modelId][k] = true;
    }

    /// The model's other outputs come from `logic` (address 0: the default).
    function setLogic(bytes32 modelId, address logic) external {
        _model(modelId).logic = logic;
    }

    /// Sets the model's gas (quote, modelInfo, validate's info word).
    function setGas(bytes32 modelId, uint64 gas) external {
        _model(modelId).gas = gas;
    }

    /// Forgets a model: calls revert ModelNotFound.
    function removeModel(bytes32 modelId) external {
        delete _models[modelId];
        delete _inputs[modelId];
        delete _fresh[modelId];
        delete _layouts[modelId];
    }

    /// validate refuses the model bytes with this id with InvalidModel(reason).
    function setInvalid(bytes32 modelId, string calldata reason) external {
        _invalid[modelId] = reason;
    }

    function isModel(bytes32 modelId) external view returns (bool) {
        return _models[modelId].exists;
    }

    // ---- IInference ----

    /// @inheritdoc IInference
    function infer(bytes32 modelId, bytes calldata input) external view returns (bytes memory) {
        Model storage m = _loaded(modelId, input.length);
        return _run(modelId, m, _guard(modelId, m, input, new Stamp[](0), new Feed[](0)));
    }

    /// @inheritdoc IInference
    function inferFresh(bytes32 modelId, bytes calldata input, Stamp[] calldata stamps)
        external
        view
        returns (bytes memory)
    {
        Model storage m = _loaded(modelId, input.length);
        return _run(modelId, m, _guard(modelId, m, input, stamps, new Feed[](0)));
    }

    /// @inheritdoc IInference
    function inferWithFeeds(bytes32 modelId, bytes calldata input, Feed[] calldata feeds)
        external
        view
        returns (bytes memory)
    {
        Model storage m = _loaded(modelId, input.length);
        return _run(modelId, m, _guard(modelId, m, input, new Stamp[](0), feeds));
    }

    /// @inheritdoc IInference
    function inferFreshWithFeeds(bytes32 modelId, bytes calldata input, Stamp[] calldata stamps, Feed[] calldata feeds)
        external
        view
        returns (bytes memory)
    {
        Model storage m = _loaded(modelId, input.length);
        return _run(modelId, m, _guard(modelId, m, input, stamps, feeds));
    }

    /// The input a model sees after inferWithFeeds writes the feeds in, with
    /// every check inferWithFeeds makes (a test helper; not on the chain).
    function fedInput(bytes32 modelId, bytes calldata input, Feed[] calldata feeds)
        external
        view
        returns (bytes memory)
    {
        Model storage m = _loaded(modelId, input.length);
        return _guard(modelId, m, input, new Stamp[](0), feeds);
    }

    /// @inheritdoc IInference
    function quote(bytes32 modelId, uint256 inputLength) external view returns (uint256) {
        Model storage m = _models[modelId];
        if (!m.exists) revert ModelNotFound(modelId);
        if (inputLength != m.inputBytes) {
            revert BadInput(
                string.concat(
                    "input length ", _dec(inputLength), "; model ", _hex(modelId), " takes ", _dec(m.inputBytes), " bytes"
                )
            );
        }
        return INFERENCE_CALL_GAS + m.gas;
    }

    /// @inheritdoc IInference
    function modelInfo(bytes32 modelId) external view returns (ModelInfo memory info) {
        Model storage m = _models[modelId];
        if (!m.exists) revert ModelNotFound(modelId);
        Requirement[] storage f = _fresh[modelId];
        info.inputBytes = m.inputBytes;
        info.outputBytes = m.outputBytes;
        info.inputElements = m.inputElements;
        info.gas = m.gas;
        info.size = m.size;
        info.freshness = new Freshness[](f.length);
        for (uint256 i = 0; i < f.length; i++) {
            info.freshness[i] = Freshness(f[i].element, f[i].maxAge, f[i].feedMultiplier > 0);
        }
    }

    /// @inheritdoc IInference
    /// @dev A model configured with `setModelBytes` has its own output
    /// tensors; one configured by hand has one int8 tensor of `outputBytes`
    /// elements (zero point 0), the only thing the mock knows of its output.
    function outputLayout(bytes32 modelId) external view returns (TensorLayout[] memory layout) {
        Model storage m = _models[modelId];
        if (!m.exists) revert ModelNotFound(modelId);
        if (_layouts[modelId].length > 0) return _layouts[modelId];
        uint32[] memory shape = new uint32[](1);
        shape[0] = m.outputBytes;
        layout = new TensorLayout[](1);
        layout[0] = TensorLayout(0, m.outputBytes, INT8, shape, 0);
    }

    /// @inheritdoc IInference
    function validate(address[] calldata chunks) external view returns (bytes32 modelId, uint256 info) {
        if (chunks.length == 0 || chunks.length > MAX_MODEL_CHUNKS) {
            revert BadInput(string.concat(_dec(chunks.length), " chunks; a model has 1 to 1024"));
        }
        uint256 total;
        for (uint256 i = 0; i < chunks.length; i++) {
            uint256 n = chunks[i].code.length;
            if (n == 0) revert InvalidModel(string.concat("chunk ", _dec(i), " has no code"));
            total += n - 1;
            if (total > MAX_MODEL_BYTES) revert InvalidModel("chunks hold more than 16777216 bytes");
        }
        bytes memory raw = new bytes(total);
        uint256 off;
        for (uint256 i = 0; i < chunks.length; i++) {
            address c = chunks[i];
            uint256 n = c.code.length;
            bool prefixed;
            assembly ("memory-safe") {
                mstore(0, 0)
                extcodecopy(c, 0, 0, 1)
                prefixed := eq(byte(0, mload(0)), 0xfe)
                extcodecopy(c, add(add(raw, 0x20), off), 1, sub(n, 1))
            }
            if (!prefixed) {
                revert InvalidModel(
                    string.concat("chunk ", _dec(i), " is not a data contract (its code must start with 0xFE)")
                );
            }
            off += n - 1;
        }
        modelId = keccak256(raw);
        if (bytes(_invalid[modelId]).length != 0) revert InvalidModel(_invalid[modelId]);
        Model storage m = _models[modelId];
        if (m.exists) {
            info = InfoWord.pack(
                m.gas, uint32(total), m.inputBytes, m.outputBytes, m.inputElements, uint16(_fresh[modelId].length)
            );
        } else {
            info = InfoWord.pack(uint64(2_000 + (total + 15) / 16), uint32(total), 0, 0, 0, 0);
        }
    }

    // ---- the precompile's rules (vm/inference.go, vm/freshness.go) ----

    /// _loaded finds the model and checks the input length.
    function _loaded(bytes32 modelId, uint256 inputLength) private view returns (Model storage m) {
        m = _models[modelId];
        if (!m.exists) revert ModelNotFound(modelId);
        if (inputLength != m.inputBytes) {
            revert BadInput(
                string.concat(
                    "input is ", _dec(inputLength), " bytes; model ", _hex(modelId), " takes ", _dec(m.inputBytes)
                )
            );
        }
    }

    /// _guard is the freshness guard (vm/freshness.go's fresh): the stamps
    /// in order, then the feeds in order (read into a copy of the input,
    /// which it returns), then every declared element must be covered. A
    /// stamp may not cover an element the model binds to a feed.
    function _guard(bytes32 modelId, Model storage m, bytes calldata input, Stamp[] memory stamps, Feed[] memory feeds)
        private
        view
        returns (bytes memory x)
    {
        x = input;
        uint256[] memory indices = new uint256[](stamps.length + feeds.length);
        for (uint256 i = 0; i < stamps.length; i++) {
            _stamp(modelId, m, stamps[i], i);
            indices[i] = stamps[i].inputIndex;
        }
        for (uint256 i = 0; i < feeds.length; i++) {
            uint256 index = feeds[i].inputIndex;
            _element(m, index, "feeds", i);
            for (uint256 j = 0; j < i; j++) {
                if (feeds[j].inputIndex == index) {
                    revert BadInput(
                        string.concat("feeds[", _dec(i), "]: input index ", _dec(index), " is fed twice")
                    );
                }
            }
            indices[stamps.length + i] = index;
            _feed(modelId, x, feeds[i], i);
        }
        _covered(modelId, indices);
    }

    /// _stamp checks stamps[i]: an input element, not one the model binds to
    /// a feed, observed neither in the future nor too long ago.
    function _stamp(bytes32 modelId, Model storage m, Stamp memory s, uint256 i) private view {
        _element(m, s.inputIndex, "stamps", i);
        (bool declared, Requirement memory d) = _declared(modelId, s.inputIndex);
        if (declared && d.feedMultiplier != 0) {
            revert BadInput(
                string.concat(
                    "stamps[",
                    _dec(i),
                    "]: input element ",
                    _dec(s.inputIndex),
                    " is a price feed in the model; only a feed the precompile reads can supply it",
                    " (inferWithFeeds or inferFreshWithFeeds), never a stamp"
                )
            );
        }
        _check(modelId, s.inputIndex, s.observedAt, s.maxAge);
    }

    /// _feed reads one feed, checks its age and writes its answer into x.
    function _feed(bytes32 modelId, bytes memory x, Feed memory f, uint256 i) private view {
        (bool declared, Requirement memory d) = _declared(modelId, f.inputIndex);
        if (!declared || d.feedMultiplier == 0) {
            revert BadInput(
                string.concat(
                    "feeds[", _dec(i), "]: input element ", _dec(f.inputIndex), " has no feed scale in the model"
                )
            );
        }
        (int256 answer, uint64 updatedAt) = _readFeed(f.aggregator);
        _check(modelId, f.inputIndex, updatedAt, f.maxAge);
        (uint256 off, uint8 dtype, int32 zp) = _elementOffset(modelId, f.inputIndex);
        _write(x, off, dtype, quantizeFeed(answer, d.feedMultiplier, d.feedShift, zp, dtype));
    }

    function _element(Model storage m, uint256 index, string memory what, uint256 i) private view {
        if (index >= m.inputElements) {
            revert BadInput(
                string.concat(
                    what,
                    "[",
                    _dec(i),
                    "]: input index ",
                    _dec(index),
                    " is not an element (the model has ",
                    _dec(m.inputElements),
                    ")"
                )
            );
        }
    }

    /// _check refuses an observation from the future or older than the
    /// tighter of the caller's and the model's maximum age.
    function _check(bytes32 modelId, uint256 index, uint64 observedAt, uint64 maxAge) private view {
        (bool declared, Requirement memory d) = _declared(modelId, index);
        if (declared && d.maxAge < maxAge) maxAge = d.maxAge;
        uint64 now_ = uint64(block.timestamp);
        if (observedAt > now_) revert FutureInput(index, observedAt, now_);
        if (now_ - observedAt > maxAge) revert StaleInput(index, observedAt, now_, maxAge);
    }

    /// _covered refuses the first declared element no stamp or feed covered.
    function _covered(bytes32 modelId, uint256[] memory indices) private view {
        Requirement[] storage f = _fresh[modelId];
        for (uint256 k = 0; k < f.length; k++) {
            bool found;
            for (uint256 i = 0; i < indices.length && !found; i++) {
                found = indices[i] == f[k].element;
            }
            if (!found) revert MissingFreshness(f[k].element);
        }
    }

    function _declared(bytes32 modelId, uint256 element) private view returns (bool, Requirement memory) {
        Requirement[] storage f = _fresh[modelId];
        for (uint256 k = 0; k < f.length; k++) {
            if (f[k].element == element) return (true, f[k]);
        }
        Requirement memory none;
        return (false, none);
    }

    /// _readFeed static-calls latestRoundData() with 50,000 gas. Unavailable:
    /// the call fails, returns under 160 bytes, a round id or answered round
    /// with bits above uint80, updatedAt 0, or answeredInRound < roundId.
    function _readFeed(address aggregator) private view returns (int256 answer, uint64 updatedAt) {
        bool ok;
        uint256 size;
        uint256[5] memory w;
        uint256 gas_ = INFERENCE_FEED_CALL_GAS;
        assembly ("memory-safe") {
            mstore(0, shl(224, 0xfeaf968c)) // latestRoundData()
            ok := staticcall(gas_, aggregator, 0, 4, 0, 0)
            size := returndatasize()
            if and(ok, iszero(lt(size, 160))) {
                returndatacopy(w, 0, 160)
            }
        }
        if (!ok || size < 160 || w[0] >> 80 != 0 || w[4] >> 80 != 0 || w[3] == 0 || w[4] < w[0]) {
            revert FeedUnavailable(aggregator);
        }
        // A time beyond uint64 is in the future.
        updatedAt = w[3] > type(uint64).max ? type(uint64).max : uint64(w[3]);
        answer = int256(w[1]);
    }

    /// quantizeFeed is the precompile's exact rule for writing a feed's
    /// answer into an element: clamp(zp + roundShift(answer * multiplier,
    /// shift)), where roundShift(v, s) = (v + 2**(s-1)) >> s (arithmetic, so
    /// halves round up) for s > 0, exact for every int256 answer.
    /// `multiplier` is positive: the model format refuses others.
    function quantizeFeed(int256 answer, int32 multiplier, uint32 shift, int32 zp, uint8 dtype)
        public
        pure
        returns (int256)
    {
        if (multiplier <= 0 || shift > 255) revert MockSetup("feed scale: multiplier > 0, shift <= 255");
        (int256 lo, int256 hi) = _range(dtype);
        int256 m = int256(multiplier);
        int256 v;
        if (shift == 0) {
            // |answer| > 2^200 puts |answer * m| far outside any element type.
            if (answer > int256(1 << 200)) return hi;
            if (answer < -int256(1 << 200)) return lo;
            v = answer * m;
        } else {
            // answer = q * 2^s + r with 0 <= r < 2^s, so
            // (answer*m + 2^(s-1)) >> s = q*m + ((r*m + 2^(s-1)) >> s),
            // and the last term lies in [0, m].
            int256 q = answer >> shift;
            uint256 r = uint256(answer - (q << shift));
            if (q >= int256(1 << 40)) return hi;
            if (q <= -int256(1 << 40)) return lo;
            v = q * m + int256(_mulAddShr(r, uint256(m), uint256(1) << (shift - 1), shift));
        }
        return _clamp(v + zp, lo, hi);
    }

    /// _mulAddShr is floor((x*y + h) / 2^s) in 512-bit arithmetic, 0 < s < 256.
    function _mulAddShr(uint256 x, uint256 y, uint256 h, uint256 s) private pure returns (uint256) {
        uint256 p0;
        uint256 p1;
        assembly {
            let mm := mulmod(x, y, not(0))
            p0 := mul(x, y)
            p1 := sub(sub(mm, p0), lt(mm, p0))
        }
        unchecked {
            uint256 s0 = p0 + h;
            if (s0 < p0) p1 += 1;
            p0 = s0;
        }
        return (p0 >> s) | (p1 << (256 - s));
    }

    function _clamp(int256 v, int256 lo, int256 hi) private pure returns (int256) {
        return v < lo ? lo : (v > hi ? hi : v);
    }

    function _range(uint8 dtype) private pure returns (int256, int256) {
        if (dtype == INT8) return (type(int8).min, type(int8).max);
        if (dtype == INT16) return (type(int16).min, type(int16).max);
        return (type(int32).min, type(int32).max);
    }

    function _width(uint8 dtype) private pure returns (uint256) {
        return dtype == INT8 ? 1 : (dtype == INT16 ? 2 : 4);
    }

    /// _elementOffset is the byte offset, type and zero point of flat input
    /// element e.
    function _elementOffset(bytes32 modelId, uint256 e) private view returns (uint256 off, uint8, int32) {
        InputTensor[] storage ts = _inputs[modelId];
        for (uint256 i = 0; i < ts.length; i++) {
            if (e < ts[i].elements) return (off + e * _width(ts[i].dtype), ts[i].dtype, ts[i].zeroPoint);
            e -= ts[i].elements;
            off += uint256(ts[i].elements) * _width(ts[i].dtype);
        }
        revert MockSetup("element outside the inputs");
    }

    function _write(bytes memory x, uint256 off, uint8 dtype, int256 v) private pure {
        uint256 u = uint256(v);
        for (uint256 k = 0; k < _width(dtype); k++) {
            x[off + k] = bytes1(uint8(u >> (8 * k)));
        }
    }

    /// _run produces the model's output for the (fed) input.
    function _run(bytes32 modelId, Model storage m, bytes memory input) private view returns (bytes memory out) {
        bytes32 k = keccak256(input);
        if (_hasOutput[modelId][k]) return _outputs[modelId][k];
        if (m.logic != address(0)) {
            out = IMockModel(m.logic).run(input);
            if (out.length != m.outputBytes) revert MockSetup("logic returned the wrong output length");
            return out;
        }
        out = new bytes(m.outputBytes);
        for (uint256 i = 0; i < out.length; i += 32) {
            bytes32 h = keccak256(abi.encodePacked(modelId, input, i / 32));
            for (uint256 j = 0; j < 32 && i + j < out.length; j++) {
                out[i + j] = h[j];
            }
        }
    }

    function _model(bytes32 modelId) private view returns (Model storage m) {
        m = _models[modelId];
        if (!m.exists) revert MockSetup("no such model: setModel first");
    }

    function _dec(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 n;
        for (uint256 t = v; t != 0; t /= 10) n++;
        bytes memory s = new bytes(n);
        for (; v != 0; v /= 10) s[--n] = bytes1(uint8(48 + v % 10));
        return string(s);
    }

    function _hex(bytes32 v) private pure returns (string memory) {
        bytes memory s = new bytes(66);
        s[0] = "0";
        s[1] = "x";
        for (uint256 i = 0; i < 32; i++) {
            s[2 + 2 * i] = bytes16("0123456789abcdef")[uint8(v[i]) >> 4];
            s[3 + 2 * i] = bytes16("0123456789abcdef")[uint8(v[i]) & 15];
        }
        return string(s);
    }
}
