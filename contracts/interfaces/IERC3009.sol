// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IERC3009
/// @author HumanOps
/// @notice EIP-3009 "transfer with authorization", as implemented by USDC (FiatToken v2.2, the version deployed on
/// Base and Base Sepolia). Only the `bytes signature` overloads are listed: they accept both 65-byte ECDSA signatures
/// and ERC-1271 contract-wallet signatures.
interface IERC3009 {
    /// @notice Emitted when an authorization is used.
    /// @param authorizer The account that signed the authorization.
    /// @param nonce The authorization's unique nonce.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    /// @notice Emitted when an authorization is cancelled before use.
    /// @param authorizer The account that signed the authorization.
    /// @param nonce The authorization's unique nonce.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice Executes a transfer signed by `from`; anyone may submit it.
    /// @param from The payer, who signed the authorization.
    /// @param to The payee.
    /// @param value The amount, in token base units.
    /// @param validAfter The authorization is valid strictly after this unix time.
    /// @param validBefore The authorization is valid strictly before this unix time.
    /// @param nonce A unique nonce chosen by the payer.
    /// @param signature The payer's signature over the EIP-712 `TransferWithAuthorization` message.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice Like {transferWithAuthorization}, but only the payee `to` may submit it, so the authorization cannot be
    /// front-run out of the payee's transaction.
    /// @param from The payer, who signed the authorization.
    /// @param to The payee; must be the caller.
    /// @param value The amount, in token base units.
    /// @param validAfter The authorization is valid strictly after this unix time.
    /// @param validBefore The authorization is valid strictly before this unix time.
    /// @param nonce A unique nonce chosen by the payer.
    /// @param signature The payer's signature over the EIP-712 `ReceiveWithAuthorization` message.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;

    /// @notice Cancels an unused authorization.
    /// @param authorizer The account that signed the authorization being cancelled.
    /// @param nonce The nonce of the authorization to cancel.
    /// @param signature The authorizer's signature over the EIP-712 `CancelAuthorization` message.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external;

    /// @notice Whether an authorization nonce has been used or cancelled.
    /// @param authorizer The account that signed the authorization.
    /// @param nonce The authorization's nonce.
    /// @return True if the nonce can no longer be used.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
}
