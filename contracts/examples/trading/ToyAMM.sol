// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ToyToken} from "../ToyToken.sol";

/// @title A constant-product pool of two ToyTokens (x * y = k, 0.3% fee)
/// @notice `base` is the traded asset (TOY), `quote` the unit of account
/// (USD). Liquidity is a donation: no shares, no withdrawal. Not for
/// production.
contract ToyAMM {
    ToyToken public immutable base;
    ToyToken public immutable quote;
    uint256 public reserveBase;
    uint256 public reserveQuote;

    uint256 public constant FEE_BPS = 30;

    event LiquidityAdded(address indexed provider, uint256 baseAmount, uint256 quoteAmount);
    event Swap(address indexed sender, address indexed tokenIn, uint256 amountIn, uint256 amountOut, address indexed to);

    error UnknownToken(address token);
    error ZeroAmount();
    error InsufficientOutput(uint256 amountOut, uint256 minOut);

    constructor(ToyToken base_, ToyToken quote_) {
        base = base_;
        quote = quote_;
    }

    function addLiquidity(uint256 baseAmount, uint256 quoteAmount) external {
        base.transferFrom(msg.sender, address(this), baseAmount);
        quote.transferFrom(msg.sender, address(this), quoteAmount);
        reserveBase += baseAmount;
        reserveQuote += quoteAmount;
        emit LiquidityAdded(msg.sender, baseAmount, quoteAmount);
    }

    /// Takes tokens sent to the pool directly as liquidity (a deploy script
    /// mints into the pool, then syncs).
    function sync() external {
        reserveBase = base.balanceOf(address(this));
        reserveQuote = quote.balanceOf(address(this));
    }

    /// What `swap` pays for `amountIn` of `tokenIn` now.
    function getAmountOut(address tokenIn, uint256 amountIn) public view returns (uint256) {
        (uint256 rIn, uint256 rOut) = _reserves(tokenIn);
        uint256 inWithFee = amountIn * (10_000 - FEE_BPS);
        return (inWithFee * rOut) / (rIn * 10_000 + inWithFee);
    }

    function swap(address tokenIn, uint256 amountIn, uint256 minOut, address to) external returns (uint256 amountOut) {
        if (amountIn == 0) revert ZeroAmount();
        amountOut = getAmountOut(tokenIn, amountIn);
        if (amountOut < minOut || amountOut == 0) revert InsufficientOutput(amountOut, minOut);
        ToyToken(tokenIn).transferFrom(msg.sender, address(this), amountIn);
        if (tokenIn == address(base)) {
            reserveBase += amountIn;
            reserveQuote -= amountOut;
            quote.transfer(to, amountOut);
        } else {
            reserveQuote += amountIn;
            reserveBase -= amountOut;
            base.transfer(to, amountOut);
        }
        emit Swap(msg.sender, tokenIn, amountIn, amountOut, to);
    }

    /// The spot price of base in quote with 8 decimals (as a USD feed has).
    function spotPrice8() public view returns (uint256) {
        if (reserveBase == 0) return 0;
        return (reserveQuote * 1e8) / reserveBase;
    }

    function _reserves(address tokenIn) private view returns (uint256, uint256) {
        if (tokenIn == address(base)) return (reserveBase, reserveQuote);
        if (tokenIn == address(quote)) return (reserveQuote, reserveBase);
        revert UnknownToken(tokenIn);
    }
}
