// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SIGNAL_MODEL_ID, FRAUD_MODEL_ID} from "../examples/ExampleModels.sol";
import {ToyToken} from "../examples/ToyToken.sol";
import {ToyAMM} from "../examples/trading/ToyAMM.sol";
import {ToyPriceFeed} from "../examples/trading/ToyPriceFeed.sol";
import {SignalTrader} from "../examples/trading/SignalTrader.sol";
import {RiskOracle} from "../examples/classifier/RiskOracle.sol";
import {ScreenedToken} from "../examples/classifier/ScreenedToken.sol";
import {InferenceScript} from "../src/forge/InferenceScript.sol";

/// Deploys both example dApps to a running chain (README.md):
///
///   forge script script/DeployExamples.s.sol:DeployExamples \
///     --rpc-url http://127.0.0.1:8545 --private-key $KEY --broadcast
///
/// The trading example: TOY and USD tokens, a pool seeded at $100, a
/// ToyPriceFeed at $100 and a SignalTrader (owned by the key) holding
/// 1,000 TOY and 100,000 USD. The classifier: a RiskOracle (reporter: the
/// key) and a ScreenedToken with 1,000 SCR minted to the key. The models are
/// SIGNAL_MODEL_ID and FRAUD_MODEL_ID unless the environment says otherwise;
/// they must be registered on the chain before the dApps are used: the
/// script asks the chain's precompile whether the signal model fits the
/// trader (InferenceScript answers model calls during forge's simulation).
contract DeployExamples is InferenceScript {
    function run()
        external
        returns (SignalTrader trader, ToyPriceFeed feed, ToyAMM amm, ScreenedToken token, RiskOracle oracle)
    {
        bytes32 signal = vm.envOr("SIGNAL_MODEL_ID", SIGNAL_MODEL_ID);
        bytes32 fraud = vm.envOr("FRAUD_MODEL_ID", FRAUD_MODEL_ID);
        vm.startBroadcast();
        ToyToken toy = new ToyToken("Toy", "TOY");
        ToyToken usd = new ToyToken("Toy dollar", "USD");
        amm = new ToyAMM(toy, usd);
        toy.mint(address(amm), 10_000e18);
        usd.mint(address(amm), 1_000_000e18);
        amm.sync();
        feed = new ToyPriceFeed(8, "TOY / USD");
        feed.update(100e8);
        trader = new SignalTrader(signal, feed, amm, 300, 1_000e18, 10e18);
        require(trader.modelFits(), "DeployExamples: the signal model is not registered with the trader's shape");
        toy.mint(address(trader), 1_000e18);
        usd.mint(address(trader), 100_000e18);

        oracle = new RiskOracle();
        token = new ScreenedToken("Screened", "SCR", fraud, oracle, 1 days);
        token.mint(tx.origin, 1_000e18);
        vm.stopBroadcast();
    }
}
