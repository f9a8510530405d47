import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { Signer } from "ethers";
import {
  type AnyContract,
  DAY,
  State,
  USDC,
  TERMS_TYPES,
  USDC_TYPES,
  deploy,
  deployEscrow,
  deployEscrowFixture,
  escrowDomain,
  fundingNonce,
  latestTimestamp,
  makeTerms,
  signFunding,
  signRelease,
  taskId,
  tokenDomain,
  type Terms,
} from "./helpers";

const GUARDIAN_ROLE = ethers.id("GUARDIAN_ROLE");
const PAUSER_ROLE = ethers.id("PAUSER_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const TASK = taskId("storefront-photo");

async function fundedFixture() {
  const base = await deployEscrowFixture();
  const terms = await makeTerms(base.funder.address);
  await base.escrow.connect(base.funder).fund(TASK, terms);
  return { ...base, terms };
}

const reclaimableAt = (terms: Terms) => terms.deadline + terms.gracePeriod;

async function relayRelease(
  escrow: AnyContract,
  guardian: Signer,
  id: string,
  terms: Terms,
  payee: string,
  relayer: Signer,
) {
  const deadline = (await latestTimestamp()) + 600n;
  const signature = await signRelease(guardian, escrow, { taskId: id, payee, amount: terms.amount, deadline });
  return escrow.connect(relayer).releaseWithSignature(id, terms, payee, deadline, signature);
}

describe("TaskEscrow", function () {
  describe("deployment", function () {
    it("records the token, the treasury and the roles", async function () {
      const { escrow, usdc, admin, guardian, pauser, treasury } = await loadFixture(deployEscrowFixture);
      expect(await escrow.usdc()).to.equal(await usdc.getAddress());
      expect(await escrow.treasury()).to.equal(treasury.address);
      expect(await escrow.defaultAdmin()).to.equal(admin.address);
      expect(await escrow.defaultAdminDelay()).to.equal(DAY);
      expect(await escrow.hasRole(GUARDIAN_ROLE, guardian.address)).to.equal(true);
      expect(await escrow.hasRole(PAUSER_ROLE, pauser.address)).to.equal(true);
      expect(await escrow.paused()).to.equal(false);
    });

    it("exposes its EIP-712 domain and type hashes", async function () {
      const { escrow } = await loadFixture(deployEscrowFixture);
      const domain = await escrowDomain(escrow);
      const [, name, version, chainId, verifyingContract] = await escrow.eip712Domain();
      expect([name, version, chainId, verifyingContract]).to.deep.equal([
        domain.name,
        domain.version,
        domain.chainId,
        domain.verifyingContract,
      ]);
      expect(await escrow.TERMS_TYPEHASH()).to.equal(
        ethers.id("Terms(address funder,uint256 amount,uint256 fee,uint64 deadline,uint32 gracePeriod)"),
      );
      expect(await escrow.RELEASE_TYPEHASH()).to.equal(
        ethers.id("Release(bytes32 taskId,address payee,uint256 amount,uint256 deadline)"),
      );
      expect(await escrow.FUNDING_TYPEHASH()).to.equal(
        ethers.id(
          "Funding(bytes32 taskId,Terms terms)Terms(address funder,uint256 amount,uint256 fee,uint64 deadline,uint32 gracePeriod)",
        ),
      );
    });

    it("emits TreasuryUpdated from the zero address", async function () {
      const { escrow, treasury } = await loadFixture(deployEscrowFixture);
      await expect(escrow.deploymentTransaction())
        .to.emit(escrow, "TreasuryUpdated")
        .withArgs(ethers.ZeroAddress, treasury.address);
    });

    it("rejects a token without code", async function () {
      const { admin, stranger } = await loadFixture(deployEscrowFixture);
      const factory = await ethers.getContractFactory("TaskEscrow");
      for (const token of [ethers.ZeroAddress, stranger.address]) {
        await expect(factory.deploy(token, admin.address, admin.address, DAY, admin.address, admin.address))
          .to.be.revertedWithCustomError(factory, "TaskEscrowInvalidToken")
          .withArgs(token);
      }
    });

    it("rejects a zero treasury", async function () {
      const { usdc, admin } = await loadFixture(deployEscrowFixture);
      const factory = await ethers.getContractFactory("TaskEscrow");
      await expect(
        factory.deploy(await usdc.getAddress(), ethers.ZeroAddress, admin.address, DAY, admin.address, admin.address),
      )
        .to.be.revertedWithCustomError(factory, "TaskEscrowInvalidTreasury")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("fund", function () {
    it("pulls the amount, records the terms and emits TaskFunded", async function () {
      const { escrow, usdc, funder } = await loadFixture(deployEscrowFixture);
      const terms = await makeTerms(funder.address);
      const tx = escrow.connect(funder).fund(TASK, terms);
      await expect(tx)
        .to.emit(escrow, "TaskFunded")
        .withArgs(TASK, funder.address, terms.amount, terms.fee, terms.deadline, terms.gracePeriod);
      await expect(tx).to.changeTokenBalances(usdc, [funder, escrow], [-terms.amount, terms.amount]);

      const hash = await escrow.hashTerms(terms);
      const [termsHash, state] = await escrow.escrowOf(TASK);
      expect(state).to.equal(State.Funded);
      expect(termsHash).to.equal(hash.slice(0, 64));
      expect(await escrow.verifyTerms(TASK, terms)).to.equal(true);
    });

    it("accepts the boundaries: the highest fee, the shortest and longest grace, the latest deadline", async function () {
      const { escrow, funder } = await loadFixture(deployEscrowFixture);
      const amount = USDC(10);
      const cases: ((now: bigint) => Partial<Terms>)[] = [
        () => ({ amount, fee: (amount * 2_000n) / 10_000n }),
        () => ({ amount: 1n, fee: 0n }),
        () => ({ gracePeriod: BigInt(DAY) }),
        () => ({ gracePeriod: BigInt(30 * DAY) }),
        (now) => ({ deadline: now + BigInt(365 * DAY) }),
      ];
      for (const [i, overrides] of cases.entries()) {
        const now = (await latestTimestamp()) + 10n;
        const terms = await makeTerms(funder.address, overrides(now));
        await time.setNextBlockTimestamp(now);
        await expect(escrow.connect(funder).fund(taskId(`boundary-${i}`), terms)).to.emit(escrow, "TaskFunded");
      }
    });

    it("pulls only from the caller, who must be the funder", async function () {
      const { escrow, funder, stranger } = await loadFixture(deployEscrowFixture);
      const terms = await makeTerms(funder.address);
      await expect(escrow.connect(stranger).fund(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowUnauthorizedFunder")
        .withArgs(stranger.address, funder.address);
    });

    it("funds a task id once, even after it was settled", async function () {
      const { escrow, guardian, funder, terms } = await loadFixture(fundedFixture);
      await expect(escrow.connect(funder).fund(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadyFunded")
        .withArgs(TASK);
      await escrow.connect(guardian).refund(TASK, terms);
      await expect(escrow.connect(funder).fund(TASK, await makeTerms(funder.address)))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadyFunded")
        .withArgs(TASK);
    });

    it("rejects a zero amount", async function () {
      const { escrow, funder } = await loadFixture(deployEscrowFixture);
      const terms = await makeTerms(funder.address, { amount: 0n, fee: 0n });
      await expect(escrow.connect(funder).fund(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidAmount")
        .withArgs(0);
    });

    it("rejects a fee above MAX_FEE_BPS of the amount", async function () {
      const { escrow, funder } = await loadFixture(deployEscrowFixture);
      const amount = USDC(10);
      const maxFee = (amount * (await escrow.MAX_FEE_BPS())) / 10_000n;
      const terms = await makeTerms(funder.address, { amount, fee: maxFee + 1n });
      await expect(escrow.connect(funder).fund(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowFeeTooHigh")
        .withArgs(maxFee + 1n, maxFee);
    });

    it("rejects a deadline that is not in the future or more than MAX_TASK_DURATION away", async function () {
      const { escrow, funder } = await loadFixture(deployEscrowFixture);
      const milliseconds = BigInt(Date.now());
      const cases = [(now: bigint) => now - 100n, (now: bigint) => now, (now: bigint) => now + BigInt(365 * DAY) + 1n];
      for (const deadlineAt of [...cases, () => milliseconds]) {
        const now = (await latestTimestamp()) + 10n;
        const deadline = deadlineAt(now);
        const terms = await makeTerms(funder.address, { deadline });
        await time.setNextBlockTimestamp(now);
        await expect(escrow.connect(funder).fund(TASK, terms))
          .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidDeadline")
          .withArgs(deadline);
      }
    });

    it("rejects a grace period outside [MIN_GRACE_PERIOD, MAX_GRACE_PERIOD]", async function () {
      const { escrow, funder } = await loadFixture(deployEscrowFixture);
      for (const gracePeriod of [0n, BigInt(DAY - 1), BigInt(30 * DAY + 1)]) {
        const terms = await makeTerms(funder.address, { gracePeriod });
        await expect(escrow.connect(funder).fund(TASK, terms))
          .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidGracePeriod")
          .withArgs(gracePeriod);
      }
    });

    it("needs an allowance", async function () {
      const { escrow, usdc, funder } = await loadFixture(deployEscrowFixture);
      await usdc.connect(funder).approve(await escrow.getAddress(), 0);
      const terms = await makeTerms(funder.address);
      await expect(escrow.connect(funder).fund(TASK, terms))
        .to.be.revertedWithCustomError(usdc, "ERC20InsufficientAllowance")
        .withArgs(await escrow.getAddress(), 0, terms.amount);
    });

    it("is stopped by pause", async function () {
      const { escrow, pauser, funder } = await loadFixture(deployEscrowFixture);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(funder).fund(TASK, await makeTerms(funder.address))).to.be.revertedWithCustomError(
        escrow,
        "EnforcedPause",
      );
    });

    it("refuses a fee-on-transfer token", async function () {
      const { admin, funder, treasury } = await loadFixture(deployEscrowFixture);
      const token = await deploy("FeeOnTransferToken");
      const escrow = await deployEscrow(token, { treasury: treasury.address, admin: admin.address });
      await token.mint(funder.address, USDC(100));
      await token.connect(funder).approve(await escrow.getAddress(), USDC(100));
      const terms = await makeTerms(funder.address, { amount: USDC(10) });
      await expect(escrow.connect(funder).fund(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowBalanceMismatch")
        .withArgs(USDC(10), USDC(10) - USDC(10) / 100n);
    });
  });

  describe("fundWithAuthorization", function () {
    async function gaslessFixture() {
      const base = await deployEscrowFixture();
      const [agent, relayer] = base.others;
      await base.usdc.mint(agent.address, USDC(1_000));
      const terms = await makeTerms(agent.address);
      const auth = await signFunding(base.usdc, base.escrow, agent, TASK, terms);
      return { ...base, agent, relayer, terms, auth };
    }

    it("lets anyone relay the funder's ReceiveWithAuthorization", async function () {
      const { escrow, usdc, agent, relayer, terms, auth } = await loadFixture(gaslessFixture);
      const nonce = await fundingNonce(escrow, TASK, terms);
      expect(await escrow.fundingNonce(TASK, terms)).to.equal(nonce);

      const tx = escrow
        .connect(relayer)
        .fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature);
      await expect(tx)
        .to.emit(escrow, "TaskFunded")
        .withArgs(TASK, agent.address, terms.amount, terms.fee, terms.deadline, terms.gracePeriod);
      await expect(tx).to.emit(usdc, "AuthorizationUsed").withArgs(agent.address, nonce);
      await expect(tx).to.changeTokenBalances(usdc, [agent, escrow, relayer], [-terms.amount, terms.amount, 0]);
      expect(await escrow.verifyTerms(TASK, terms)).to.equal(true);
    });

    it("binds every term and the task id: a relayer cannot change any of them", async function () {
      const { escrow, usdc, relayer, stranger, terms, auth } = await loadFixture(gaslessFixture);
      const altered: Terms[] = [
        { ...terms, amount: terms.amount + 1n },
        { ...terms, fee: terms.fee + 1n },
        { ...terms, deadline: terms.deadline + 1n },
        { ...terms, gracePeriod: terms.gracePeriod + 1n },
        { ...terms, funder: stranger.address },
      ];
      for (const other of altered) {
        await expect(
          escrow.connect(relayer).fundWithAuthorization(TASK, other, auth.validAfter, auth.validBefore, auth.signature),
        ).to.be.revertedWithCustomError(usdc, "TestUSDCInvalidSignature");
      }
      await expect(
        escrow
          .connect(relayer)
          .fundWithAuthorization(taskId("other"), terms, auth.validAfter, auth.validBefore, auth.signature),
      ).to.be.revertedWithCustomError(usdc, "TestUSDCInvalidSignature");
    });

    it("rejects an authorization whose nonce is not the funding nonce", async function () {
      const { escrow, usdc, agent, relayer, terms } = await loadFixture(gaslessFixture);
      const auth = await signFunding(usdc, escrow, agent, TASK, terms, { nonce: ethers.id("any nonce") });
      await expect(
        escrow.connect(relayer).fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature),
      ).to.be.revertedWithCustomError(usdc, "TestUSDCInvalidSignature");
    });

    it("cannot be replayed, nor used on another escrow contract", async function () {
      const { escrow, usdc, admin, treasury, relayer, terms, auth } = await loadFixture(gaslessFixture);
      await escrow.connect(relayer).fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature);
      await expect(
        escrow.connect(relayer).fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature),
      )
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadyFunded")
        .withArgs(TASK);

      const other = await deployEscrow(usdc, { treasury: treasury.address, admin: admin.address });
      await expect(
        other.connect(relayer).fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature),
      ).to.be.revertedWithCustomError(usdc, "TestUSDCInvalidSignature");
    });

    it("honours the authorization's validity window and cancellation", async function () {
      const { escrow, usdc, agent, relayer, terms } = await loadFixture(gaslessFixture);
      const now = await latestTimestamp();
      const expired = await signFunding(usdc, escrow, agent, TASK, terms, { validBefore: now + 10n });
      await time.increaseTo(now + 10n);
      await expect(
        escrow
          .connect(relayer)
          .fundWithAuthorization(TASK, terms, expired.validAfter, expired.validBefore, expired.signature),
      )
        .to.be.revertedWithCustomError(usdc, "TestUSDCAuthorizationNotValidNow")
        .withArgs(expired.validAfter, expired.validBefore);

      const nonce = await escrow.fundingNonce(TASK, terms);
      const cancel = await agent.signTypedData(await tokenDomain(usdc), USDC_TYPES.CancelAuthorization, {
        authorizer: agent.address,
        nonce,
      });
      await usdc.cancelAuthorization(agent.address, nonce, cancel);
      const auth = await signFunding(usdc, escrow, agent, TASK, terms);
      await expect(
        escrow.connect(relayer).fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature),
      )
        .to.be.revertedWithCustomError(usdc, "TestUSDCAuthorizationUsed")
        .withArgs(agent.address, nonce);
    });

    it("checks the terms before using the authorization", async function () {
      const { escrow, usdc, agent, relayer } = await loadFixture(gaslessFixture);
      const terms = await makeTerms(agent.address, { gracePeriod: 0n });
      const auth = await signFunding(usdc, escrow, agent, TASK, terms);
      await expect(
        escrow.connect(relayer).fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature),
      )
        .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidGracePeriod")
        .withArgs(0);
    });

    it("is stopped by pause", async function () {
      const { escrow, pauser, relayer, terms, auth } = await loadFixture(gaslessFixture);
      await escrow.connect(pauser).pause();
      await expect(
        escrow.connect(relayer).fundWithAuthorization(TASK, terms, auth.validAfter, auth.validBefore, auth.signature),
      ).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    });
  });

  describe("release", function () {
    it("pays the payee amount - fee and the treasury the fee", async function () {
      const { escrow, usdc, guardian, operator, treasury, terms } = await loadFixture(fundedFixture);
      const payout = terms.amount - terms.fee;
      const tx = escrow.connect(guardian).release(TASK, terms, operator.address);
      await expect(tx).to.emit(escrow, "TaskReleased").withArgs(TASK, operator.address, payout, terms.fee);
      await expect(tx).to.changeTokenBalances(
        usdc,
        [escrow, operator, treasury],
        [-terms.amount, payout, terms.fee],
      );
      const [, state] = await escrow.escrowOf(TASK);
      expect(state).to.equal(State.Released);
      expect(await escrow.verifyTerms(TASK, terms)).to.equal(true);
    });

    it("makes no treasury transfer when the fee is zero", async function () {
      const { escrow, usdc, guardian, funder, operator, treasury } = await loadFixture(deployEscrowFixture);
      const terms = await makeTerms(funder.address, { fee: 0n });
      await escrow.connect(funder).fund(TASK, terms);
      const tx = escrow.connect(guardian).release(TASK, terms, operator.address);
      await expect(tx).to.changeTokenBalances(usdc, [operator, treasury], [terms.amount, 0]);
      await expect(tx).to.emit(usdc, "Transfer").withArgs(await escrow.getAddress(), operator.address, terms.amount);
    });

    it("is for the Guardian only", async function () {
      const { escrow, funder, operator, terms } = await loadFixture(fundedFixture);
      for (const caller of [funder, operator]) {
        await expect(escrow.connect(caller).release(TASK, terms, operator.address))
          .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, GUARDIAN_ROLE);
      }
    });

    it("rejects the zero address and the escrow itself as payee", async function () {
      const { escrow, guardian, terms } = await loadFixture(fundedFixture);
      for (const payee of [ethers.ZeroAddress, await escrow.getAddress()]) {
        await expect(escrow.connect(guardian).release(TASK, terms, payee))
          .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidPayee")
          .withArgs(payee);
      }
    });

    it("rejects a task never funded", async function () {
      const { escrow, guardian, operator, terms } = await loadFixture(fundedFixture);
      const unknown = taskId("unknown");
      await expect(escrow.connect(guardian).release(unknown, terms, operator.address))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowNotFunded")
        .withArgs(unknown);
    });

    it("settles once: no double release, no release after refund", async function () {
      const { escrow, guardian, funder, operator, terms } = await loadFixture(fundedFixture);
      await escrow.connect(guardian).release(TASK, terms, operator.address);
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(TASK, State.Released);

      const refunded = taskId("refunded");
      const other = await makeTerms(funder.address);
      await escrow.connect(funder).fund(refunded, other);
      await escrow.connect(guardian).refund(refunded, other);
      await expect(escrow.connect(guardian).release(refunded, other, operator.address))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(refunded, State.Refunded);
    });

    it("rejects terms other than the funded ones", async function () {
      const { escrow, guardian, operator, stranger, terms } = await loadFixture(fundedFixture);
      const altered: Terms[] = [
        { ...terms, funder: stranger.address },
        { ...terms, amount: terms.amount + 1n },
        { ...terms, fee: terms.fee - 1n },
        { ...terms, deadline: terms.deadline + 1n },
        { ...terms, gracePeriod: terms.gracePeriod + 1n },
      ];
      for (const other of altered) {
        await expect(escrow.connect(guardian).release(TASK, other, operator.address))
          .to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch")
          .withArgs(TASK);
      }
    });

    it("closes at deadline + grace period", async function () {
      const { escrow, guardian, operator, terms } = await loadFixture(fundedFixture);
      await time.setNextBlockTimestamp(reclaimableAt(terms));
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowReleaseWindowClosed")
        .withArgs(TASK, reclaimableAt(terms));
    });

    it("is open until the last second of the grace period", async function () {
      const { escrow, guardian, operator, terms } = await loadFixture(fundedFixture);
      await time.setNextBlockTimestamp(reclaimableAt(terms) - 1n);
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address)).to.emit(escrow, "TaskReleased");
    });

    it("is stopped by pause", async function () {
      const { escrow, guardian, pauser, operator, terms } = await loadFixture(fundedFixture);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address)).to.be.revertedWithCustomError(
        escrow,
        "EnforcedPause",
      );
    });

    it("leaves the escrow funded when the payee is blacklisted, so it can go to another address", async function () {
      const { escrow, usdc, admin, guardian, operator, others, terms } = await loadFixture(fundedFixture);
      await usdc.connect(admin).blacklist(operator.address);
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address))
        .to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted")
        .withArgs(operator.address);
      const [, state] = await escrow.escrowOf(TASK);
      expect(state).to.equal(State.Funded);

      const otherWallet = others[0];
      await expect(escrow.connect(guardian).release(TASK, terms, otherWallet.address)).to.changeTokenBalance(
        usdc,
        otherWallet,
        terms.amount - terms.fee,
      );
    });

    it("recovers from a blacklisted treasury once the admin replaces it", async function () {
      const { escrow, usdc, admin, guardian, operator, treasury, others, terms } = await loadFixture(fundedFixture);
      await usdc.connect(admin).blacklist(treasury.address);
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address))
        .to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted")
        .withArgs(treasury.address);
      await escrow.connect(admin).setTreasury(others[0].address);
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address)).to.changeTokenBalance(
        usdc,
        others[0],
        terms.fee,
      );
    });
  });

  describe("releaseWithSignature", function () {
    it("pays out on a Guardian signature relayed by anyone", async function () {
      const { escrow, usdc, guardian, operator, stranger, treasury, terms } = await loadFixture(fundedFixture);
      const tx = relayRelease(escrow, guardian, TASK, terms, operator.address, stranger);
      await expect(tx)
        .to.emit(escrow, "TaskReleased")
        .withArgs(TASK, operator.address, terms.amount - terms.fee, terms.fee);
      await expect(tx).to.changeTokenBalances(
        usdc,
        [escrow, operator, treasury, stranger],
        [-terms.amount, terms.amount - terms.fee, terms.fee, 0],
      );
    });

    it("accepts a signature until its deadline, inclusive, and not after", async function () {
      const { escrow, guardian, operator, stranger, terms } = await loadFixture(fundedFixture);
      const deadline = (await latestTimestamp()) + 100n;
      const release = { taskId: TASK, payee: operator.address, amount: terms.amount, deadline };
      const signature = await signRelease(guardian, escrow, release);

      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(escrow.connect(stranger).releaseWithSignature(TASK, terms, operator.address, deadline, signature))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowExpiredSignature")
        .withArgs(deadline);

      const later = deadline + 100n;
      const fresh = await signRelease(guardian, escrow, { ...release, deadline: later });
      await time.setNextBlockTimestamp(later);
      await expect(
        escrow.connect(stranger).releaseWithSignature(TASK, terms, operator.address, later, fresh),
      ).to.emit(escrow, "TaskReleased");
    });

    it("rejects a signer without the Guardian role, including a revoked Guardian", async function () {
      const { escrow, admin, guardian, operator, stranger, terms } = await loadFixture(fundedFixture);
      await expect(relayRelease(escrow, stranger, TASK, terms, operator.address, stranger))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidSigner")
        .withArgs(stranger.address);

      await escrow.connect(admin).revokeRole(GUARDIAN_ROLE, guardian.address);
      await expect(relayRelease(escrow, guardian, TASK, terms, operator.address, stranger))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidSigner")
        .withArgs(guardian.address);
    });

    describe("a signature cannot be replayed", function () {
      async function signedFixture() {
        const base = await fundedFixture();
        const deadline = (await latestTimestamp()) + 3600n;
        const release = { taskId: TASK, payee: base.operator.address, amount: base.terms.amount, deadline };
        return { ...base, release, signature: await signRelease(base.guardian, base.escrow, release) };
      }

      it("on another task", async function () {
        const { escrow, funder, stranger, operator, release, signature } = await loadFixture(signedFixture);
        const other = taskId("other");
        const terms = await makeTerms(funder.address);
        await escrow.connect(funder).fund(other, terms);
        await expect(
          escrow.connect(stranger).releaseWithSignature(other, terms, operator.address, release.deadline, signature),
        )
          .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidSigner")
          .withArgs(anyValue);
      });

      it("for another payee or another deadline", async function () {
        const { escrow, stranger, terms, release, signature } = await loadFixture(signedFixture);
        await expect(
          escrow.connect(stranger).releaseWithSignature(TASK, terms, stranger.address, release.deadline, signature),
        ).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidSigner");
        await expect(
          escrow
            .connect(stranger)
            .releaseWithSignature(TASK, terms, release.payee, release.deadline + 1n, signature),
        ).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidSigner");
      });

      it("signed for another chain id", async function () {
        const { escrow, guardian, stranger, terms, release } = await loadFixture(signedFixture);
        const baseMainnet = { ...(await escrowDomain(escrow)), chainId: 8453n };
        const signature = await signRelease(guardian, escrow, release, baseMainnet);
        await expect(
          escrow.connect(stranger).releaseWithSignature(TASK, terms, release.payee, release.deadline, signature),
        ).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidSigner");
      });

      it("on another escrow contract with the same Guardian and task id", async function () {
        const { escrow, usdc, admin, guardian, treasury, funder, stranger, terms, release, signature } =
          await loadFixture(signedFixture);
        const other = await deployEscrow(usdc, {
          treasury: treasury.address,
          admin: admin.address,
          guardian: guardian.address,
        });
        await usdc.connect(funder).approve(await other.getAddress(), terms.amount);
        await other.connect(funder).fund(TASK, terms);
        await expect(
          other.connect(stranger).releaseWithSignature(TASK, terms, release.payee, release.deadline, signature),
        ).to.be.revertedWithCustomError(other, "TaskEscrowInvalidSigner");
        // The signature is good for the escrow it names, and only once.
        await escrow.connect(stranger).releaseWithSignature(TASK, terms, release.payee, release.deadline, signature);
        await expect(
          escrow.connect(stranger).releaseWithSignature(TASK, terms, release.payee, release.deadline, signature),
        )
          .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
          .withArgs(TASK, State.Released);
      });
    });

    it("rejects a malformed signature", async function () {
      const { escrow, operator, stranger, terms } = await loadFixture(fundedFixture);
      const deadline = (await latestTimestamp()) + 100n;
      await expect(escrow.connect(stranger).releaseWithSignature(TASK, terms, operator.address, deadline, "0x1234"))
        .to.be.revertedWithCustomError(escrow, "ECDSAInvalidSignatureLength")
        .withArgs(2);
    });

    it("applies the same checks as release", async function () {
      const { escrow, guardian, operator, stranger, terms } = await loadFixture(fundedFixture);
      await expect(relayRelease(escrow, guardian, TASK, { ...terms, fee: 0n }, operator.address, stranger))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch")
        .withArgs(TASK);
      await expect(relayRelease(escrow, guardian, TASK, terms, ethers.ZeroAddress, stranger))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidPayee")
        .withArgs(ethers.ZeroAddress);
    });

    it("is stopped by pause", async function () {
      const { escrow, guardian, pauser, operator, stranger, terms } = await loadFixture(fundedFixture);
      await escrow.connect(pauser).pause();
      await expect(
        relayRelease(escrow, guardian, TASK, terms, operator.address, stranger),
      ).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    });
  });

  describe("refund", function () {
    it("returns the whole amount to the funder", async function () {
      const { escrow, usdc, guardian, funder, treasury, terms } = await loadFixture(fundedFixture);
      const tx = escrow.connect(guardian).refund(TASK, terms);
      await expect(tx).to.emit(escrow, "TaskRefunded").withArgs(TASK, funder.address, terms.amount);
      await expect(tx).to.changeTokenBalances(usdc, [escrow, funder, treasury], [-terms.amount, terms.amount, 0]);
      const [, state] = await escrow.escrowOf(TASK);
      expect(state).to.equal(State.Refunded);
    });

    it("works while paused and after the grace period", async function () {
      const { escrow, guardian, pauser, terms } = await loadFixture(fundedFixture);
      await escrow.connect(pauser).pause();
      await time.increaseTo(reclaimableAt(terms) + 1000n);
      await expect(escrow.connect(guardian).refund(TASK, terms)).to.emit(escrow, "TaskRefunded");
    });

    it("is for the Guardian only", async function () {
      const { escrow, funder, terms } = await loadFixture(fundedFixture);
      await expect(escrow.connect(funder).refund(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(funder.address, GUARDIAN_ROLE);
    });

    it("settles once, matches the terms, needs a funded task", async function () {
      const { escrow, guardian, operator, funder, terms } = await loadFixture(fundedFixture);
      await expect(escrow.connect(guardian).refund(TASK, { ...terms, amount: terms.amount * 2n }))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch")
        .withArgs(TASK);
      await expect(escrow.connect(guardian).refund(taskId("unknown"), terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowNotFunded")
        .withArgs(taskId("unknown"));

      await escrow.connect(guardian).refund(TASK, terms);
      await expect(escrow.connect(guardian).refund(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(TASK, State.Refunded);

      const released = taskId("released");
      const other = await makeTerms(funder.address);
      await escrow.connect(funder).fund(released, other);
      await escrow.connect(guardian).release(released, other, operator.address);
      await expect(escrow.connect(guardian).refund(released, other))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(released, State.Released);
    });
  });

  describe("reclaim", function () {
    it("is closed before deadline + grace period", async function () {
      const { escrow, funder, terms } = await loadFixture(fundedFixture);
      await time.setNextBlockTimestamp(reclaimableAt(terms) - 1n);
      await expect(escrow.connect(funder).reclaim(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowReclaimTooEarly")
        .withArgs(TASK, reclaimableAt(terms));
    });

    it("returns the funds to the funder from deadline + grace period on, without the platform", async function () {
      const { escrow, usdc, funder, terms } = await loadFixture(fundedFixture);
      await time.setNextBlockTimestamp(reclaimableAt(terms));
      const tx = escrow.connect(funder).reclaim(TASK, terms);
      await expect(tx).to.emit(escrow, "TaskReclaimed").withArgs(TASK, funder.address, terms.amount);
      await expect(tx).to.changeTokenBalances(usdc, [escrow, funder], [-terms.amount, terms.amount]);
      const [, state] = await escrow.escrowOf(TASK);
      expect(state).to.equal(State.Refunded);
    });

    it("may be triggered by anyone, still paying the funder, even while paused", async function () {
      const { escrow, usdc, pauser, funder, stranger, terms } = await loadFixture(fundedFixture);
      await escrow.connect(pauser).pause();
      await time.increaseTo(reclaimableAt(terms));
      await expect(escrow.connect(stranger).reclaim(TASK, terms)).to.changeTokenBalances(
        usdc,
        [funder, stranger],
        [terms.amount, 0],
      );
    });

    it("settles once, matches the terms, needs a funded task", async function () {
      const { escrow, guardian, funder, operator, terms } = await loadFixture(fundedFixture);
      const released = taskId("released");
      const other = await makeTerms(funder.address);
      await escrow.connect(funder).fund(released, other);
      await escrow.connect(guardian).release(released, other, operator.address);
      await time.increaseTo(reclaimableAt(other) + 1n);

      await expect(escrow.connect(funder).reclaim(released, other))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(released, State.Released);
      await expect(escrow.connect(funder).reclaim(TASK, { ...terms, deadline: terms.deadline - 1n }))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch")
        .withArgs(TASK);
      await expect(escrow.connect(funder).reclaim(taskId("unknown"), terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowNotFunded")
        .withArgs(taskId("unknown"));
      await escrow.connect(funder).reclaim(TASK, terms);
      await expect(escrow.connect(funder).reclaim(TASK, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(TASK, State.Refunded);
    });
  });

  describe("admin", function () {
    it("lets only the admin change the treasury, never to zero or the escrow", async function () {
      const { escrow, admin, guardian, stranger } = await loadFixture(deployEscrowFixture);
      await expect(escrow.connect(guardian).setTreasury(stranger.address))
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(guardian.address, DEFAULT_ADMIN_ROLE);
      for (const bad of [ethers.ZeroAddress, await escrow.getAddress()]) {
        await expect(escrow.connect(admin).setTreasury(bad))
          .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidTreasury")
          .withArgs(bad);
      }
      const previous = await escrow.treasury();
      await expect(escrow.connect(admin).setTreasury(stranger.address))
        .to.emit(escrow, "TreasuryUpdated")
        .withArgs(previous, stranger.address);
      expect(await escrow.treasury()).to.equal(stranger.address);
    });

    it("lets the pauser pause and only the admin unpause", async function () {
      const { escrow, admin, pauser, stranger } = await loadFixture(deployEscrowFixture);
      await expect(escrow.connect(stranger).pause())
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, PAUSER_ROLE);
      await expect(escrow.connect(pauser).pause()).to.emit(escrow, "Paused").withArgs(pauser.address);
      expect(await escrow.paused()).to.equal(true);

      await expect(escrow.connect(pauser).unpause())
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(pauser.address, DEFAULT_ADMIN_ROLE);
      await expect(escrow.connect(admin).unpause()).to.emit(escrow, "Unpaused").withArgs(admin.address);
      expect(await escrow.paused()).to.equal(false);
    });

    it("transfers the default admin in two steps, after the delay", async function () {
      const { escrow, admin, stranger } = await loadFixture(deployEscrowFixture);
      await expect(escrow.connect(admin).grantRole(DEFAULT_ADMIN_ROLE, stranger.address)).to.be.revertedWithCustomError(
        escrow,
        "AccessControlEnforcedDefaultAdminRules",
      );
      await escrow.connect(admin).beginDefaultAdminTransfer(stranger.address);
      const [, schedule] = await escrow.pendingDefaultAdmin();
      await expect(escrow.connect(stranger).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(escrow, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await time.increaseTo(schedule + 1n);
      await escrow.connect(stranger).acceptDefaultAdminTransfer();
      expect(await escrow.defaultAdmin()).to.equal(stranger.address);
      expect(await escrow.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(false);
    });

    it("lets the admin appoint and remove Guardians", async function () {
      const { escrow, admin, guardian, operator, stranger, terms } = await loadFixture(fundedFixture);
      await escrow.connect(admin).revokeRole(GUARDIAN_ROLE, guardian.address);
      await expect(escrow.connect(guardian).release(TASK, terms, operator.address)).to.be.revertedWithCustomError(
        escrow,
        "AccessControlUnauthorizedAccount",
      );
      await escrow.connect(admin).grantRole(GUARDIAN_ROLE, stranger.address);
      await expect(escrow.connect(stranger).release(TASK, terms, operator.address)).to.emit(escrow, "TaskReleased");
    });
  });

  describe("views", function () {
    it("report an unknown task as empty, and verify terms only against the funded ones", async function () {
      const { escrow, guardian, stranger, terms } = await loadFixture(fundedFixture);
      const [termsHash, state] = await escrow.escrowOf(taskId("unknown"));
      expect(termsHash).to.equal(ethers.zeroPadValue("0x", 31));
      expect(state).to.equal(State.None);
      expect(await escrow.verifyTerms(taskId("unknown"), terms)).to.equal(false);
      expect(await escrow.verifyTerms(TASK, { ...terms, funder: stranger.address })).to.equal(false);
      await escrow.connect(guardian).refund(TASK, terms);
      expect(await escrow.verifyTerms(TASK, terms)).to.equal(true);
    });

    it("hash terms as the EIP-712 struct hash, and derive the funding nonce from the task id and terms", async function () {
      const { escrow, terms } = await loadFixture(fundedFixture);
      expect(await escrow.hashTerms(terms)).to.equal(ethers.TypedDataEncoder.hashStruct("Terms", TERMS_TYPES, terms));
      expect(await escrow.fundingNonce(TASK, terms)).to.equal(await fundingNonce(escrow, TASK, terms));
      expect(await escrow.fundingNonce(taskId("other"), terms)).to.not.equal(await escrow.fundingNonce(TASK, terms));
    });
  });

  describe("reentrancy", function () {
    // A hostile token calls back into the escrow from inside a transfer; every fund-moving entry point must refuse.
    async function reentrantFixture() {
      const [admin, treasury, funder, operator] = await ethers.getSigners();
      const token = await deploy("ReentrantToken");
      const escrow = await deployEscrow(token, { treasury: treasury.address, admin: admin.address });
      await token.mint(funder.address, USDC(1_000));
      await token.connect(funder).approve(await escrow.getAddress(), USDC(1_000));
      const terms = await makeTerms(funder.address);
      await escrow.connect(funder).fund(TASK, terms);
      return { token, escrow, admin, funder, operator, terms };
    }

    it("blocks a callback into any fund-moving function", async function () {
      const { token, escrow, admin, funder, operator, terms } = await loadFixture(reentrantFixture);
      const callbacks = [
        escrow.interface.encodeFunctionData("fund", [taskId("inner"), terms]),
        escrow.interface.encodeFunctionData("fundWithAuthorization", [taskId("inner"), terms, 0, 0, "0x"]),
        escrow.interface.encodeFunctionData("release", [TASK, terms, operator.address]),
        escrow.interface.encodeFunctionData("releaseWithSignature", [TASK, terms, operator.address, 0, "0x"]),
        escrow.interface.encodeFunctionData("refund", [TASK, terms]),
        escrow.interface.encodeFunctionData("reclaim", [TASK, terms]),
      ];
      for (const [i, callback] of callbacks.entries()) {
        await token.setCallback(await escrow.getAddress(), callback);
        await expect(
          escrow.connect(funder).fund(taskId(`outer-${i}`), await makeTerms(funder.address)),
        ).to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");
      }
      await token.setCallback(await escrow.getAddress(), callbacks[4]);
      await expect(escrow.connect(admin).release(TASK, terms, operator.address)).to.be.revertedWithCustomError(
        escrow,
        "ReentrancyGuardReentrantCall",
      );
    });
  });
});
