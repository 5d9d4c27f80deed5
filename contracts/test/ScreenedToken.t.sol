// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {IInference, INFERENCE} from "../src/IInference.sol";
import {MockInference} from "../src/MockInference.sol";
import {FRAUD_MODEL_ID} from "../examples/ExampleModels.sol";
import {ScreenedToken} from "../examples/classifier/ScreenedToken.sol";
import {RiskOracle} from "../examples/classifier/RiskOracle.sol";
import {FraudModel} from "./models/FraudModel.sol";

/// A contract that calls the fraud model without stamping the risk score,
/// as a careless author might: the precompile refuses it.
contract Forgetful {
    function screen(bytes calldata features) external view returns (bytes memory) {
        return INFERENCE.infer(FRAUD_MODEL_ID, features);
    }
}

/// The classifier example: a transfer the fraud model flags is refused.
contract ScreenedTokenTest is Test {
    MockInference mock;
    RiskOracle oracle;
    ScreenedToken token;
    uint64 constant T0 = 1_700_000_000;
    address alice = address(0xA11CE);
    address bob = address(0xB0B);
    address carol = address(0xCA201);

    function setUp() public {
        vm.warp(T0);
        mock = installMock();
        // fraud.model: int8[1,4] in, [ok, fraud] out, element 3 (the risk
        // score) stamped and at most two days old.
        mock.setModel(FRAUD_MODEL_ID, 4, 2);
        mock.declareFreshness(FRAUD_MODEL_ID, 3, 172_800, 0, 0);
        mock.setLogic(FRAUD_MODEL_ID, address(new FraudModel()));

        oracle = new RiskOracle();
        token = new ScreenedToken("Screened", "SCR", FRAUD_MODEL_ID, oracle, 1 days);
        token.mint(alice, 1_000e18);
        token.mint(bob, 1e18);
        oracle.report(alice, 10, T0 - 60);
    }

    function test_AnOrdinaryTransferPasses() public {
        // 10% of the balance (12), to an account that has received (0), no
        // recent transfers (0), score 10: 12 + 0 + 0 + 20 - 200 = -168.
        vm.expectEmit(true, true, true, true, address(token));
        emit ScreenedToken.Screened(alice, bob, 100e18, 0, -128);
        vm.prank(alice);
        token.transfer(bob, 100e18);
        assertEq(token.balanceOf(bob), 101e18, "received");
        assertEq(token.balanceOf(alice), 900e18, "sent");
    }

    function test_AFraudulentTransferIsRefused() public {
        oracle.report(alice, 60, T0 - 60);
        // All of it (127), to a fresh account (127), score 60 (120): 174 -> 127.
        (ScreenedToken.Class class, bytes memory logits) = token.screen(alice, carol, 1_000e18);
        assertEq(uint8(class), uint8(ScreenedToken.Class.Fraud), "fraud");
        assertEq(logits, hex"007f", "logits");
        vm.expectRevert(abi.encodeWithSelector(ScreenedToken.TransferRefused.selector, alice, carol, 1_000e18, 0, 127));
        vm.prank(alice);
        token.transfer(carol, 1_000e18);
        assertEq(token.balanceOf(alice), 1_000e18, "nothing moved");
        assertFalse(token.received(carol), "carol never received");
        // A tenth of it to an account that has received passes: 12 + 0 + 0 + 120 - 200 < 0.
        vm.prank(alice);
        token.transfer(bob, 100e18);
    }

    function test_VelocityCounts() public {
        oracle.report(alice, 40, T0 - 60);
        // 1% (1) to bob (0), score 40 (80): fraud once 81 + 16k > 200, k >= 8
        // recent transfers.
        vm.startPrank(alice);
        for (uint256 k = 0; k < 7; k++) {
            token.transfer(bob, 10e18);
        }
        (, bytes memory logits) = token.screen(alice, bob, 10e18);
        // 1% of the balance left is still 1; 7 recent transfers: 1 + 112 + 80 - 200 = -7.
        assertEq(logits, abi.encodePacked(int8(0), int8(-7)), "seven recent transfers");
        token.transfer(bob, 10e18);
        // Eight: 16 * 8 = 128 clamps to 127, and 1 + 127 + 80 - 200 = 8.
        vm.expectRevert(abi.encodeWithSelector(ScreenedToken.TransferRefused.selector, alice, bob, 10e18, 0, 8));
        token.transfer(bob, 10e18);
        vm.stopPrank();
        // Ten minutes later the window is clear; the score is still fresh.
        vm.warp(T0 + 10 minutes);
        vm.prank(alice);
        token.transfer(bob, 10e18);
    }

    function test_TransferFromIsScreenedToo() public {
        oracle.report(alice, 60, T0 - 60);
        vm.prank(alice);
        token.approve(bob, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(ScreenedToken.TransferRefused.selector, alice, carol, 1_000e18, 0, 127));
        vm.prank(bob);
        token.transferFrom(alice, carol, 1_000e18);
    }

    // ---- the freshness guard ----

    function test_AStaleScoreIsRefused() public {
        vm.warp(T0 - 60 + 1 days + 1);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 3, T0 - 60, T0 - 60 + 1 days + 1, 1 days));
        vm.prank(alice);
        token.transfer(bob, 1e18);
        assertEq(token.balanceOf(alice), 1_000e18, "nothing moved");
    }

    function test_TheModelsTwoDaysBoundALaxToken() public {
        ScreenedToken lax = new ScreenedToken("Lax", "LAX", FRAUD_MODEL_ID, oracle, 30 days);
        lax.mint(alice, 1e18);
        lax.mint(bob, 1e18);
        vm.warp(T0 - 60 + 2 days + 1);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 3, T0 - 60, T0 - 60 + 2 days + 1, 2 days));
        vm.prank(alice);
        lax.transfer(bob, 1e17);
    }

    function test_AScoreFromTheFutureIsRefused() public {
        oracle.report(alice, 10, T0 + 100);
        vm.expectRevert(abi.encodeWithSelector(IInference.FutureInput.selector, 3, T0 + 100, T0));
        vm.prank(alice);
        token.transfer(bob, 1e18);
    }

    function test_ANeverScoredSenderIsRefused() public {
        // bob has no report: observed at 0, as old as time.
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 3, 0, T0, 1 days));
        vm.prank(bob);
        token.transfer(alice, 1e17);
    }

    function test_ForgettingTheStampIsRefused() public {
        Forgetful f = new Forgetful();
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 3));
        f.screen(hex"01020304");
    }

    function test_ModelNotFound() public {
        bytes32 unknown = keccak256("no such model");
        ScreenedToken t = new ScreenedToken("X", "X", unknown, oracle, 1 days);
        t.mint(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IInference.ModelNotFound.selector, unknown));
        vm.prank(alice);
        t.transfer(bob, 1);
    }

    function test_BadInput() public {
        bytes32 wide = keccak256("a five-feature model");
        mock.setModel(wide, 5, 2);
        ScreenedToken t = new ScreenedToken("X", "X", wide, oracle, 1 days);
        t.mint(alice, 1e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInference.BadInput.selector, string.concat("input is 4 bytes; model ", vm.toString(wide), " takes 5")
            )
        );
        vm.prank(alice);
        t.transfer(bob, 1);
    }
}
