// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The model registry
/// @notice A system contract predeployed in genesis at `MODEL_REGISTRY_ADDRESS`
/// (contracts/src/ModelRegistry.sol; its runtime code is the committed
/// artifact contracts/artifacts/ModelRegistry.json). It stores models in
/// state, where every node reads the same bytes (ARCHITECTURE.md, decision 2):
///
/// 1. `upload(payload)` for each chunk of the model's canonical bytes (at
///    most `MAX_CHUNK_PAYLOAD` bytes each): the chunk becomes the code of a
///    data contract, `0xFE ‖ payload` (calling it halts at once), deployed
///    with CREATE2 by the registry with salt `keccak256(payload)`, so its
///    address is a function of its content (`chunkAddress`). Uploading the
///    same payload again returns the same address.
/// 2. `register(chunks, metadata)`: the registry hands the chunk list to the
///    inference precompile's `validate` (which assembles, decodes and
///    validates the model and returns its id and info word), deploys the
///    manifest (a data contract listing the chunk addresses, 20 bytes each,
///    salt = model id) and records manifest, info, owner and metadata.
///    From then on `IInference.infer(modelId, ...)` runs the model.
///
/// `infergeth model register --rpc URL --key HEX FILE` does both.
///
/// Storage is consensus (the precompile and genesis read and write these
/// slots directly; vm/modelstore.go, contracts/registry.go):
///   slot 0  mapping(bytes32 => address) manifestOf
///   slot 1  mapping(bytes32 => uint256) infoOf     (the info word, below)
///   slot 2  mapping(bytes32 => address) ownerOf
///   slot 3  mapping(bytes32 => string)  metadataOf
///   slot 4  bool allowListEnabled
///   slot 5  mapping(address => uint256) roleOf     (ROLE_NONE, ROLE_REGISTRANT, ROLE_ADMIN)
///
/// The info word: bits 0-63 the model's gas per call, 64-95 its size in
/// bytes, 96-127 input bytes, 128-159 output bytes, 160-191 input elements,
/// 192-207 the number of freshness requirements, 248-255 the version (1).
/// A zero word means "not registered". `InfoWord` unpacks it.
///
/// The allow-list (as subnet-evm's): while `allowListEnabled`, only accounts
/// with role ROLE_REGISTRANT or ROLE_ADMIN may upload and register. Admins
/// set roles and switch the list on and off at any time. The initial admins
/// and the switch come from genesis storage.
interface IModelRegistry {
    /// Everything the registry records of one model, unpacked.
    struct Model {
        address manifest;
        address owner;
        uint64 gas;
        uint32 size;
        uint32 inputBytes;
        uint32 outputBytes;
        uint32 inputElements;
        uint16 freshnessCount;
        string metadata;
    }

    /// A data contract holding `size` bytes of payload now exists at `chunk`.
    event ChunkUploaded(address indexed chunk, bytes32 indexed payloadHash, uint256 size);
    /// Model `modelId` is registered: `infer` runs it from now on.
    event ModelRegistered(bytes32 indexed modelId, address indexed owner, address manifest, uint256 info, string metadata);
    event MetadataChanged(bytes32 indexed modelId, string metadata);
    event ModelOwnershipTransferred(bytes32 indexed modelId, address indexed previousOwner, address indexed newOwner);
    /// `admin` changed `account`'s role from `previousRole` to `role`.
    event RoleChanged(address indexed account, uint256 previousRole, uint256 role, address indexed admin);
    event AllowListEnabledChanged(bool enabled, address indexed admin);

    /// The allow-list is enabled and `account` has no role.
    error NotAllowed(address account);
    /// Only an admin (ROLE_ADMIN) may do this.
    error NotAdmin(address account);
    /// Roles are ROLE_NONE, ROLE_REGISTRANT and ROLE_ADMIN.
    error InvalidRole(uint256 role);
    error EmptyPayload();
    error PayloadTooLarge(uint256 size, uint256 max);
    /// CREATE2 of a data contract failed (out of gas).
    error DeployFailed(bytes32 salt);
    error AlreadyRegistered(bytes32 modelId);
    error ModelNotRegistered(bytes32 modelId);
    error NotModelOwner(bytes32 modelId, address account);
    error ZeroOwner();
    /// The inference precompile gave no answer to `validate` (inactive?).
    error ValidatorUnavailable();

    /// Deploys a data contract holding `payload` (1 to MAX_CHUNK_PAYLOAD
    /// bytes) and returns its address; returns the existing address, emitting
    /// nothing, if that payload is already uploaded.
    function upload(bytes calldata payload) external returns (address chunk);

    /// Registers the model whose canonical bytes are the concatenated
    /// payloads of `chunks`, owned by the caller. Reverts with the
    /// precompile's own error (InvalidModel, BadInput) when the bytes are not
    /// a valid model, and AlreadyRegistered when the model is registered.
    function register(address[] calldata chunks, string calldata metadata) external returns (bytes32 modelId);

    /// The model's owner replaces its metadata.
    function setMetadata(bytes32 modelId, string calldata metadata) external;

    /// The model's owner hands the model to `newOwner` (not the zero address).
    function transferModelOwnership(bytes32 modelId, address newOwner) external;

    /// An admin sets `account`'s role.
    function setRole(address account, uint256 role) external;

    /// An admin switches the allow-list on or off.
    function setAllowListEnabled(bool enabled) external;

    function manifestOf(bytes32 modelId) external view returns (address);
    function infoOf(bytes32 modelId) external view returns (uint256);
    function ownerOf(bytes32 modelId) external view returns (address);
    function metadataOf(bytes32 modelId) external view returns (string memory);
    function allowListEnabled() external view returns (bool);
    function roleOf(address account) external view returns (uint256);

    function isRegistered(bytes32 modelId) external view returns (bool);
    /// The model's own gas per call (a call costs INFERENCE_CALL_GAS more).
    function modelGas(bytes32 modelId) external view returns (uint64);
    function modelSize(bytes32 modelId) external view returns (uint32);
    function modelInputBytes(bytes32 modelId) external view returns (uint32);
    function modelOutputBytes(bytes32 modelId) external view returns (uint32);
    function modelInputElements(bytes32 modelId) external view returns (uint32);
    function modelFreshnessCount(bytes32 modelId) external view returns (uint16);
    /// The whole record; reverts ModelNotRegistered.
    function model(bytes32 modelId) external view returns (Model memory);
    /// The chunk addresses the model's manifest lists; reverts ModelNotRegistered.
    function chunksOf(bytes32 modelId) external view returns (address[] memory);
    /// Where `upload(payload)` puts `payload`.
    function chunkAddress(bytes calldata payload) external view returns (address);
    /// Where `register` puts the manifest of model `modelId` made of `chunks`.
    function manifestAddress(bytes32 modelId, address[] calldata chunks) external view returns (address);
    /// Whether `account` may upload and register now.
    function canRegister(address account) external view returns (bool);
}

// The model registry's address.
address constant MODEL_REGISTRY_ADDRESS = address(uint160(0x0A01));

// The model registry.
IModelRegistry constant MODEL_REGISTRY = IModelRegistry(MODEL_REGISTRY_ADDRESS);

// The most payload one data contract holds: EIP-170's 24,576-byte code
// limit minus the 0xFE prefix.
uint256 constant MAX_CHUNK_PAYLOAD = 24_575;

// The most chunks one model may have (vm.MaxModelChunks).
uint256 constant MAX_MODEL_CHUNKS = 1024;

// Allow-list roles (roleOf).
uint256 constant ROLE_NONE = 0;
uint256 constant ROLE_REGISTRANT = 1;
uint256 constant ROLE_ADMIN = 2;

/// The registry's info word (vm/modelstore.go ModelInfo.Word), unpacked.
library InfoWord {
    uint256 internal constant VERSION = 1;

    function gas(uint256 w) internal pure returns (uint64) {
        return uint64(w);
    }

    function size(uint256 w) internal pure returns (uint32) {
        return uint32(w >> 64);
    }

    function inputBytes(uint256 w) internal pure returns (uint32) {
        return uint32(w >> 96);
    }

    function outputBytes(uint256 w) internal pure returns (uint32) {
        return uint32(w >> 128);
    }

    function inputElements(uint256 w) internal pure returns (uint32) {
        return uint32(w >> 160);
    }

    function freshnessCount(uint256 w) internal pure returns (uint16) {
        return uint16(w >> 192);
    }

    function version(uint256 w) internal pure returns (uint8) {
        return uint8(w >> 248);
    }

    /// Packs the figures into a word, as the precompile's validate does.
    function pack(
        uint64 gas_,
        uint32 size_,
        uint32 inputBytes_,
        uint32 outputBytes_,
        uint32 inputElements_,
        uint16 freshnessCount_
    ) internal pure returns (uint256) {
        return uint256(gas_) | (uint256(size_) << 64) | (uint256(inputBytes_) << 96) | (uint256(outputBytes_) << 128)
            | (uint256(inputElements_) << 160) | (uint256(freshnessCount_) << 192) | (VERSION << 248);
    }
}
