// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInference, INFERENCE_ADDRESS} from "./IInference.sol";
import {
    IModelRegistry,
    InfoWord,
    MAX_CHUNK_PAYLOAD,
    ROLE_NONE,
    ROLE_REGISTRANT,
    ROLE_ADMIN
} from "./IModelRegistry.sol";
import {DataContract} from "./DataContract.sol";

/// @title The model registry system contract (see IModelRegistry)
/// @notice Predeployed in genesis at 0x...0A01 with its runtime code only:
/// it has no constructor and no immutables, and every initial value (the
/// allow-list admins, demo models) is genesis storage. Its runtime code is
/// contracts/artifacts/ModelRegistry.json, built by `make contracts`.
///
/// The order of the state variables below is consensus: the inference
/// precompile reads slots 0 and 1 (vm/modelstore.go) and genesis writes
/// all of them (contracts/registry.go). `make contracts` refuses a build
/// whose storage layout differs. Do not add, remove or reorder variables.
contract ModelRegistry is IModelRegistry {
    /// slot 0: the manifest data contract of a model.
    mapping(bytes32 => address) public manifestOf;
    /// slot 1: the info word the precompile's validate returned.
    mapping(bytes32 => uint256) public infoOf;
    /// slot 2
    mapping(bytes32 => address) public ownerOf;
    /// slot 3
    mapping(bytes32 => string) public metadataOf;
    /// slot 4
    bool public allowListEnabled;
    /// slot 5: ROLE_NONE, ROLE_REGISTRANT or ROLE_ADMIN.
    mapping(address => uint256) public roleOf;

    modifier onlyAllowed() {
        if (allowListEnabled && roleOf[msg.sender] == ROLE_NONE) {
            revert NotAllowed(msg.sender);
        }
        _;
    }

    modifier onlyAdmin() {
        if (roleOf[msg.sender] != ROLE_ADMIN) {
            revert NotAdmin(msg.sender);
        }
        _;
    }

    modifier onlyModelOwner(bytes32 modelId) {
        if (infoOf[modelId] == 0) {
            revert ModelNotRegistered(modelId);
        }
        if (ownerOf[modelId] != msg.sender) {
            revert NotModelOwner(modelId, msg.sender);
        }
        _;
    }

    // ---- upload and register ----

    /// @inheritdoc IModelRegistry
    function upload(bytes calldata payload) external onlyAllowed returns (address chunk) {
        if (payload.length == 0) {
            revert EmptyPayload();
        }
        if (payload.length > MAX_CHUNK_PAYLOAD) {
            revert PayloadTooLarge(payload.length, MAX_CHUNK_PAYLOAD);
        }
        bytes32 salt = keccak256(payload);
        bool created;
        (chunk, created) = DataContract.deploy(salt, payload);
        if (chunk == address(0)) {
            revert DeployFailed(salt);
        }
        if (created) {
            emit ChunkUploaded(chunk, salt, payload.length);
        }
    }

    /// @inheritdoc IModelRegistry
    function register(address[] calldata chunks, string calldata metadata)
        external
        onlyAllowed
        returns (bytes32 modelId)
    {
        uint256 info;
        (modelId, info) = _validate(chunks);
        if (infoOf[modelId] != 0) {
            revert AlreadyRegistered(modelId);
        }
        (address manifest,) = DataContract.deploy(modelId, _list(chunks));
        if (manifest == address(0)) {
            revert DeployFailed(modelId);
        }
        manifestOf[modelId] = manifest;
        infoOf[modelId] = info;
        ownerOf[modelId] = msg.sender;
        metadataOf[modelId] = metadata;
        emit ModelRegistered(modelId, msg.sender, manifest, info, metadata);
    }

    /// _validate asks the inference precompile to validate the model the
    /// chunks hold. Its refusal (InvalidModel, BadInput) is bubbled as is.
    function _validate(address[] calldata chunks) private view returns (bytes32 modelId, uint256 info) {
        (bool ok, bytes memory ret) = INFERENCE_ADDRESS.staticcall(abi.encodeCall(IInference.validate, (chunks)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        if (ret.length != 64) {
            revert ValidatorUnavailable();
        }
        (modelId, info) = abi.decode(ret, (bytes32, uint256));
        if (InfoWord.version(info) != InfoWord.VERSION) {
            revert ValidatorUnavailable();
        }
    }

    /// _list is the manifest's payload: the chunk addresses, 20 bytes each.
    function _list(address[] calldata chunks) private pure returns (bytes memory out) {
        out = new bytes(20 * chunks.length);
        for (uint256 i = 0; i < chunks.length; i++) {
            address c = chunks[i];
            assembly ("memory-safe") {
                mstore(add(add(out, 0x20), mul(i, 20)), shl(96, c))
            }
        }
    }

    // ---- model owners ----

    /// @inheritdoc IModelRegistry
    function setMetadata(bytes32 modelId, string calldata metadata) external onlyModelOwner(modelId) {
        metadataOf[modelId] = metadata;
        emit MetadataChanged(modelId, metadata);
    }

    /// @inheritdoc IModelRegistry
    function transferModelOwnership(bytes32 modelId, address newOwner) external onlyModelOwner(modelId) {
        if (newOwner == address(0)) {
            revert ZeroOwner();
        }
        ownerOf[modelId] = newOwner;
        emit ModelOwnershipTransferred(modelId, msg.sender, newOwner);
    }

    // ---- allow-list ----

    /// @inheritdoc IModelRegistry
    function setRole(address account, uint256 role) external onlyAdmin {
        if (role > ROLE_ADMIN) {
            revert InvalidRole(role);
        }
        uint256 previous = roleOf[account];
        roleOf[account] = role;
        emit RoleChanged(account, previous, role, msg.sender);
    }

    /// @inheritdoc IModelRegistry
    function setAllowListEnabled(bool enabled) external onlyAdmin {
        allowListEnabled = enabled;
        emit AllowListEnabledChanged(enabled, msg.sender);
    }

    // ---- views ----

    /// @inheritdoc IModelRegistry
    function isRegistered(bytes32 modelId) external view returns (bool) {
        return infoOf[modelId] != 0;
    }

    /// @inheritdoc IModelRegistry
    function modelGas(bytes32 modelId) external view returns (uint64) {
        return InfoWord.gas(infoOf[modelId]);
    }

    /// @inheritdoc IModelRegistry
    function modelSize(bytes32 modelId) external view returns (uint32) {
        return InfoWord.size(infoOf[modelId]);
    }

    /// @inheritdoc IModelRegistry
    function modelInputBytes(bytes32 modelId) external view returns (uint32) {
        return InfoWord.inputBytes(infoOf[modelId]);
    }

    /// @inheritdoc IModelRegistry
    function modelOutputBytes(bytes32 modelId) external view returns (uint32) {
        return InfoWord.outputBytes(infoOf[modelId]);
    }

    /// @inheritdoc IModelRegistry
    function modelInputElements(bytes32 modelId) external view returns (uint32) {
        return InfoWord.inputElements(infoOf[modelId]);
    }

    /// @inheritdoc IModelRegistry
    function modelFreshnessCount(bytes32 modelId) external view returns (uint16) {
        return InfoWord.freshnessCount(infoOf[modelId]);
    }

    /// @inheritdoc IModelRegistry
    function model(bytes32 modelId) external view returns (Model memory m) {
        uint256 w = infoOf[modelId];
        if (w == 0) {
            revert ModelNotRegistered(modelId);
        }
        m.manifest = manifestOf[modelId];
        m.owner = ownerOf[modelId];
        m.gas = InfoWord.gas(w);
        m.size = InfoWord.size(w);
        m.inputBytes = InfoWord.inputBytes(w);
        m.outputBytes = InfoWord.outputBytes(w);
        m.inputElements = InfoWord.inputElements(w);
        m.freshnessCount = InfoWord.freshnessCount(w);
        m.metadata = metadataOf[modelId];
    }

    /// @inheritdoc IModelRegistry
    function chunksOf(bytes32 modelId) external view returns (address[] memory chunks) {
        if (infoOf[modelId] == 0) {
            revert ModelNotRegistered(modelId);
        }
        bytes memory list = DataContract.read(manifestOf[modelId]);
        chunks = new address[](list.length / 20);
        for (uint256 i = 0; i < chunks.length; i++) {
            address c;
            assembly ("memory-safe") {
                c := shr(96, mload(add(add(list, 0x20), mul(i, 20))))
            }
            chunks[i] = c;
        }
    }

    /// @inheritdoc IModelRegistry
    function chunkAddress(bytes calldata payload) external view returns (address) {
        return DataContract.addressOf(address(this), keccak256(payload), payload);
    }

    /// @inheritdoc IModelRegistry
    function manifestAddress(bytes32 modelId, address[] calldata chunks) external view returns (address) {
        return DataContract.addressOf(address(this), modelId, _list(chunks));
    }

    /// @inheritdoc IModelRegistry
    function canRegister(address account) external view returns (bool) {
        return !allowListEnabled || roleOf[account] != ROLE_NONE;
    }
}
