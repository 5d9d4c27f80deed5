// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ForgeVm, FORGE_VM_ADDRESS} from "./Vm.sol";
import {INFERENCE_ADDRESS} from "../IInference.sol";
import {MockInference} from "../MockInference.sol";

/// @title What a forge test of a contract that calls models starts from
/// @notice Needs nothing but this package (no forge-std, nothing
/// downloaded): `vm` (the cheatcodes in ./Vm.sol), `installMock()`, which
/// puts `MockInference` where the precompile lives, and assertions that
/// forge reports with both values.
///
///   contract MyTest is InferenceTest {
///       MockInference mock;
///       function setUp() public {
///           mock = installMock();
///           mock.setModel(id, 4, 2);                      // int8[4] in, 2 bytes out
///           mock.setOutput(id, hex"01020304", hex"007f");
///       }
///   }
abstract contract InferenceTest {
    ForgeVm internal constant vm = ForgeVm(FORGE_VM_ADDRESS);

    /// Puts MockInference's code at the precompile's address and returns it.
    function installMock() internal returns (MockInference mock) {
        vm.etch(INFERENCE_ADDRESS, address(new MockInference()).code);
        vm.label(INFERENCE_ADDRESS, "InferencePrecompile(mock)");
        return MockInference(INFERENCE_ADDRESS);
    }

    function assertTrue(bool condition, string memory what) internal pure {
        vm.assertTrue(condition, what);
    }

    function assertFalse(bool condition, string memory what) internal pure {
        vm.assertFalse(condition, what);
    }

    function assertEq(bool a, bool b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(int256 a, int256 b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(address a, address b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(bytes32 a, bytes32 b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(bytes memory a, bytes memory b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(string memory a, string memory b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }
}
