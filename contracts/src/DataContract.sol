// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Data contracts: bytes stored as contract code (the SSTORE2 pattern)
/// @notice A data contract's code is 0xFE ‖ payload: INVALID first, so a call
/// into one halts instead of running the payload. The model registry deploys
/// chunks and manifests this way with CREATE2, so an address is a function of
/// the deployer, the salt and the payload. The init code is exactly
/// vm.DataContractInitCode (vm/modelstore.go):
///
///   PUSH2 len+1, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN, 0xFE, payload
library DataContract {
    /// The bytes between PUSH2's operand and the payload.
    bytes10 private constant TAIL = hex"80600c6000396000f3fe";

    /// The creation code of a data contract holding `payload` (at most
    /// 65,534 bytes; EIP-170 allows 24,575).
    function initCode(bytes memory payload) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x61), uint16(payload.length + 1), TAIL, payload);
    }

    /// The address CREATE2 from `deployer` with `salt` gives a data contract
    /// holding `payload`.
    function addressOf(address deployer, bytes32 salt, bytes memory payload) internal pure returns (address) {
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), deployer, salt, keccak256(initCode(payload))));
        return address(uint160(uint256(h)));
    }

    /// Deploys a data contract holding `payload` with `salt` from this
    /// contract, unless one is already there (then its payload is `payload`:
    /// the address commits to the init code). Returns its address and
    /// whether it was created now; returns the zero address if CREATE2 failed.
    function deploy(bytes32 salt, bytes memory payload) internal returns (address addr, bool created) {
        bytes memory code = initCode(payload);
        addr = address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, keccak256(code)))))
        );
        if (addr.code.length != 0) {
            return (addr, false);
        }
        address got;
        assembly ("memory-safe") {
            got := create2(0, add(code, 0x20), mload(code), salt)
        }
        if (got != addr) {
            return (address(0), false);
        }
        return (addr, true);
    }

    /// The payload of data contract `addr` (empty if it is not one).
    function read(address addr) internal view returns (bytes memory payload) {
        uint256 n = addr.code.length;
        bool prefixed;
        assembly ("memory-safe") {
            mstore(0, 0)
            extcodecopy(addr, 0, 0, 1)
            prefixed := eq(byte(0, mload(0)), 0xfe)
        }
        if (n == 0 || !prefixed) {
            return payload;
        }
        payload = new bytes(n - 1);
        assembly ("memory-safe") {
            extcodecopy(addr, add(payload, 0x20), 1, sub(n, 1))
        }
    }
}
