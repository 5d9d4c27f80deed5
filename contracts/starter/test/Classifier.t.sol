// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceTest} from "@infergeth/contracts/src/forge/InferenceTest.sol";
import {MockInference} from "@infergeth/contracts/src/MockInference.sol";
import {IInference} from "@infergeth/contracts/src/IInference.sol";
import {Classifier} from "../src/Classifier.sol";

/// forge's EVM has no inference precompile: the test puts MockInference at
/// its address and tells it what the model answers.
contract ClassifierTest is InferenceTest {
    bytes32 constant MODEL = keccak256("a model");
    MockInference mock;
    Classifier classifier;
    bytes input = new bytes(96);

    function setUp() public {
        mock = installMock();
        mock.setModel(MODEL, 96, 14); // int8[96] in, 14 bytes out
        // Ten logits, then the int32 class 3 at byte 10.
        mock.setOutput(MODEL, input, hex"ff03ff0e0a09faf80aef03000000");
        classifier = new Classifier(MODEL);
    }

    function test_ClassifyRecordsTheModelsClass() public {
        assertEq(classifier.predict(input), 3, "predict");
        vm.prank(address(0xBEEF));
        classifier.classify(input);
        assertEq(classifier.classOf(address(0xBEEF)), 3, "classOf");
    }

    function test_WrongInputLengthReverts() public {
        vm.expectPartialRevert(IInference.BadInput.selector); // BadInput("input is 95 bytes; ...")
        classifier.predict(new bytes(95));
    }

    function test_UnknownModelReverts() public {
        Classifier other = new Classifier(keccak256("no such model"));
        vm.expectRevert(abi.encodeWithSelector(IInference.ModelNotFound.selector, keccak256("no such model")));
        other.predict(input);
    }
}
