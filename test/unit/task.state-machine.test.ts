import { expect } from "chai";
import { TaskStatus } from "../../server/tasks/task.enums";
import { TRANSITIONS, assertTransition, canTransition, isTerminal } from "../../server/tasks/task.state-machine";
import { ConflictError } from "../../server/common/errors";

const ALL = Object.values(TaskStatus);
const S = TaskStatus;

/** The lifecycle of DESIGN.md, written out independently of the implementation's table. */
const LEGAL = new Set([
  `${S.POSTED}>${S.ACCEPTED}`,
  `${S.POSTED}>${S.CANCELLED}`,
  `${S.POSTED}>${S.EXPIRED}`,
  `${S.ACCEPTED}>${S.SUBMITTED}`,
  `${S.ACCEPTED}>${S.POSTED}`,
  `${S.ACCEPTED}>${S.CANCELLED}`,
  `${S.ACCEPTED}>${S.EXPIRED}`,
  `${S.SUBMITTED}>${S.VERIFIED}`,
  `${S.SUBMITTED}>${S.MANUAL_REVIEW}`,
  `${S.SUBMITTED}>${S.REJECTED}`,
  `${S.MANUAL_REVIEW}>${S.VERIFIED}`,
  `${S.MANUAL_REVIEW}>${S.REJECTED}`,
  `${S.REJECTED}>${S.SUBMITTED}`,
  `${S.REJECTED}>${S.CANCELLED}`,
  `${S.REJECTED}>${S.EXPIRED}`,
  `${S.VERIFIED}>${S.PAID}`,
  `${S.VERIFIED}>${S.DISPUTED}`,
  `${S.DISPUTED}>${S.VERIFIED}`,
  `${S.DISPUTED}>${S.CANCELLED}`,
]);

/** "platform": HumanOps staff (an admin) deciding a dispute. */
type Trigger = "agent" | "operator" | "guardian" | "settlement" | "deadline" | "platform";

/**
 * Who moves a task along each transition (what TaskService, ProofService,
 * the Guardian's jobs and the chain outcomes do). The agent's money is out
 * of reach only while someone else holds the next step; the deadline is
 * the last resort, never the only way out.
 */
const TRIGGERS: Record<string, Trigger[]> = {
  [`${S.POSTED}>${S.ACCEPTED}`]: ["operator"],
  [`${S.POSTED}>${S.CANCELLED}`]: ["agent", "settlement"],
  [`${S.POSTED}>${S.EXPIRED}`]: ["deadline"],
  [`${S.ACCEPTED}>${S.SUBMITTED}`]: ["operator"],
  [`${S.ACCEPTED}>${S.POSTED}`]: ["operator"],
  [`${S.ACCEPTED}>${S.CANCELLED}`]: ["agent"],
  [`${S.ACCEPTED}>${S.EXPIRED}`]: ["deadline"],
  [`${S.SUBMITTED}>${S.VERIFIED}`]: ["guardian"],
  [`${S.SUBMITTED}>${S.MANUAL_REVIEW}`]: ["guardian"],
  [`${S.SUBMITTED}>${S.REJECTED}`]: ["guardian"],
  [`${S.MANUAL_REVIEW}>${S.VERIFIED}`]: ["agent"],
  [`${S.MANUAL_REVIEW}>${S.REJECTED}`]: ["agent"],
  [`${S.REJECTED}>${S.SUBMITTED}`]: ["operator"],
  [`${S.REJECTED}>${S.CANCELLED}`]: ["agent"],
  [`${S.REJECTED}>${S.EXPIRED}`]: ["deadline", "agent", "guardian"],
  [`${S.VERIFIED}>${S.PAID}`]: ["settlement"],
  // Within the task's review window only; the release waits for it.
  [`${S.VERIFIED}>${S.DISPUTED}`]: ["agent"],
  // An admin's RELEASE (then PAID), or REFUND; an escrow reclaimed on chain while undecided also ends it.
  [`${S.DISPUTED}>${S.VERIFIED}`]: ["platform"],
  [`${S.DISPUTED}>${S.CANCELLED}`]: ["platform", "settlement"],
};

/** States from which `by` alone (without the deadline or anyone else) can bring the task to an end. */
function endableBy(by: readonly Trigger[]): Set<TaskStatus> {
  const ended = new Set<TaskStatus>(ALL.filter(isTerminal));
  for (let changed = true; changed; ) {
    changed = false;
    for (const from of ALL) {
      if (ended.has(from)) continue;
      if (TRANSITIONS[from].some((to) => ended.has(to) && TRIGGERS[`${from}>${to}`].some((t) => by.includes(t)))) ended.add(from), (changed = true);
    }
  }
  return ended;
}

describe("task state machine", () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const legal = LEGAL.has(`${from}>${to}`);
      it(`${legal ? "allows" : "refuses with CONFLICT"} ${from} → ${to}`, () => {
        expect(canTransition(from, to)).to.equal(legal);
        if (legal) expect(() => assertTransition(from, to)).not.to.throw();
        else expect(() => assertTransition(from, to)).to.throw(ConflictError, new RegExp(`${from} task cannot become ${to}`));
      });
    }
  }

  it("has exactly PAID, CANCELLED and EXPIRED as terminal states, each with no way out", () => {
    expect(ALL.filter(isTerminal)).to.have.members([S.PAID, S.CANCELLED, S.EXPIRED]);
    for (const status of ALL) expect(TRANSITIONS[status].length === 0).to.equal(isTerminal(status));
  });

  it("lets money leave escrow only through PAID (to the operator) or CANCELLED / EXPIRED (back to the agent)", () => {
    const reachable = new Set<TaskStatus>([S.POSTED]);
    for (let changed = true; changed; ) {
      changed = false;
      for (const from of [...reachable]) for (const to of TRANSITIONS[from]) if (!reachable.has(to)) reachable.add(to), (changed = true);
    }
    expect([...reachable]).to.have.members(ALL);
    // Verified proof is paid, or disputed; a dispute ends paid (through VERIFIED) or refunded (CANCELLED).
    expect(TRANSITIONS[S.VERIFIED]).to.have.members([S.PAID, S.DISPUTED]);
    expect(TRANSITIONS[S.DISPUTED]).to.have.members([S.VERIFIED, S.CANCELLED]);
  });

  it("knows who triggers every legal transition", () => {
    expect(Object.keys(TRIGGERS)).to.have.members([...LEGAL]);
  });

  it("holds no money with only the deadline as a way out: the agent, with the Guardian, settlement and (for a dispute) the platform doing their part, can end every state without the operator", () => {
    const waiting = ALL.filter((status) => !endableBy(["agent", "guardian", "settlement", "platform"]).has(status));
    expect(waiting, "states only the deadline or the operator can end").to.deep.equal([]);
  });

  it("lets the agent alone end every state where no proof waits for the Guardian, nothing waits for settlement and no dispute waits for the platform", () => {
    const byAgent = endableBy(["agent"]);
    expect(ALL.filter((status) => !byAgent.has(status))).to.have.members([S.SUBMITTED, S.VERIFIED, S.DISPUTED]);
  });

  it("has one way back, ACCEPTED → POSTED (an operator giving the task up)", () => {
    const backwards = [...LEGAL].filter((edge) => edge.endsWith(`>${S.POSTED}`));
    expect(backwards).to.deep.equal([`${S.ACCEPTED}>${S.POSTED}`]);
  });
});
