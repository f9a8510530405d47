// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken
/// @author HumanOps
/// @notice Test token that burns 1% of every transfer, so the recipient gets less than was sent. TaskEscrow must
/// refuse it.
contract FeeOnTransferToken is ERC20 {
    uint256 private constant _FEE_BPS = 100;

    /// @notice Deploys the token.
    constructor() ERC20("Fee On Transfer", "FOT") {}

    /// @notice Mints test tokens to anyone.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice 6 decimals, like USDC.
    /// @return 6.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 burnt = (value * _FEE_BPS) / 10_000;
        super._update(from, address(0), burnt);
        super._update(from, to, value - burnt);
    }
}
