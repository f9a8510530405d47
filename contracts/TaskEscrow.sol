// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IERC3009} from "./interfaces/IERC3009.sol";

/// @title TaskEscrow
/// @author HumanOps
/// @notice Holds the USDC of each HumanOps task until the Guardian pays it out: the operator's address receives
/// `amount - fee` and the treasury `fee`. Until then the Guardian may refund the funder at any time, and once the task's
/// deadline plus its grace period has passed anyone may send the money back to the funder, so funds never depend on
/// the platform staying alive. Each task id is funded once and settled once (released xor refunded).
///
/// @dev Storage holds one slot per task: the state and a hash of the task's {Terms}. The terms themselves are in the
/// {TaskFunded} event and are passed back as calldata to settle; {verifyTerms} lets anyone check them. Every
/// fund-moving function runs checks, then effects, then the event, then the token transfer.
///
/// Blacklisting tokens (USDC): the payee is chosen at release time, not at funding, so a release to a blacklisted
/// operator reverts and leaves the escrow funded: the Guardian can release to another address of the operator or
/// refund, and after the grace period anyone can return the funds. A blacklisted treasury is replaced with
/// {setTreasury}. Funds owed to a blacklisted funder stay here until the token issuer lifts the block: this contract
/// does not route money around the token's own sanctions.
contract TaskEscrow is AccessControlDefaultAdminRules, Pausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    // ================================================================================================================
    // Types
    // ================================================================================================================

    /// @notice Lifecycle of a task's escrow. `None` → `Funded` → `Released` | `Refunded`; the last two are final.
    enum State {
        None,
        Funded,
        Released,
        Refunded
    }

    /// @notice The payee-agnostic terms a task is funded with, fixed at funding.
    /// @param funder Pays the escrow and receives any refund.
    /// @param amount Total escrowed, in USDC base units (6 decimals); the payee receives `amount - fee`.
    /// @param fee The treasury's share on release; at most `MAX_FEE_BPS` of `amount`.
    /// @param deadline Unix time the task is due.
    /// @param gracePeriod Seconds after `deadline` during which only the Guardian may settle; from
    /// `deadline + gracePeriod` on, release is closed and anyone may return the funds to the funder.
    // Never stored, only passed in calldata and hashed: fields follow the EIP-712 type's order, not slot packing.
    // solhint-disable-next-line gas-struct-packing
    struct Terms {
        address funder;
        uint256 amount;
        uint256 fee;
        uint64 deadline;
        uint32 gracePeriod;
    }

    /// @notice The stored record of a task: one storage slot.
    /// @param termsHash The first 31 bytes of {hashTerms} of the task's terms.
    /// @param state The task's escrow state.
    struct Escrow {
        bytes31 termsHash;
        State state;
    }

    // ================================================================================================================
    // Constants
    // ================================================================================================================

    /// @notice Role allowed to release and refund, and whose signatures authorize {releaseWithSignature}.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Role allowed to pause funding and releases. Unpausing needs the default admin.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Highest platform fee a task can be funded with, in basis points of its amount (20%).
    uint256 public constant MAX_FEE_BPS = 2_000;

    /// @notice Shortest grace period: the Guardian always has at least this long after the deadline to settle.
    uint256 public constant MIN_GRACE_PERIOD = 1 days;

    /// @notice Longest grace period: a funder's money is never held longer than this past the deadline.
    uint256 public constant MAX_GRACE_PERIOD = 30 days;

    /// @notice Latest deadline a task can be funded with, counted from funding. Also catches millisecond timestamps.
    uint256 public constant MAX_TASK_DURATION = 365 days;

    /// @notice EIP-712 type hash of {Terms}.
    bytes32 public constant TERMS_TYPEHASH =
        keccak256("Terms(address funder,uint256 amount,uint256 fee,uint64 deadline,uint32 gracePeriod)");

    /// @notice EIP-712 type hash of a funder's consent to fund a task with given terms, used as the EIP-3009 nonce.
    bytes32 public constant FUNDING_TYPEHASH = keccak256(
        "Funding(bytes32 taskId,Terms terms)Terms(address funder,uint256 amount,uint256 fee,uint64 deadline,uint32 gracePeriod)"
    );

    /// @notice EIP-712 type hash of a Guardian's release authorization. `amount` is the task's escrowed amount.
    bytes32 public constant RELEASE_TYPEHASH =
        keccak256("Release(bytes32 taskId,address payee,uint256 amount,uint256 deadline)");

    uint256 private constant _BPS = 10_000;

    // ================================================================================================================
    // Immutables and storage
    // ================================================================================================================

    // OpenZeppelin names private immutables like private state (`_camelCase`).
    // solhint-disable-next-line immutable-vars-naming
    IERC20 private immutable _usdc;

    address private _treasury;

    mapping(bytes32 taskId => Escrow escrow) private _escrows;

    // ================================================================================================================
    // Events
    // ================================================================================================================

    /// @notice A task was funded; the event carries the full terms needed to settle it.
    /// @param taskId The task.
    /// @param funder Who paid and receives any refund.
    /// @param amount Total escrowed.
    /// @param fee The treasury's share on release.
    /// @param deadline Unix time the task is due.
    /// @param gracePeriod Seconds after the deadline before anyone may return the funds.
    event TaskFunded(
        bytes32 indexed taskId, address indexed funder, uint256 amount, uint256 fee, uint64 deadline, uint32 gracePeriod
    );

    /// @notice A task's escrow was paid out.
    /// @param taskId The task.
    /// @param payee The operator's address, paid `payout`.
    /// @param payout `amount - fee`, paid to the payee.
    /// @param fee Paid to the treasury.
    event TaskReleased(bytes32 indexed taskId, address indexed payee, uint256 payout, uint256 fee);

    /// @notice The Guardian returned a task's escrow to its funder.
    /// @param taskId The task.
    /// @param funder The funder, paid `amount`.
    /// @param amount The whole escrowed amount.
    event TaskRefunded(bytes32 indexed taskId, address indexed funder, uint256 amount);

    /// @notice A task's escrow was returned to its funder after its grace period, without the Guardian.
    /// @param taskId The task.
    /// @param funder The funder, paid `amount`.
    /// @param amount The whole escrowed amount.
    event TaskReclaimed(bytes32 indexed taskId, address indexed funder, uint256 amount);

    /// @notice The treasury receiving platform fees changed.
    /// @param previousTreasury The former treasury.
    /// @param newTreasury The new treasury.
    event TreasuryUpdated(address indexed previousTreasury, address indexed newTreasury);

    /// @notice A funded task's terms were amended by its funder: a higher amount (the difference was pulled from the
    /// funder) and/or a later deadline. The event carries the full new terms, which settlement needs from now on.
    /// @param taskId The task.
    /// @param funder The funder (unchanged).
    /// @param amount The new total escrowed.
    /// @param fee The new fee.
    /// @param deadline The new deadline.
    /// @param gracePeriod The grace period (unchanged).
    event TaskAmended(
        bytes32 indexed taskId, address indexed funder, uint256 amount, uint256 fee, uint64 deadline, uint32 gracePeriod
    );

    /// @notice A bonus was paid straight from `from` to the payee of a released task. Nothing is held in escrow.
    /// @param taskId The released task.
    /// @param from Who paid the tip.
    /// @param payee Who received it.
    /// @param amount The tip, in USDC base units.
    event TaskTipped(bytes32 indexed taskId, address indexed from, address indexed payee, uint256 amount);

    // ================================================================================================================
    // Errors
    // ================================================================================================================

    /// @notice The token address has no code.
    /// @param token The rejected token address.
    error TaskEscrowInvalidToken(address token);

    /// @notice The treasury cannot be the zero address or this contract.
    /// @param treasury The rejected address.
    error TaskEscrowInvalidTreasury(address treasury);

    /// @notice {fund} pulls from the caller, so the caller must be the terms' funder.
    /// @param caller The caller.
    /// @param funder The funder named in the terms.
    error TaskEscrowUnauthorizedFunder(address caller, address funder);

    /// @notice The task id has already been funded (it may since have been settled).
    /// @param taskId The task.
    error TaskEscrowAlreadyFunded(bytes32 taskId);

    /// @notice The escrowed amount must be positive.
    /// @param amount The rejected amount.
    error TaskEscrowInvalidAmount(uint256 amount);

    /// @notice The fee exceeds `MAX_FEE_BPS` of the amount.
    /// @param fee The rejected fee.
    /// @param maxFee The highest fee allowed for this amount.
    error TaskEscrowFeeTooHigh(uint256 fee, uint256 maxFee);

    /// @notice The deadline must be in the future and at most `MAX_TASK_DURATION` away.
    /// @param deadline The rejected deadline.
    error TaskEscrowInvalidDeadline(uint64 deadline);

    /// @notice The grace period must lie within [`MIN_GRACE_PERIOD`, `MAX_GRACE_PERIOD`].
    /// @param gracePeriod The rejected grace period.
    error TaskEscrowInvalidGracePeriod(uint32 gracePeriod);

    /// @notice The token moved a different amount than asked (for example a fee-on-transfer token).
    /// @param expectedBalance This contract's balance had the transfer been exact.
    /// @param actualBalance This contract's balance after the transfer.
    error TaskEscrowBalanceMismatch(uint256 expectedBalance, uint256 actualBalance);

    /// @notice The task has never been funded.
    /// @param taskId The task.
    error TaskEscrowNotFunded(bytes32 taskId);

    /// @notice The task has already been released or refunded.
    /// @param taskId The task.
    /// @param state Its final state.
    error TaskEscrowAlreadySettled(bytes32 taskId, State state);

    /// @notice The terms passed in are not the ones the task was funded with.
    /// @param taskId The task.
    error TaskEscrowTermsMismatch(bytes32 taskId);

    /// @notice The payee cannot be the zero address or this contract.
    /// @param payee The rejected payee.
    error TaskEscrowInvalidPayee(address payee);

    /// @notice The task's grace period is over: it can only be refunded or reclaimed.
    /// @param taskId The task.
    /// @param reclaimableAt When the grace period ended.
    error TaskEscrowReleaseWindowClosed(bytes32 taskId, uint256 reclaimableAt);

    /// @notice The task's grace period is not over yet.
    /// @param taskId The task.
    /// @param reclaimableAt When the funds become reclaimable.
    error TaskEscrowReclaimTooEarly(bytes32 taskId, uint256 reclaimableAt);

    /// @notice A batch's arrays differ in length.
    /// @param taskIds How many task ids were passed.
    /// @param items How many terms (or payees) were passed.
    error TaskEscrowBatchLengthMismatch(uint256 taskIds, uint256 items);

    /// @notice A batch must hold at least one task.
    error TaskEscrowEmptyBatch();

    /// @notice The Guardian's release signature has expired.
    /// @param deadline The signature's deadline.
    error TaskEscrowExpiredSignature(uint256 deadline);

    /// @notice The release signature was not made by a current Guardian (or not over this release).
    /// @param signer The address the signature recovers to.
    error TaskEscrowInvalidSigner(address signer);

    /// @notice An amendment must keep the funder and grace period, may not lower the amount, the payout
    /// (`amount - fee`) or the deadline, and must raise the amount or extend the deadline.
    /// @param taskId The task.
    error TaskEscrowInvalidAmendment(bytes32 taskId);

    /// @notice Tips go only to tasks that were released.
    /// @param taskId The task.
    /// @param state Its state.
    error TaskEscrowNotReleased(bytes32 taskId, State state);

    // ================================================================================================================
    // Constructor
    // ================================================================================================================

    /// @notice Deploys the escrow for one token (USDC).
    /// @param usdc_ The token held in escrow; must support EIP-3009 `receiveWithAuthorization` for the gasless path.
    /// @param treasury_ Receives platform fees.
    /// @param admin The default admin: manages roles, the treasury and unpausing; transferred in two steps.
    /// @param adminDelay Seconds a default admin transfer must wait before it can be accepted.
    /// @param guardian The first holder of `GUARDIAN_ROLE`.
    /// @param pauser The first holder of `PAUSER_ROLE`.
    constructor(IERC20 usdc_, address treasury_, address admin, uint48 adminDelay, address guardian, address pauser)
        AccessControlDefaultAdminRules(adminDelay, admin)
        EIP712("HumanOps TaskEscrow", "1")
    {
        if (address(usdc_).code.length == 0) revert TaskEscrowInvalidToken(address(usdc_));
        _usdc = usdc_;
        _setTreasury(treasury_);
        _grantRole(GUARDIAN_ROLE, guardian);
        _grantRole(PAUSER_ROLE, pauser);
    }

    // ================================================================================================================
    // Funding
    // ================================================================================================================

    /// @notice Funds `taskId` with `terms`, pulling `terms.amount` from the caller (who must have approved this
    /// contract and be `terms.funder`).
    /// @param taskId The task; each id can be funded once.
    /// @param terms The task's terms.
    function fund(bytes32 taskId, Terms calldata terms) external nonReentrant whenNotPaused {
        if (msg.sender != terms.funder) revert TaskEscrowUnauthorizedFunder(msg.sender, terms.funder);
        _recordFunding(taskId, terms);

        uint256 balanceBefore = _usdc.balanceOf(address(this));
        _usdc.safeTransferFrom(msg.sender, address(this), terms.amount);
        _checkReceived(balanceBefore, terms.amount);
    }

    /// @notice Funds several tasks in one transaction, with the same checks as {fund} for each and one {TaskFunded}
    /// per task, pulling the sum of their amounts from the caller at once. All or nothing: if any task cannot be
    /// funded (a funder other than the caller, an id already funded or repeated in the batch, invalid terms) the whole
    /// batch reverts with that task's error and nothing is funded.
    /// @param taskIds The tasks; each id can be funded once.
    /// @param terms Each task's terms, in the same order.
    function fundBatch(bytes32[] calldata taskIds, Terms[] calldata terms) external nonReentrant whenNotPaused {
        uint256 count = _batchSize(taskIds.length, terms.length);
        uint256 total;
        for (uint256 i = 0; i < count; ++i) {
            if (msg.sender != terms[i].funder) revert TaskEscrowUnauthorizedFunder(msg.sender, terms[i].funder);
            _recordFunding(taskIds[i], terms[i]);
            total += terms[i].amount;
        }
        uint256 balanceBefore = _usdc.balanceOf(address(this));
        _usdc.safeTransferFrom(msg.sender, address(this), total);
        _checkReceived(balanceBefore, total);
    }

    /// @notice Funds `taskId` with `terms` from an EIP-3009 `ReceiveWithAuthorization` signed by `terms.funder`, so a
    /// funder holding USDC but no ETH can fund through any relayer. The authorization must be for `terms.amount` to
    /// this contract with nonce {fundingNonce}`(taskId, terms)`: the funder's signature thus covers the task id and
    /// every term, and a relayer cannot change them.
    /// @param taskId The task; each id can be funded once.
    /// @param terms The task's terms.
    /// @param validAfter The authorization's `validAfter`.
    /// @param validBefore The authorization's `validBefore`.
    /// @param signature The funder's signature over the authorization (65-byte ECDSA, or ERC-1271 for contract wallets).
    function fundWithAuthorization(
        bytes32 taskId,
        Terms calldata terms,
        uint256 validAfter,
        uint256 validBefore,
        bytes calldata signature
    ) external nonReentrant whenNotPaused {
        bytes32 termsHash = _recordFunding(taskId, terms);

        uint256 balanceBefore = _usdc.balanceOf(address(this));
        IERC3009(address(_usdc)).receiveWithAuthorization(
            terms.funder,
            address(this),
            terms.amount,
            validAfter,
            validBefore,
            _fundingNonce(taskId, termsHash),
            signature
        );
        _checkReceived(balanceBefore, terms.amount);
    }

    // ================================================================================================================
    // Settlement
    // ================================================================================================================

    /// @notice Pays a funded task out: `terms.amount - terms.fee` to `payee` and `terms.fee` to the treasury. Only
    /// before `terms.deadline + terms.gracePeriod`.
    /// @param taskId The task.
    /// @param terms The terms the task was funded with (from {TaskFunded}).
    /// @param payee The operator's address.
    function release(bytes32 taskId, Terms calldata terms, address payee)
        external
        nonReentrant
        whenNotPaused
        onlyRole(GUARDIAN_ROLE)
    {
        _release(taskId, terms, payee);
    }

    /// @notice Pays several funded tasks out in one transaction, with the same checks as {release} for each and one
    /// {TaskReleased} per task; the treasury receives the sum of their fees in one transfer. All or nothing: if any
    /// task cannot be released (not funded, already settled or repeated in the batch, terms that do not match, an
    /// invalid payee, its release window closed) the whole batch reverts with that task's error and nothing moves.
    /// @param taskIds The tasks.
    /// @param terms The terms each task was funded with (from {TaskFunded}), in the same order.
    /// @param payees Each task's operator address, in the same order.
    function releaseBatch(bytes32[] calldata taskIds, Terms[] calldata terms, address[] calldata payees)
        external
        nonReentrant
        whenNotPaused
        onlyRole(GUARDIAN_ROLE)
    {
        uint256 count = _batchSize(taskIds.length, terms.length);
        if (payees.length != count) revert TaskEscrowBatchLengthMismatch(count, payees.length);
        uint256 fees;
        for (uint256 i = 0; i < count; ++i) {
            fees += _recordRelease(taskIds[i], terms[i], payees[i]);
        }
        for (uint256 i = 0; i < count; ++i) {
            _usdc.safeTransfer(payees[i], terms[i].amount - terms[i].fee);
        }
        if (fees != 0) _usdc.safeTransfer(_treasury, fees);
    }

    /// @notice Same as {release}, authorized by a Guardian's EIP-712 `Release` signature instead of the caller's role,
    /// so anyone may relay it. The signature names the task, payee and amount, and the EIP-712 domain binds it to this
    /// chain and contract; a task settles once, so it cannot be replayed.
    /// @param taskId The task.
    /// @param terms The terms the task was funded with (from {TaskFunded}).
    /// @param payee The operator's address.
    /// @param deadline Last unix time (inclusive) the signature may be used.
    /// @param signature A current Guardian's 65-byte ECDSA signature over
    /// `Release(taskId, payee, terms.amount, deadline)`.
    function releaseWithSignature(
        bytes32 taskId,
        Terms calldata terms,
        address payee,
        uint256 deadline,
        bytes calldata signature
    ) external nonReentrant whenNotPaused {
        if (block.timestamp > deadline) revert TaskEscrowExpiredSignature(deadline);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(RELEASE_TYPEHASH, taskId, payee, terms.amount, deadline)));
        address signer = ECDSA.recoverCalldata(digest, signature);
        if (!hasRole(GUARDIAN_ROLE, signer)) revert TaskEscrowInvalidSigner(signer);
        _release(taskId, terms, payee);
    }

    /// @notice Returns a funded task's whole amount to its funder (cancelled, rejected or expired task). Allowed at
    /// any time before release, and never paused.
    /// @param taskId The task.
    /// @param terms The terms the task was funded with (from {TaskFunded}).
    function refund(bytes32 taskId, Terms calldata terms) external nonReentrant onlyRole(GUARDIAN_ROLE) {
        _requireFunded(taskId, terms);

        _escrows[taskId].state = State.Refunded;
        emit TaskRefunded(taskId, terms.funder, terms.amount);

        _usdc.safeTransfer(terms.funder, terms.amount);
    }

    /// @notice Returns a funded task's whole amount to its funder once `terms.deadline + terms.gracePeriod` has
    /// passed, without the platform. Anyone may call it (the money can only go to the funder, and a funder without ETH
    /// may need someone else to pay the gas); never paused.
    /// @param taskId The task.
    /// @param terms The terms the task was funded with (from {TaskFunded}).
    function reclaim(bytes32 taskId, Terms calldata terms) external nonReentrant {
        _requireFunded(taskId, terms);
        uint256 reclaimableAt = _reclaimableAt(terms);
        if (block.timestamp < reclaimableAt) revert TaskEscrowReclaimTooEarly(taskId, reclaimableAt);

        _escrows[taskId].state = State.Refunded;
        emit TaskReclaimed(taskId, terms.funder, terms.amount);

        _usdc.safeTransfer(terms.funder, terms.amount);
    }

    // ================================================================================================================
    // Amendments and tips
    // ================================================================================================================

    /// @notice The funder raises a funded task's amount and/or extends its deadline, pulling `newTerms.amount -
    /// terms.amount` from the caller (who must be the funder and have approved this contract). The task stays
    /// `Funded` under `newTerms`, so it can still be released, refunded and (after the new deadline + grace)
    /// reclaimed exactly as before; the old terms no longer settle it. Only while release is still open
    /// (before `terms.deadline + terms.gracePeriod`), so it never races a reclaim.
    /// @param taskId The task.
    /// @param terms The task's current terms (from {TaskFunded} or the latest {TaskAmended}).
    /// @param newTerms The new terms: same funder and grace period; amount, payout and deadline not lower, and at
    /// least one of amount and deadline higher; fee and deadline within the same bounds as at funding.
    function amend(bytes32 taskId, Terms calldata terms, Terms calldata newTerms) external nonReentrant whenNotPaused {
        if (msg.sender != terms.funder) revert TaskEscrowUnauthorizedFunder(msg.sender, terms.funder);
        _requireFunded(taskId, terms);
        uint256 reclaimableAt = _reclaimableAt(terms);
        if (block.timestamp >= reclaimableAt) revert TaskEscrowReleaseWindowClosed(taskId, reclaimableAt);
        if (
            newTerms.funder != terms.funder || newTerms.gracePeriod != terms.gracePeriod
                || newTerms.amount < terms.amount || newTerms.deadline < terms.deadline
                || newTerms.fee > newTerms.amount || newTerms.amount - newTerms.fee < terms.amount - terms.fee
                || (newTerms.amount == terms.amount && newTerms.deadline == terms.deadline)
        ) revert TaskEscrowInvalidAmendment(taskId);
        _checkTerms(newTerms);

        _escrows[taskId].termsHash = bytes31(hashTerms(newTerms));
        emit TaskAmended(
            taskId, newTerms.funder, newTerms.amount, newTerms.fee, newTerms.deadline, newTerms.gracePeriod
        );

        uint256 raise = newTerms.amount - terms.amount;
        if (raise != 0) {
            uint256 balanceBefore = _usdc.balanceOf(address(this));
            _usdc.safeTransferFrom(msg.sender, address(this), raise);
            _checkReceived(balanceBefore, raise);
        }
    }

    /// @notice Pays a bonus for a released task straight from the caller to `payee` (the caller must have approved
    /// this contract). Nothing is held: the tip is recorded on chain against the task by {TaskTipped}.
    /// @param taskId A task in state `Released`.
    /// @param payee Who receives the tip (the operator's address); not zero, not this contract.
    /// @param amount The tip; positive.
    function tip(bytes32 taskId, address payee, uint256 amount) external nonReentrant whenNotPaused {
        State state = _escrows[taskId].state;
        if (state != State.Released) revert TaskEscrowNotReleased(taskId, state);
        if (payee == address(0) || payee == address(this)) revert TaskEscrowInvalidPayee(payee);
        if (amount == 0) revert TaskEscrowInvalidAmount(amount);

        emit TaskTipped(taskId, msg.sender, payee, amount);

        _usdc.safeTransferFrom(msg.sender, payee, amount);
    }

    // ================================================================================================================
    // Admin
    // ================================================================================================================

    /// @notice Sets the address that receives platform fees on future releases.
    /// @param newTreasury The new treasury; not zero, not this contract.
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(newTreasury);
    }

    /// @notice Stops new funding and releases in an emergency. Refunds and reclaims keep working.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes funding and releases.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ================================================================================================================
    // Views
    // ================================================================================================================

    /// @notice The token held in escrow.
    /// @return The USDC contract.
    function usdc() external view returns (IERC20) {
        return _usdc;
    }

    /// @notice The address receiving platform fees.
    /// @return The treasury.
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice A task's stored escrow record: its state and the truncated hash of its terms. The terms are in the
    /// task's {TaskFunded} event; check them with {verifyTerms}.
    /// @param taskId The task.
    /// @return The record (zero for a task never funded).
    function escrowOf(bytes32 taskId) external view returns (Escrow memory) {
        return _escrows[taskId];
    }

    /// @notice Whether `terms` are the terms `taskId` was funded with.
    /// @param taskId The task.
    /// @param terms The terms to check, typically read from the task's {TaskFunded} event.
    /// @return True if the task was funded (and possibly since settled) with exactly these terms.
    function verifyTerms(bytes32 taskId, Terms calldata terms) external view returns (bool) {
        Escrow memory escrow = _escrows[taskId];
        return escrow.state != State.None && escrow.termsHash == bytes31(hashTerms(terms));
    }

    /// @notice The EIP-3009 nonce a funder signs to fund `taskId` with `terms` through {fundWithAuthorization}: the
    /// EIP-712 digest of `Funding(taskId, terms)` under this contract's domain.
    /// @param taskId The task.
    /// @param terms The task's terms.
    /// @return The nonce.
    function fundingNonce(bytes32 taskId, Terms calldata terms) external view returns (bytes32) {
        return _fundingNonce(taskId, hashTerms(terms));
    }

    /// @notice The EIP-712 struct hash of `terms`.
    /// @param terms The terms.
    /// @return The hash.
    function hashTerms(Terms calldata terms) public pure returns (bytes32) {
        return keccak256(abi.encode(TERMS_TYPEHASH, terms));
    }

    // ================================================================================================================
    // Internal
    // ================================================================================================================

    function _recordFunding(bytes32 taskId, Terms calldata terms) private returns (bytes32 termsHash) {
        if (_escrows[taskId].state != State.None) revert TaskEscrowAlreadyFunded(taskId);
        _checkTerms(terms);

        termsHash = hashTerms(terms);
        _escrows[taskId] = Escrow({termsHash: bytes31(termsHash), state: State.Funded});
        emit TaskFunded(taskId, terms.funder, terms.amount, terms.fee, terms.deadline, terms.gracePeriod);
    }

    function _release(bytes32 taskId, Terms calldata terms, address payee) private {
        _recordRelease(taskId, terms, payee);
        _usdc.safeTransfer(payee, terms.amount - terms.fee);
        if (terms.fee != 0) _usdc.safeTransfer(_treasury, terms.fee);
    }

    /// @dev A release's checks, effects and event; the caller moves the tokens. Returns the fee owed to the treasury.
    function _recordRelease(bytes32 taskId, Terms calldata terms, address payee) private returns (uint256 fee) {
        if (payee == address(0) || payee == address(this)) revert TaskEscrowInvalidPayee(payee);
        _requireFunded(taskId, terms);
        uint256 reclaimableAt = _reclaimableAt(terms);
        if (block.timestamp >= reclaimableAt) revert TaskEscrowReleaseWindowClosed(taskId, reclaimableAt);

        _escrows[taskId].state = State.Released;
        fee = terms.fee;
        emit TaskReleased(taskId, payee, terms.amount - fee, fee);
    }

    function _batchSize(uint256 taskIds, uint256 items) private pure returns (uint256) {
        if (taskIds != items) revert TaskEscrowBatchLengthMismatch(taskIds, items);
        if (taskIds == 0) revert TaskEscrowEmptyBatch();
        return taskIds;
    }

    function _setTreasury(address newTreasury) private {
        if (newTreasury == address(0) || newTreasury == address(this)) revert TaskEscrowInvalidTreasury(newTreasury);
        address previousTreasury = _treasury;
        _treasury = newTreasury;
        emit TreasuryUpdated(previousTreasury, newTreasury);
    }

    function _checkTerms(Terms calldata terms) private view {
        if (terms.amount == 0) revert TaskEscrowInvalidAmount(terms.amount);
        uint256 maxFee = Math.mulDiv(terms.amount, MAX_FEE_BPS, _BPS);
        if (terms.fee > maxFee) revert TaskEscrowFeeTooHigh(terms.fee, maxFee);
        if (terms.deadline <= block.timestamp || terms.deadline > block.timestamp + MAX_TASK_DURATION) {
            revert TaskEscrowInvalidDeadline(terms.deadline);
        }
        if (terms.gracePeriod < MIN_GRACE_PERIOD || terms.gracePeriod > MAX_GRACE_PERIOD) {
            revert TaskEscrowInvalidGracePeriod(terms.gracePeriod);
        }
    }

    function _requireFunded(bytes32 taskId, Terms calldata terms) private view {
        Escrow memory escrow = _escrows[taskId];
        if (escrow.state == State.None) revert TaskEscrowNotFunded(taskId);
        if (escrow.state != State.Funded) revert TaskEscrowAlreadySettled(taskId, escrow.state);
        if (escrow.termsHash != bytes31(hashTerms(terms))) revert TaskEscrowTermsMismatch(taskId);
    }

    function _checkReceived(uint256 balanceBefore, uint256 amount) private view {
        uint256 balanceAfter = _usdc.balanceOf(address(this));
        if (balanceAfter != balanceBefore + amount) revert TaskEscrowBalanceMismatch(balanceBefore + amount, balanceAfter);
    }

    function _fundingNonce(bytes32 taskId, bytes32 termsHash) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(FUNDING_TYPEHASH, taskId, termsHash)));
    }

    function _reclaimableAt(Terms calldata terms) private pure returns (uint256) {
        return uint256(terms.deadline) + terms.gracePeriod;
    }
}
