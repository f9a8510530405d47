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
  `${S.ACCEPTED}>${S.CANCELLED}`,
  `${S.ACCEPTED}>${S.EXPIRED}`,
  `${S.SUBMITTED}>${S.VERIFIED}`,
  `${S.SUBMITTED}>${S.MANUAL_REVIEW}`,
  `${S.SUBMITTED}>${S.REJECTED}`,
  `${S.MANUAL_REVIEW}>${S.VERIFIED}`,
  `${S.MANUAL_REVIEW}>${S.REJECTED}`,
  `${S.REJECTED}>${S.SUBMITTED}`,
  `${S.REJECTED}>${S.EXPIRED}`,
  `${S.VERIFIED}>${S.PAID}`,
]);

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
    expect(TRANSITIONS[S.VERIFIED]).to.deep.equal([S.PAID]);
  });
});
