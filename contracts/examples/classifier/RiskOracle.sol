// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Risk scores of accounts, reported by an off-chain service
/// @notice The reporter posts a score (0..127) with the time it observed it.
/// A consumer must check that time: ScreenedToken stamps it into its call to
/// the fraud model (`inferFresh`), so the precompile refuses a score that is
/// too old or claims to come from the future. Not for production.
contract RiskOracle {
    struct Report {
        uint8 score;
        uint64 observedAt; // 0: never reported
    }

    address public immutable reporter;
    mapping(address => Report) private _reports;

    event Reported(address indexed account, uint8 score, uint64 observedAt);

    error NotReporter(address account);
    error ScoreOutOfRange(uint8 score);

    constructor() {
        reporter = msg.sender;
    }

    function report(address account, uint8 score, uint64 observedAt) external {
        if (msg.sender != reporter) revert NotReporter(msg.sender);
        if (score > 127) revert ScoreOutOfRange(score);
        _reports[account] = Report(score, observedAt);
        emit Reported(account, score, observedAt);
    }

    function scoreOf(address account) external view returns (uint8 score, uint64 observedAt) {
        Report memory r = _reports[account];
        return (r.score, r.observedAt);
    }
}
