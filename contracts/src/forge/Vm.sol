// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The forge cheatcodes the SDK's test and script bases use
/// @notice forge-std's `Vm`, reduced to what `InferenceTest`,
/// `InferenceScript` and this package's own tests need, with forge-std's
/// signatures, so a project builds offline without forge-std. A project that
/// has forge-std may use its own `Vm` instead: the cheatcodes are the same.
interface ForgeVm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    // State
    function etch(address target, bytes calldata code) external;
    function load(address target, bytes32 slot) external view returns (bytes32);
    function store(address target, bytes32 slot, bytes32 value) external;
    function warp(uint256 timestamp) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address account, uint256 balance) external;
    function label(address account, string calldata name) external;
    function allowCheatcodes(address account) external;

    // Expectations
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    /// Expects a revert whose data starts with this selector (any arguments).
    function expectPartialRevert(bytes4 selector) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);

    // Files (a project's foundry.toml must grant read access: fs_permissions)
    function readFile(string calldata path) external view returns (string memory data);
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);

    // Environment and JSON-RPC (scripts)
    function envOr(string calldata name, bytes32 defaultValue) external view returns (bytes32);
    function envOr(string calldata name, address defaultValue) external view returns (address);
    function rpc(string calldata method, string calldata params) external returns (bytes memory data);
    function toString(address value) external pure returns (string memory);
    function toString(bytes calldata value) external pure returns (string memory);
    function toString(bytes32 value) external pure returns (string memory);
    function toString(uint256 value) external pure returns (string memory);

    // Broadcasting (scripts)
    function startBroadcast() external;
    function startBroadcast(uint256 privateKey) external;
    function stopBroadcast() external;

    // Assertions
    function assertTrue(bool condition, string calldata message) external pure;
    function assertFalse(bool condition, string calldata message) external pure;
    function assertEq(bool left, bool right, string calldata message) external pure;
    function assertEq(uint256 left, uint256 right, string calldata message) external pure;
    function assertEq(int256 left, int256 right, string calldata message) external pure;
    function assertEq(address left, address right, string calldata message) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata message) external pure;
    function assertEq(string calldata left, string calldata right, string calldata message) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata message) external pure;
    function assertGt(uint256 left, uint256 right, string calldata message) external pure;
}

// Where forge answers cheatcodes.
address constant FORGE_VM_ADDRESS = address(uint160(uint256(keccak256("hevm cheat code"))));
