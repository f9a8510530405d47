// fundBatch and releaseBatch: the same checks as fund and release for every task, one event per task, all or nothing.
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, State, USDC, deployEscrowFixture, makeTerms, taskId, type Terms } from "./helpers";

const IDS = [taskId("batch-0"), taskId("batch-1"), taskId("batch-2")];

async function termsFor(funder: string, count = IDS.length): Promise<Terms[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => makeTerms(funder, { amount: USDC(10 + i), fee: USDC(1) })));
}

async function fundedFixture() {
  const base = await deployEscrowFixture();
  const terms = await termsFor(base.funder.address);
  await base.escrow.connect(base.funder).fundBatch(IDS, terms);
  return { ...base, terms };
}

describe("TaskEscrow batches", function () {
  describe("fundBatch", function () {
    it("funds every task, emits TaskFunded for each and pulls the sum once", async function () {
      const { usdc, escrow, funder } = await loadFixture(deployEscrowFixture);
      const terms = await termsFor(funder.address);
      const total = terms.reduce((sum, t) => sum + t.amount, 0n);
      const tx = escrow.connect(funder).fundBatch(IDS, terms);
      for (const [i, id] of IDS.entries()) {
        await expect(tx)
          .to.emit(escrow, "TaskFunded")
          .withArgs(id, funder.address, terms[i].amount, terms[i].fee, terms[i].deadline, terms[i].gracePeriod);
      }
      await expect(tx).to.changeTokenBalances(usdc, [funder, escrow], [-total, total]);
      for (const [i, id] of IDS.entries()) {
        expect((await escrow.escrowOf(id)).state).to.equal(State.Funded);
        expect(await escrow.verifyTerms(id, terms[i])).to.equal(true);
      }
    });

    it("reverts whole on a bad item: another funder, an id funded before or repeated, invalid terms", async function () {
      const { escrow, funder, stranger } = await loadFixture(deployEscrowFixture);
      const terms = await termsFor(funder.address);
      await expect(escrow.connect(funder).fundBatch(IDS, [terms[0], { ...terms[1], funder: stranger.address }, terms[2]]))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowUnauthorizedFunder")
        .withArgs(funder.address, stranger.address);
      await expect(escrow.connect(funder).fundBatch([IDS[0], IDS[1], IDS[0]], terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadyFunded")
        .withArgs(IDS[0]);
      await expect(escrow.connect(funder).fundBatch(IDS, [terms[0], terms[1], { ...terms[2], gracePeriod: 0n }]))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidGracePeriod")
        .withArgs(0);
      await escrow.connect(funder).fund(IDS[2], terms[2]);
      await expect(escrow.connect(funder).fundBatch(IDS, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadyFunded")
        .withArgs(IDS[2]);
      // Nothing of the refused batches was kept.
      expect((await escrow.escrowOf(IDS[0])).state).to.equal(State.None);
      expect((await escrow.escrowOf(IDS[1])).state).to.equal(State.None);
    });

    it("rejects arrays of different lengths and an empty batch", async function () {
      const { escrow, funder } = await loadFixture(deployEscrowFixture);
      const terms = await termsFor(funder.address, 2);
      await expect(escrow.connect(funder).fundBatch(IDS, terms))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowBatchLengthMismatch")
        .withArgs(3, 2);
      await expect(escrow.connect(funder).fundBatch([], [])).to.be.revertedWithCustomError(escrow, "TaskEscrowEmptyBatch");
    });

    it("is stopped by pause", async function () {
      const { escrow, pauser, funder } = await loadFixture(deployEscrowFixture);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(funder).fundBatch(IDS, await termsFor(funder.address))).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    });
  });

  describe("releaseBatch", function () {
    it("pays each payee amount - fee, the treasury the sum of the fees, and emits TaskReleased for each", async function () {
      const { usdc, escrow, guardian, treasury, operator, stranger, others, terms } = await loadFixture(fundedFixture);
      const payees = [operator.address, stranger.address, others[0].address];
      const tx = escrow.connect(guardian).releaseBatch(IDS, terms, payees);
      for (const [i, id] of IDS.entries()) {
        await expect(tx).to.emit(escrow, "TaskReleased").withArgs(id, payees[i], terms[i].amount - terms[i].fee, terms[i].fee);
      }
      const fees = terms.reduce((sum, t) => sum + t.fee, 0n);
      const total = terms.reduce((sum, t) => sum + t.amount, 0n);
      await expect(tx).to.changeTokenBalances(
        usdc,
        [escrow, treasury, operator, stranger, others[0]],
        [-total, fees, ...terms.map((t) => t.amount - t.fee)],
      );
      for (const id of IDS) expect((await escrow.escrowOf(id)).state).to.equal(State.Released);
    });

    it("is for the Guardian only", async function () {
      const { escrow, stranger, operator, terms } = await loadFixture(fundedFixture);
      await expect(escrow.connect(stranger).releaseBatch(IDS, terms, IDS.map(() => operator.address)))
        .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await escrow.GUARDIAN_ROLE());
    });

    it("reverts whole on a bad item: settled, repeated, other terms, a bad payee, its window closed", async function () {
      const { escrow, guardian, operator, terms } = await loadFixture(fundedFixture);
      const payees = IDS.map(() => operator.address);
      await escrow.connect(guardian).refund(IDS[1], terms[1]);
      await expect(escrow.connect(guardian).releaseBatch(IDS, terms, payees))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(IDS[1], State.Refunded);
      await expect(escrow.connect(guardian).releaseBatch([IDS[0], IDS[0]], [terms[0], terms[0]], payees.slice(0, 2)))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowAlreadySettled")
        .withArgs(IDS[0], State.Released);
      await expect(escrow.connect(guardian).releaseBatch([IDS[0], IDS[2]], [terms[0], terms[0]], payees.slice(0, 2)))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowTermsMismatch")
        .withArgs(IDS[2]);
      await expect(escrow.connect(guardian).releaseBatch([IDS[0], IDS[2]], [terms[0], terms[2]], [operator.address, await escrow.getAddress()]))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowInvalidPayee")
        .withArgs(await escrow.getAddress());
      await time.increaseTo(terms[2].deadline + BigInt(DAY));
      await expect(escrow.connect(guardian).releaseBatch([IDS[0], IDS[2]], [terms[0], terms[2]], payees.slice(0, 2))).to.be.revertedWithCustomError(
        escrow,
        "TaskEscrowReleaseWindowClosed",
      );
      // Nothing of the refused batches was kept.
      expect((await escrow.escrowOf(IDS[0])).state).to.equal(State.Funded);
      expect((await escrow.escrowOf(IDS[2])).state).to.equal(State.Funded);
    });

    it("rejects arrays of different lengths and an empty batch", async function () {
      const { escrow, guardian, operator, terms } = await loadFixture(fundedFixture);
      await expect(escrow.connect(guardian).releaseBatch(IDS, terms, [operator.address]))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowBatchLengthMismatch")
        .withArgs(3, 1);
      await expect(escrow.connect(guardian).releaseBatch(IDS, terms.slice(0, 2), [operator.address, operator.address]))
        .to.be.revertedWithCustomError(escrow, "TaskEscrowBatchLengthMismatch")
        .withArgs(3, 2);
      await expect(escrow.connect(guardian).releaseBatch([], [], [])).to.be.revertedWithCustomError(escrow, "TaskEscrowEmptyBatch");
    });

    it("is stopped by pause", async function () {
      const { escrow, pauser, guardian, operator, terms } = await loadFixture(fundedFixture);
      await escrow.connect(pauser).pause();
      await expect(escrow.connect(guardian).releaseBatch(IDS, terms, IDS.map(() => operator.address))).to.be.revertedWithCustomError(escrow, "EnforcedPause");
    });
  });
});
