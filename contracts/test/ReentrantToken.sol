// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title ReentrantToken
/// @author HumanOps
/// @notice Hostile test token: on its next transfer it calls back into a target with prepared calldata, to prove
/// TaskEscrow's reentrancy guard. Its `receiveWithAuthorization` checks no signature.
contract ReentrantToken is ERC20 {
    address private _target;
    bytes private _callback;

    /// @notice Deploys the token.
    constructor() ERC20("Reentrant", "REENTER") {}

    /// @notice Mints test tokens to anyone.
    /// @param to The recipient.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the callback made during the next transfer.
    /// @param target The contract to call back.
    /// @param callback The calldata.
    function setCallback(address target, bytes calldata callback) external {
        _target = target;
        _callback = callback;
    }

    /// @notice EIP-3009-shaped transfer to the caller without any signature check.
    /// @param from The payer.
    /// @param to The payee.
    /// @param value The amount.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256,
        uint256,
        bytes32,
        bytes calldata
    ) external {
        _transfer(from, to, value);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = _target;
        if (target != address(0)) {
            _target = address(0);
            Address.functionCall(target, _callback);
        }
    }
}
