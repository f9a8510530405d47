// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IERC3009} from "../interfaces/IERC3009.sol";

/// @title TestUSDC
/// @author HumanOps
/// @notice USDC stand-in for tests and local chains: 6 decimals, EIP-2612 permit and EIP-3009 authorizations under
/// the same EIP-712 domain as USDC on Base (name "USD Coin", version "2"), a blacklist like USDC's, and an owner mint.
/// Not for production.
/// @dev Storage and checks follow FiatToken v2.2 (USDC on Base) so gas measured against it is representative: the
/// blacklist flag is the top bit of the balance slot, transfers check the caller, sender and recipient, and allowances
/// are always decremented (no infinite-allowance shortcut). The real token also runs behind a proxy and checks a pause
/// flag, which this one does not model.
contract TestUSDC is EIP712, Nonces, Ownable, IERC20Metadata, IERC20Permit, IERC3009, IERC20Errors {
    /// @notice EIP-2612 permit type hash.
    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @notice EIP-3009 `transferWithAuthorization` type hash.
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    /// @notice EIP-3009 `receiveWithAuthorization` type hash.
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    /// @notice EIP-3009 `cancelAuthorization` type hash.
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    uint256 private constant _BLACKLISTED = 1 << 255;

    mapping(address account => uint256 balanceAndBlacklistState) private _balanceAndBlacklistStates;
    mapping(address owner => mapping(address spender => uint256 value)) private _allowances;
    uint256 private _totalSupply;
    mapping(address authorizer => mapping(bytes32 nonce => bool used)) private _authorizationStates;

    /// @notice An account was blacklisted.
    /// @param account The account.
    event Blacklisted(address indexed account);

    /// @notice An account was removed from the blacklist.
    /// @param account The account.
    event UnBlacklisted(address indexed account);

    /// @notice The account is blacklisted: it can neither send nor receive.
    /// @param account The account.
    error TestUSDCBlacklisted(address account);

    /// @notice The permit's deadline has passed.
    /// @param deadline The deadline.
    error TestUSDCExpiredPermit(uint256 deadline);

    /// @notice The signature is not the owner's or authorizer's.
    error TestUSDCInvalidSignature();

    /// @notice The authorization is used outside (validAfter, validBefore).
    /// @param validAfter The authorization's validAfter.
    /// @param validBefore The authorization's validBefore.
    error TestUSDCAuthorizationNotValidNow(uint256 validAfter, uint256 validBefore);

    /// @notice The authorization nonce was already used or cancelled.
    /// @param authorizer The authorizer.
    /// @param nonce The nonce.
    error TestUSDCAuthorizationUsed(address authorizer, bytes32 nonce);

    /// @notice `receiveWithAuthorization` must be called by the payee.
    /// @param caller The caller.
    /// @param payee The authorization's payee.
    error TestUSDCCallerMustBePayee(address caller, address payee);

    /// @notice Minting would push the total supply into the blacklist bit.
    /// @param totalSupply The total supply the mint would reach.
    error TestUSDCSupplyOverflow(uint256 totalSupply);

    /// @notice Deploys the token; the deployer owns mint and blacklist.
    constructor() EIP712("USD Coin", "2") Ownable(msg.sender) {}

    /// @notice Mints test tokens.
    /// @param to The recipient.
    /// @param amount The amount, in base units.
    function mint(address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _requireNotBlacklisted(to);
        uint256 totalSupply_ = _totalSupply + amount;
        if (totalSupply_ >= _BLACKLISTED) revert TestUSDCSupplyOverflow(totalSupply_);
        _totalSupply = totalSupply_;
        _balanceAndBlacklistStates[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice Blacklists `account`, like USDC's `blacklist`.
    /// @param account The account.
    function blacklist(address account) external onlyOwner {
        _balanceAndBlacklistStates[account] |= _BLACKLISTED;
        emit Blacklisted(account);
    }

    /// @notice Removes `account` from the blacklist, like USDC's `unBlacklist`.
    /// @param account The account.
    function unBlacklist(address account) external onlyOwner {
        _balanceAndBlacklistStates[account] &= ~_BLACKLISTED;
        emit UnBlacklisted(account);
    }

    /// @inheritdoc IERC20
    function transfer(address to, uint256 value) external returns (bool) {
        _requireNotBlacklisted(msg.sender);
        _transfer(msg.sender, to, value);
        return true;
    }

    /// @inheritdoc IERC20
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        _requireNotBlacklisted(msg.sender);
        uint256 allowed = _allowances[from][msg.sender];
        if (allowed < value) revert ERC20InsufficientAllowance(msg.sender, allowed, value);
        _allowances[from][msg.sender] = allowed - value;
        _transfer(from, to, value);
        return true;
    }

    /// @inheritdoc IERC20
    function approve(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    /// @notice EIP-2612 permit.
    /// @param owner The token owner, who signed.
    /// @param spender The spender.
    /// @param value The allowance.
    /// @param deadline Last unix time (inclusive) the permit may be used.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        if (block.timestamp > deadline) revert TestUSDCExpiredPermit(deadline);
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        if (ECDSA.recover(_hashTypedDataV4(structHash), v, r, s) != owner) revert TestUSDCInvalidSignature();
        _approve(owner, spender, value);
    }

    /// @inheritdoc IERC20
    function allowance(address owner, address spender) external view returns (uint256) {
        return _allowances[owner][spender];
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) external view returns (uint256) {
        return _balanceAndBlacklistStates[account] & ~_BLACKLISTED;
    }

    /// @inheritdoc IERC20
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @inheritdoc IERC20Metadata
    function name() external pure returns (string memory) {
        return "USD Coin";
    }

    /// @inheritdoc IERC20Metadata
    function symbol() external pure returns (string memory) {
        return "USDC";
    }

    /// @inheritdoc IERC3009
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        _useAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        if (to != msg.sender) revert TestUSDCCallerMustBePayee(msg.sender, to);
        _useAuthorization(
            RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, signature
        );
        _transfer(from, to, value);
    }

    /// @inheritdoc IERC3009
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        _requireUnusedAuthorization(authorizer, nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
        if (!SignatureChecker.isValidSignatureNow(authorizer, digest, signature)) revert TestUSDCInvalidSignature();
        _authorizationStates[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    /// @inheritdoc IERC3009
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizationStates[authorizer][nonce];
    }

    /// @notice Whether `account` is blacklisted.
    /// @param account The account.
    /// @return True if blacklisted.
    function isBlacklisted(address account) external view returns (bool) {
        return _isBlacklisted(account);
    }

    /// @notice The EIP-712 domain version, as USDC exposes it.
    /// @return "2".
    function version() external pure returns (string memory) {
        return "2";
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    // EIP-2612 fixes this name.
    // solhint-disable func-name-mixedcase
    /// @inheritdoc IERC20Permit
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
    // solhint-enable func-name-mixedcase

    /// @notice USDC has 6 decimals.
    /// @return 6.
    function decimals() external pure returns (uint8) {
        return 6;
    }

    function _transfer(address from, address to, uint256 value) private {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        uint256 fromState = _balanceAndBlacklistStates[from];
        if (fromState & _BLACKLISTED != 0) revert TestUSDCBlacklisted(from);
        if (fromState < value) revert ERC20InsufficientBalance(from, fromState, value);
        _balanceAndBlacklistStates[from] = fromState - value;
        // Read after the write so that a transfer to oneself nets to zero.
        uint256 toState = _balanceAndBlacklistStates[to];
        if (toState & _BLACKLISTED != 0) revert TestUSDCBlacklisted(to);
        _balanceAndBlacklistStates[to] = toState + value;
        emit Transfer(from, to, value);
    }

    function _approve(address owner, address spender, uint256 value) private {
        _requireNotBlacklisted(owner);
        _requireNotBlacklisted(spender);
        _allowances[owner][spender] = value;
        emit Approval(owner, spender, value);
    }

    function _requireNotBlacklisted(address account) private view {
        if (_isBlacklisted(account)) revert TestUSDCBlacklisted(account);
    }

    function _isBlacklisted(address account) private view returns (bool) {
        return _balanceAndBlacklistStates[account] & _BLACKLISTED != 0;
    }

    function _useAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) private {
        if (block.timestamp <= validAfter || block.timestamp >= validBefore) {
            revert TestUSDCAuthorizationNotValidNow(validAfter, validBefore);
        }
        _requireUnusedAuthorization(from, nonce);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)));
        if (!SignatureChecker.isValidSignatureNow(from, digest, signature)) revert TestUSDCInvalidSignature();
        _authorizationStates[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
    }

    function _requireUnusedAuthorization(address authorizer, bytes32 nonce) private view {
        if (_authorizationStates[authorizer][nonce]) revert TestUSDCAuthorizationUsed(authorizer, nonce);
    }
}
