// Random sequences of fund / amend / release / refund / reclaim / tip / pause / treasury changes by many actors, seeded
// and bounded.
// After every step: the escrow's USDC balance equals the sum of its unsettled escrows, every account's balance equals
// what a simple model says it is owed (so nobody ever gains more), and the touched task's on-chain state matches.
// Reproduce a run with INVARIANT_SEED=<seed> (and INVARIANT_STEPS=<n>).
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  DAY,
  State,
  USDC,
  deployEscrowFixture,
  latestTimestamp,
  signFunding,
  signRelease,
  taskId,
  type Terms,
} from "./helpers";

const SEED = Number(process.env.INVARIANT_SEED ?? 0x5eed);
const STEPS = Number(process.env.INVARIANT_STEPS ?? 300);

/** mulberry32: a small, seedable PRNG so that a failing sequence can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];
  return { next, int, pick, chance: (p: number) => next() < p };
}

interface Task {
  id: string;
  terms: Terms;
  state: bigint;
}

describe("TaskEscrow invariants", function () {
  it(`hold over ${STEPS} random steps (seed ${SEED})`, async function () {
    // Instrumented for coverage, each step is several times slower.
    this.timeout(Math.max(120_000, STEPS * 1_000));
    const { usdc, escrow, admin, guardian, pauser, treasury, funder, operator, stranger, others } =
      await loadFixture(deployEscrowFixture);
    const rand = prng(SEED);
    const funders = [funder, ...others.slice(0, 3)];
    const operators = [operator, ...others.slice(3, 6)];
    const treasuries = [treasury, others[6]];
    const relayers = [stranger, others[7]];
    const escrowAddress = await escrow.getAddress();
    for (const f of funders.slice(1)) {
      await usdc.mint(f.address, USDC(1_000_000));
      await usdc.connect(f).approve(escrowAddress, ethers.MaxUint256);
    }

    // The model: what each account is owed relative to its starting balance, and every task's state.
    const watched = [...new Set([...funders, ...operators, ...treasuries, ...relayers, guardian, admin, pauser])];
    const start = new Map<string, bigint>();
    for (const a of watched) start.set(a.address, await usdc.balanceOf(a.address));
    const owed = new Map<string, bigint>(watched.map((a) => [a.address, 0n]));
    const credit = (who: string, amount: bigint) => owed.set(who, owed.get(who)! + amount);
    const tasks: Task[] = [];
    let paused = false;
    let currentTreasury = treasury.address;
    let now = await latestTimestamp();
    let label = 0;
    const done = { fund: 0, fundWithAuthorization: 0, fundBatch: 0, release: 0, releaseWithSignature: 0, releaseBatch: 0, refund: 0, reclaim: 0, amend: 0, tip: 0 };

    const succeeds = async (send: () => Promise<unknown>): Promise<boolean> => {
      try {
        await send();
        return true;
      } catch (error) {
        // Only reverts are expected failures; anything else (a bug in the test) is rethrown.
        if (!String(error).includes("reverted")) throw error;
        return false;
      }
    };

    const randomTerms = async (from: HardhatEthersSigner): Promise<Terms> => {
      const amount = BigInt(rand.int(1, 1_000_000)) * 1_000n; // up to 1,000 USDC
      const maxFee = (amount * 2_000n) / 10_000n;
      return {
        funder: from.address,
        amount,
        fee: rand.chance(0.05) ? maxFee + 1n : (maxFee * BigInt(rand.int(0, 100))) / 100n,
        deadline: now + BigInt(rand.int(1, 3 * DAY)),
        gracePeriod: BigInt(rand.chance(0.05) ? 0 : rand.int(DAY, 3 * DAY)),
      };
    };
    const validTerms = (t: Terms) =>
      t.fee <= (t.amount * 2_000n) / 10_000n && t.gracePeriod >= BigInt(DAY) && t.deadline > now && t.deadline <= now + BigInt(365 * DAY);
    const reclaimableAt = (t: Terms) => t.deadline + t.gracePeriod;

    const fund = async (gasless: boolean): Promise<Task | undefined> => {
      const from = rand.pick(funders);
      const reuse = tasks.length > 0 && rand.chance(0.1);
      const id = reuse ? rand.pick(tasks).id : taskId(`invariant-${SEED}-${label++}`);
      const terms = await randomTerms(from);
      const auth = gasless ? await signFunding(usdc, escrow, from, id, terms, { validBefore: now + 3600n }) : undefined;
      const ok = await succeeds(() =>
        auth
          ? escrow
              .connect(rand.pick(relayers))
              .fundWithAuthorization(id, terms, auth.validAfter, auth.validBefore, auth.signature)
          : escrow.connect(from).fund(id, terms),
      );
      expect(ok, "fund").to.equal(!paused && !reuse && validTerms(terms));
      if (!ok) return undefined;
      done[gasless ? "fundWithAuthorization" : "fund"]++;
      credit(from.address, -terms.amount);
      const task = { id, terms, state: State.Funded };
      tasks.push(task);
      return task;
    };

    const release = async (task: Task, withSignature: boolean) => {
      const payee = rand.pick(operators).address;
      const { id, terms } = task;
      const send = async () => {
        if (!withSignature) return escrow.connect(guardian).release(id, terms, payee);
        const deadline = now + 600n;
        const signature = await signRelease(guardian, escrow, { taskId: id, payee, amount: terms.amount, deadline });
        return escrow.connect(rand.pick(relayers)).releaseWithSignature(id, terms, payee, deadline, signature);
      };
      const ok = await succeeds(send);
      expect(ok, "release").to.equal(!paused && task.state === State.Funded && now < reclaimableAt(terms));
      if (!ok) return;
      done[withSignature ? "releaseWithSignature" : "release"]++;
      task.state = State.Released;
      credit(payee, terms.amount - terms.fee);
      credit(currentTreasury, terms.fee);
    };

    // A batch of 2-4: new ids (sometimes one repeated or funded before), all or nothing.
    const fundBatch = async () => {
      const from = rand.pick(funders);
      const count = rand.int(2, 4);
      const ids = Array.from({ length: count }, () => taskId(`invariant-${SEED}-${label++}`));
      if (rand.chance(0.15)) ids[count - 1] = rand.chance(0.5) || tasks.length === 0 ? ids[0] : rand.pick(tasks).id;
      const terms = await Promise.all(ids.map(() => randomTerms(from)));
      const fresh = ids.every((id, i) => ids.indexOf(id) === i && !tasks.some((t) => t.id === id));
      const ok = await succeeds(() => escrow.connect(from).fundBatch(ids, terms));
      expect(ok, "fundBatch").to.equal(!paused && fresh && terms.every(validTerms));
      if (!ok) return undefined;
      done.fundBatch++;
      const funded = ids.map((id, i) => ({ id, terms: terms[i], state: State.Funded }));
      for (const task of funded) {
        credit(from.address, -task.terms.amount);
        tasks.push(task);
      }
      return funded[0];
    };

    // A batch of 2-3 tasks picked from all (settled ones and repeats must make it revert whole).
    const releaseBatch = async () => {
      const batch = Array.from({ length: rand.int(2, 3) }, () => rand.pick(tasks.filter((t) => t.state === State.Funded).length > 1 && rand.chance(0.8) ? tasks.filter((t) => t.state === State.Funded) : tasks));
      const payees = batch.map(() => rand.pick(operators).address);
      const ok = await succeeds(() => escrow.connect(guardian).releaseBatch(batch.map((t) => t.id), batch.map((t) => t.terms), payees));
      const releasable = batch.every((t, i) => batch.indexOf(t) === i && t.state === State.Funded && now < reclaimableAt(t.terms));
      expect(ok, "releaseBatch").to.equal(!paused && releasable);
      if (!ok) return batch[0];
      done.releaseBatch++;
      for (const [i, task] of batch.entries()) {
        task.state = State.Released;
        credit(payees[i], task.terms.amount - task.terms.fee);
        credit(currentTreasury, task.terms.fee);
      }
      return batch[0];
    };

    const giveBack = async (task: Task, byGuardian: boolean) => {
      const { id, terms } = task;
      const ok = await succeeds(() =>
        byGuardian
          ? escrow.connect(guardian).refund(id, terms)
          : escrow.connect(rand.pick([...funders, ...relayers])).reclaim(id, terms),
      );
      expect(ok, byGuardian ? "refund" : "reclaim").to.equal(
        task.state === State.Funded && (byGuardian || now >= reclaimableAt(terms)),
      );
      if (!ok) return;
      done[byGuardian ? "refund" : "reclaim"]++;
      task.state = State.Refunded;
      credit(terms.funder, terms.amount);
    };

    // The funder raises the amount (part of the raise may go to the fee, never more than the payout rises) and/or
    // extends the deadline; sometimes someone else tries, or the terms are lowered, and it must revert.
    const amend = async (picked: Task) => {
      // Mostly a task whose release window is still open (many funded tasks outlive theirs in a run).
      const live = tasks.filter((t) => t.state === State.Funded && now < reclaimableAt(t.terms));
      const task = live.length > 0 && rand.chance(0.85) ? rand.pick(live) : picked;
      const owner = funders.find((f) => f.address === task.terms.funder)!;
      const from = rand.chance(0.9) ? owner : rand.pick([...funders, ...relayers]);
      const raise = rand.chance(0.7) ? BigInt(rand.int(0, 100_000)) * 1_000n : 0n;
      const extraFee = rand.chance(0.3) ? (raise * BigInt(rand.int(0, 20))) / 100n : 0n;
      // A later deadline counts from now when the old one has passed (still within the grace period).
      const later = rand.chance(0.6) ? BigInt(rand.int(1, 2 * DAY)) : 0n;
      const base = later > 0n && task.terms.deadline < now ? now : task.terms.deadline;
      const next: Terms = { ...task.terms, amount: task.terms.amount + raise, fee: task.terms.fee + extraFee, deadline: base + later };
      if (rand.chance(0.05)) next.amount = task.terms.amount - 1n;
      const ok = await succeeds(() => escrow.connect(from).amend(task.id, task.terms, next));
      const allowed =
        !paused && from.address === task.terms.funder && task.state === State.Funded && now < reclaimableAt(task.terms) &&
        next.amount >= task.terms.amount && next.deadline >= task.terms.deadline && next.amount - next.fee >= task.terms.amount - task.terms.fee &&
        (next.amount !== task.terms.amount || next.deadline !== task.terms.deadline) && validTerms(next);
      expect(ok, "amend").to.equal(allowed);
      if (!ok) return task;
      done.amend++;
      credit(from.address, -(next.amount - task.terms.amount));
      task.terms = next;
      return task;
    };

    // A tip for a released task, from anyone to any operator; it never touches the escrow's balance.
    const tip = async () => {
      const released = tasks.filter((t) => t.state === State.Released);
      const task = rand.pick(released.length > 0 && rand.chance(0.85) ? released : tasks);
      const from = rand.pick(funders);
      const payee = rand.pick(operators).address;
      const amount = BigInt(rand.int(0, 50_000)) * 1_000n;
      const ok = await succeeds(() => escrow.connect(from).tip(task.id, payee, amount));
      expect(ok, "tip").to.equal(!paused && task.state === State.Released && amount > 0n);
      if (!ok) return;
      done.tip++;
      credit(from.address, -amount);
      credit(payee, amount);
    };

    const tamper = async (task: Task) => {
      const terms = { ...task.terms, amount: task.terms.amount + 1n };
      const ok = await succeeds(() =>
        rand.chance(0.5)
          ? escrow.connect(guardian).release(task.id, terms, rand.pick(operators).address)
          : escrow.connect(guardian).refund(task.id, terms),
      );
      expect(ok, "tampered terms").to.equal(false);
    };

    for (let step = 0; step < STEPS; step++) {
      now += 1n + (rand.chance(0.15) ? BigInt(rand.int(1, 2 * DAY)) : 0n);
      await time.setNextBlockTimestamp(now);
      // Mostly act on open tasks, sometimes on any (settled ones must then be refused).
      const open = tasks.filter((t) => t.state === State.Funded);
      const pool = open.length > 0 && rand.chance(0.75) ? open : tasks;
      const task = pool.length > 0 ? rand.pick(pool) : undefined;
      const roll = rand.next();
      let touched: Task | undefined = task;
      if (!task || roll < 0.25) touched = await fund(rand.chance(0.4));
      else if (roll < 0.3) touched = await fundBatch();
      else if (roll < 0.5) await release(task, rand.chance(0.5));
      else if (roll < 0.55) touched = await releaseBatch();
      else if (roll < 0.68) await giveBack(task, true);
      else if (roll < 0.78) await giveBack(task, false);
      else if (roll < 0.84) touched = await amend(task);
      else if (roll < 0.86) await tip();
      else if (roll < 0.88) await tamper(task);
      else if (roll < 0.88 + (paused ? 0.1 : 0.02)) {
        // Pause rarely and unpause soon: pauses are short emergencies.
        paused = !paused;
        await (paused ? escrow.connect(pauser).pause() : escrow.connect(admin).unpause());
      } else {
        currentTreasury = rand.pick(treasuries).address;
        await escrow.connect(admin).setTreasury(currentTreasury);
      }

      const context = `seed ${SEED}, step ${step}`;
      const unsettled = tasks.filter((t) => t.state === State.Funded).reduce((sum, t) => sum + t.terms.amount, 0n);
      expect(await usdc.balanceOf(escrowAddress), `escrow balance, ${context}`).to.equal(unsettled);
      for (const a of watched) {
        const balance = await usdc.balanceOf(a.address);
        expect(balance - start.get(a.address)!, `${a.address} is owed exactly, ${context}`).to.equal(
          owed.get(a.address),
        );
      }
      if (touched) {
        const [, state] = await escrow.escrowOf(touched.id);
        expect(state, `state of ${touched.id}, ${context}`).to.equal(touched.state);
        // The terms the model holds (amended or not) are the ones that settle the task.
        expect(await escrow.verifyTerms(touched.id, touched.terms), `terms of ${touched.id}, ${context}`).to.equal(true);
      }
    }

    // The run must have succeeded at every kind of call, or it proves little.
    for (const [call, count] of Object.entries(done)) expect(count, `successful ${call} calls`).to.be.greaterThan(0);
    expect(tasks.some((t) => t.state === State.Funded), "tasks left unsettled").to.equal(true);
    if (process.env.INVARIANT_VERBOSE) console.log(done);
  });
});
