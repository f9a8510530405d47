import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, State, USDC, deploy, deployEscrow, deployEscrowFixture, makeTerms, taskId, type Terms } from "./helpers";

const TASK = taskId("amended-task");

async function fundedFixture() {
  const base = await deployEscrowFixture();
  const terms = await makeTerms(base.funder.address);
  await base.escrow.connect(base.funder).fund(TASK, terms);
  return { ...base, terms };
}

/** The terms after a raise of the reward (payout) by `extra` and its fee by `extraFee`, and the deadline by `later` seconds. */
function raised(terms: Terms, extra: bigint, extraFee = 0n, later = 0n): Terms {
  return { ...terms, amount: terms.amount + extra + extraFee, fee: terms.fee + extraFee, deadline: terms.deadline + later };
}

describe("TaskEscrow amendments and tips", function () {
  describe("amend", function () {
    it("raises the amount: pulls the difference from the funder, emits the full new terms, and only the new terms settle", async function () {
      const { escrow, usdc, funder, guardian, operator, treasury, terms } = await loadFixture(fundedFixture);
      const next = raised(terms, USDC(5), USDC(1));
      const tx = escrow.connect(funder).amend(TASK, terms, next);
      await expect(tx)
        .to.emit(escrow, "TaskAmended")
        .withArgs(TASK, funder.address, next.amount, next.fee, next.deadline, next.gracePeriod);
      await expect(tx).to.changeTokenBalances(usdc, [funder, escrow], [-USDC(6), USDC(6)]);
      expect(await escrow.verifyTerms(TASK, next)).to.equal(true);
      expect(await escrow.verifyTerms(TASK, terms)).to.equal(false);
      expect((await escrow.escrowOf(TASK)).state).to.equal(State.Funded);

      await expect(escrow.connect(guardian).release(TASK, terms, operator.address)).to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch");
      const release = escrow.connect(guardian).release(TASK, next, operator.address);
      await expect(release).to.changeTokenBalances(usdc, [escrow, operator, treasury], [-next.amount, next.amount - next.fee, next.fee]);
    });

    it("keeps an amended escrow refundable by the Guardian for the whole new amount", async function () {
      const { escrow, usdc, funder, guardian, terms } = await loadFixture(fundedFixture);
      const next = raised(terms, USDC(3), 0n, BigInt(2 * DAY));
      await escrow.connect(funder).amend(TASK, terms, next);
      await expect(escrow.connect(guardian).refund(TASK, terms)).to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch");
      await expect(escrow.connect(guardian).refund(TASK, next)).to.changeTokenBalances(usdc, [escrow, funder], [-next.amount, next.amount]);
    });

    it("extends the deadline without moving money: release stays open past the old deadline + grace, reclaim waits for the new one", async function () {
      const { escrow, usdc, funder, guardian, operator, stranger, terms } = await loadFixture(fundedFixture);
      const next = raised(terms, 0n, 0n, BigInt(10 * DAY));
      await expect(escrow.connect(funder).amend(TASK, terms, next)).to.changeTokenBalances(usdc, [funder, escrow], [0n, 0n]);

      await time.increaseTo(terms.deadline + terms.gracePeriod + 1n);
      await expect(escrow.connect(stranger).reclaim(TASK, next))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowReclaimTooEarly")
        .withArgs(TASK, next.deadline + next.gracePeriod);
      await expect(escrow.connect(guardian).release(TASK, next, operator.address)).to.emit(escrow, "TaskReleased");
    });

    it("leaves an amended escrow reclaimable by anyone after the new deadline + grace", async function () {
      const { escrow, usdc, funder, stranger, terms } = await loadFixture(fundedFixture);
      const next = raised(terms, USDC(2), 0n, BigInt(DAY));
      await escrow.connect(funder).amend(TASK, terms, next);
      await time.increaseTo(next.deadline + next.gracePeriod);
      await expect(escrow.connect(stranger).reclaim(TASK, next)).to.changeTokenBalances(usdc, [escrow, funder], [-next.amount, next.amount]);
    });

    it("can be amended again from the amended terms", async function () {
      const { escrow, funder, terms } = await loadFixture(fundedFixture);
      const once = raised(terms, USDC(1));
      await escrow.connect(funder).amend(TASK, terms, once);
      await expect(escrow.connect(funder).amend(TASK, terms, raised(once, USDC(1)))).to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch");
      const twice = raised(once, USDC(1), 0n, 60n);
      await escrow.connect(funder).amend(TASK, once, twice);
      expect(await escrow.verifyTerms(TASK, twice)).to.equal(true);
    });

    it("is for the funder only", async function () {
      const { escrow, guardian, stranger, terms } = await loadFixture(fundedFixture);
      for (const caller of [guardian, stranger]) {
        await expect(escrow.connect(caller).amend(TASK, terms, raised(terms, USDC(1))))
          .to.be.revertedWithCustomError(escrow, "TaskEscrowUnauthorizedFunder")
          .withArgs(caller.address, terms.funder);
      }
    });

    it("refuses to lower, keep or reshape the terms", async function () {
      const { escrow, funder, stranger, terms } = await loadFixture(fundedFixture);
      const refused: Terms[] = [
        terms, // nothing changes
        { ...terms, amount: terms.amount - 1n }, // lower amount
        { ...terms, deadline: terms.deadline - 1n, amount: terms.amount + 1n }, // earlier deadline
        { ...terms, amount: terms.amount + 1n, fee: terms.fee + 2n }, // the payout drops
        { ...terms, amount: terms.amount + 1n, funder: stranger.address }, // another funder
        { ...terms, amount: terms.amount + 1n, gracePeriod: terms.gracePeriod + 1n }, // another grace period
      ];
      for (const next of refused) {
        await expect(escrow.connect(funder).amend(TASK, terms, next)).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidAmendment").withArgs(TASK);
      }
    });

    it("applies the funding bounds to the new terms (fee cap, deadline horizon)", async function () {
      const { escrow, funder, terms } = await loadFixture(fundedFixture);
      // Raising the fee past 20% while the payout stays: amount + 10, fee + 10.
      await expect(escrow.connect(funder).amend(TASK, terms, raised(terms, 0n, USDC(10)))).to.be.revertedWithCustomError(escrow, "TaskEscrowFeeTooHigh");
      const far = BigInt(366 * DAY);
      await expect(escrow.connect(funder).amend(TASK, terms, raised(terms, 0n, 0n, far))).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidDeadline");
    });

    it("refuses a task not funded, settled, or past its release window", async function () {
      const { escrow, funder, guardian, terms } = await loadFixture(fundedFixture);
      const other = taskId("never-funded");
      await expect(escrow.connect(funder).amend(other, terms, raised(terms, 1n))).to.be.revertedWithCustomError(escrow, "TaskEscrowNotFunded");

      await time.increaseTo(terms.deadline + terms.gracePeriod);
      await expect(escrow.connect(funder).amend(TASK, terms, raised(terms, 1n, 0n, BigInt(DAY))))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowReleaseWindowClosed")
        .withArgs(TASK, terms.deadline + terms.gracePeriod);
      await escrow.connect(guardian).refund(TASK, terms);
      await expect(escrow.connect(funder).amend(TASK, terms, raised(terms, 1n))).to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled");
    });

    it("needs the allowance for the raise and is stopped by pause", async function () {
      const { escrow, usdc, funder, pauser, terms } = await loadFixture(fundedFixture);
      await usdc.connect(funder).approve(await escrow.getAddress(), 0n);
      await expect(escrow.connect(funder).amend(TASK, terms, raised(terms, 1n))).to.be.reverted;
      expect(await escrow.verifyTerms(TASK, terms)).to.equal(true);
      await usdc.connect(funder).approve(await escrow.getAddress(), ethers.MaxUint256);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(funder).amend(TASK, terms, raised(terms, 1n))).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    });
  });

  describe("tip", function () {
    it("pays the payee of a released task straight from the caller and records it", async function () {
      const { escrow, usdc, funder, guardian, operator, terms } = await loadFixture(fundedFixture);
      await escrow.connect(guardian).release(TASK, terms, operator.address);
      const escrowBalance = await usdc.balanceOf(await escrow.getAddress());
      const tx = escrow.connect(funder).tip(TASK, operator.address, USDC(2));
      await expect(tx).to.emit(escrow, "TaskTipped").withArgs(TASK, funder.address, operator.address, USDC(2));
      await expect(tx).to.changeTokenBalances(usdc, [funder, operator], [-USDC(2), USDC(2)]);
      expect(await usdc.balanceOf(await escrow.getAddress())).to.equal(escrowBalance);
    });

    it("refuses a task that is not released, a bad payee and a zero tip", async function () {
      const { escrow, funder, guardian, operator, terms } = await loadFixture(fundedFixture);
      await expect(escrow.connect(funder).tip(TASK, operator.address, 1n))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowNotReleased")
        .withArgs(TASK, State.Funded);
      await expect(escrow.connect(funder).tip(taskId("none"), operator.address, 1n)).to.be.revertedWithCustomError(escrow, "TaskEscrowNotReleased");
      await escrow.connect(guardian).release(TASK, terms, operator.address);
      await expect(escrow.connect(funder).tip(TASK, ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidPayee");
      await expect(escrow.connect(funder).tip(TASK, await escrow.getAddress(), 1n)).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidPayee");
      await expect(escrow.connect(funder).tip(TASK, operator.address, 0n)).to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidAmount");
    });

    it("is stopped by pause", async function () {
      const { escrow, funder, guardian, operator, pauser, terms } = await loadFixture(fundedFixture);
      await escrow.connect(guardian).release(TASK, terms, operator.address);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(funder).tip(TASK, operator.address, 1n)).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    });
  });

  describe("reentrancy", function () {
    it("blocks a token callback into amend or tip, and a callback out of amend's pull", async function () {
      const [admin, funder, operator, treasury] = await ethers.getSigners();
      const token = await deploy("ReentrantToken");
      const escrow = await deployEscrow(token, { treasury: treasury.address, admin: admin.address });
      await token.mint(funder.address, USDC(1_000));
      await token.connect(funder).approve(await escrow.getAddress(), USDC(1_000));
      const terms = await makeTerms(funder.address);
      await escrow.connect(funder).fund(TASK, terms);
      const callbacks = [
        escrow.interface.encodeFunctionData("amend", [TASK, terms, raised(terms, 1n)]),
        escrow.interface.encodeFunctionData("tip", [TASK, operator.address, 1n]),
      ];
      for (const [i, callback] of callbacks.entries()) {
        await token.setCallback(await escrow.getAddress(), callback);
        await expect(escrow.connect(funder).fund(taskId(`outer-${i}`), await makeTerms(funder.address))).to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");
      }
      await token.setCallback(await escrow.getAddress(), escrow.interface.encodeFunctionData("refund", [TASK, terms]));
      await expect(escrow.connect(funder).amend(TASK, terms, raised(terms, 1n))).to.be.revertedWithCustomError(escrow, "ReentrancyGuardReentrantCall");
      expect(await escrow.verifyTerms(TASK, terms)).to.equal(true);
    });
  });
});
