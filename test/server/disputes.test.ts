import { expect } from "chai";
import type { Client } from "graphql-ws";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { connect, subscribe, UPDATE_FIELDS } from "../live/support/ws-client";
import { Receiver } from "../live/support/receiver";
import { CREATE_ENDPOINT } from "../live/support/webhook-ops";
import { RestClient, restTaskBody } from "../support/rest-client";
import { httpConnector } from "../mcp/support/connections";
import { failed, ok } from "../mcp/support/tool-scenarios";
import { testChain } from "../chain/support/chain";
import { eventually } from "../support/until";
import { SettlementOutcomes } from "../../server/escrow/settlement";
import { Escrow } from "../../server/escrow/escrow.entity";
import { createLogger } from "../../server/common/logger";

const HOLD = `status reviewWindowMinutes releaseHeldUntil escrow { status } dispute { reason status decision decisionNote decidedBy decidedAt openedAt }`;
const TASK = `query($id: ID!) { task(id: $id) { ${HOLD} events { fromStatus toStatus actorType actorId reason } } }`;
const DISPUTE = `mutation($id: ID!, $reason: String!) { disputeTask(id: $id, reason: $reason) { ${HOLD} } }`;
const DISPUTES = `query($status: DisputeStatus, $first: Int) { disputes(status: $status, first: $first) {
  nodes { reason status decision decidedBy openedAt task { id status verification { verdict } proofs { attempt photos { byteSize } } } } pageInfo { hasNextPage endCursor } } }`;
const DECIDE = `mutation($taskId: ID!, $decision: DisputeDecision!, $note: String!) { decideDispute(taskId: $taskId, decision: $decision, note: $note) { status decision decisionNote decidedBy decidedAt task { status } } }`;
const AUDIT = `{ adminAuditLog(first: 10) { nodes { action adminName taskId detail createdAt } pageInfo { hasNextPage endCursor } } }`;
const BALANCE = `{ viewerAgent { balance { units } } }`;

for (const db of testDatabases()) {
  describe(`review windows and disputes (${db.name})`, () => {
    let server: TestServer;
    let agent: { apiKey: string; id: string };
    let adminKey: string;
    const clients: Client[] = [];

    before(async () => {
      server = await startServer(db);
      agent = await registerAgent(server.client);
      adminKey = (await server.app.services.admins.create(server.app.orm.em.fork(), "ana")).key;
    });
    after(async () => {
      await Promise.all(clients.map((client) => client.dispose()));
      await server.stop();
    });

    const sql = <T extends object>(query: string, params: unknown[] = []) => server.app.orm.em.fork().getConnection().execute<T>(query, params, "all");

    /** A test task the mock operator proves with good photos: it stops VERIFIED with its release held for `reviewWindowMinutes`. */
    async function verifiedAndHeld(reviewWindowMinutes = 30): Promise<string> {
      const id = (await server.client.ok(POST_TASK, { input: taskInput({ reviewWindowMinutes }) }, agent.apiKey)).postTask.id as string;
      await waitForStatus(server.client, agent.apiKey, id, ["VERIFIED"]);
      return id;
    }

    /** Time passes: the task's review window ends now. */
    async function windowEnds(taskId: string): Promise<void> {
      const moved = await server.app.orm.em.fork().getConnection().execute<{ affectedRows: number }>("update jobs set run_at = ? where dedupe_key = ? and status = 'PENDING'", [Date.now() - 1, `hold:${taskId}`], "run");
      expect(moved.affectedRows, "the verification queued the end of its hold").to.equal(1);
    }

    /** The job that ends a task's hold has run (whatever it was to do, it did in the transaction that marked it done). */
    async function holdEnded(taskId: string): Promise<void> {
      await eventually(async () => (await sql<Array<{ status: string }>>("select status from jobs where dedupe_key = ?", [`hold:${taskId}`]))[0]?.status === "DONE", "the end of the hold to run");
    }

    async function settlements(taskId: string): Promise<string[]> {
      return (await sql<Array<{ kind: string }>>("select kind from chain_txs where intent_key = ?", [`settle:${taskId}`])).map((row) => row.kind);
    }

    async function balance(): Promise<bigint> {
      return BigInt((await server.client.ok(BALANCE, {}, agent.apiKey)).viewerAgent.balance.units);
    }

    it("refuses a review window outside 5 minutes to 7 days, naming the field; none by default", async () => {
      for (const reviewWindowMinutes of [4, 10_081]) {
        const refused = await server.client.fails(POST_TASK, { input: taskInput({ testScenario: "MANUAL", reviewWindowMinutes }) }, agent.apiKey);
        expect(refused.extensions).to.include({ code: "BAD_USER_INPUT", field: "reviewWindowMinutes" });
        expect(refused.message).to.match(/whole number of minutes from 5 to 10080/);
      }
      const id = (await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey)).postTask.id;
      expect((await server.client.ok(TASK, { id }, agent.apiKey)).task).to.deep.include({ reviewWindowMinutes: null, releaseHeldUntil: null, dispute: null });
    });

    it("without a window the release is immediate and the proof cannot be disputed", async () => {
      const id = (await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey)).postTask.id;
      await waitForStatus(server.client, agent.apiKey, id, ["PAID"]);
      const refused = await server.client.fails(DISPUTE, { id, reason: "too late" }, agent.apiKey);
      expect(refused.extensions).to.include({ code: "CONFLICT" });
      expect(refused.message).to.match(/only a VERIFIED task whose release is held can be disputed/);
    });

    it("holds the release for the window after VERIFIED, then pays the operator", async () => {
      const before = Date.now();
      const id = await verifiedAndHeld(30);
      const { task } = await server.client.ok(TASK, { id }, agent.apiKey);
      expect(task).to.deep.include({ status: "VERIFIED", reviewWindowMinutes: 30, escrow: { status: "FUNDED" }, dispute: null });
      expect(new Date(task.releaseHeldUntil).getTime() - before).to.be.within(29 * 60_000, 31 * 60_000);
      expect(await settlements(id), "nothing sent while the window is open").to.deep.equal([]);
      await server.app.escrow.reconciler.sweep(testChain(server.app), async () => false);
      expect(await settlements(id), "the reconciliation sweep does not take a held release for a missing one").to.deep.equal([]);

      await windowEnds(id);
      const paid = await waitForStatus(server.client, agent.apiKey, id, ["PAID"]);
      expect(paid.events.at(-1)).to.deep.include({ fromStatus: "VERIFIED", toStatus: "PAID", actorType: "SYSTEM" });
      expect((await server.client.ok(TASK, { id }, agent.apiKey)).task).to.deep.include({ releaseHeldUntil: null, escrow: { status: "RELEASED" } });
    });

    it("a dispute in the window holds the money until an admin refunds the agent; every step is an event, a webhook and a live update", async () => {
      const receiver = await new Receiver().start();
      try {
        await server.client.ok(CREATE_ENDPOINT, { input: { url: receiver.url, eventTypes: ["task.disputed", "task.cancelled"] } }, agent.apiKey);
        const client = connect(server.url, { "x-api-key": agent.apiKey });
        clients.push(client);
        const feed = subscribe(client, `subscription { tasksUpdated { ${UPDATE_FIELDS} } }`);

        const id = await verifiedAndHeld();
        const start = await balance();
        const empty = await server.client.fails(DISPUTE, { id, reason: "  " }, agent.apiKey);
        expect(empty.extensions).to.include({ code: "BAD_USER_INPUT", field: "reason" });
        const disputed = (await server.client.ok(DISPUTE, { id, reason: "the photo shows a different storefront" }, agent.apiKey)).disputeTask;
        expect(disputed).to.deep.include({ status: "DISPUTED", releaseHeldUntil: null, escrow: { status: "FUNDED" } });
        expect(disputed.dispute).to.deep.include({ reason: "the photo shows a different storefront", status: "OPEN", decision: null, decidedBy: null });
        expect((await server.client.fails(DISPUTE, { id, reason: "again" }, agent.apiKey)).extensions).to.include({ code: "CONFLICT" });

        // The window's end finds the task disputed and sends nothing.
        await windowEnds(id);
        await holdEnded(id);
        expect((await server.client.ok(TASK, { id }, agent.apiKey)).task.status).to.equal("DISPUTED");
        expect(await settlements(id)).to.deep.equal([]);

        // Only the platform decides: not the agent, not the operator.
        const byAgent = await server.client.fails(DECIDE, { taskId: id, decision: "REFUND", note: "mine" }, agent.apiKey);
        expect(byAgent.extensions).to.include({ code: "FORBIDDEN" });
        expect(byAgent.message).to.match(/platform admin key/);
        const operator = await registerOperator(server.client, "bystander");
        expect((await server.client.fails(DISPUTES, {}, operator.testApiKey)).extensions).to.include({ code: "FORBIDDEN" });

        const { disputes } = await server.client.ok(DISPUTES, {}, adminKey);
        const listed = disputes.nodes.find((node: any) => node.task.id === id);
        expect(listed).to.deep.include({ reason: "the photo shows a different storefront", status: "OPEN", decision: null });
        expect(listed.task.verification.verdict, "the admin sees the Guardian's verdict").to.equal("APPROVE");
        expect(listed.task.proofs[0].photos.length, "and the proof").to.be.greaterThan(0);

        const noNote = await server.client.fails(DECIDE, { taskId: id, decision: "REFUND", note: "" }, adminKey);
        expect(noNote.extensions).to.include({ code: "BAD_USER_INPUT", field: "note" });
        const decided = (await server.client.ok(DECIDE, { taskId: id, decision: "REFUND", note: "wrong address in the photo" }, adminKey)).decideDispute;
        expect(decided).to.deep.include({ status: "DECIDED", decision: "REFUND", decisionNote: "wrong address in the photo", decidedBy: "ana", task: { status: "CANCELLED" } });
        expect((await server.client.fails(DECIDE, { taskId: id, decision: "RELEASE", note: "changed my mind" }, adminKey)).extensions).to.include({ code: "CONFLICT" });

        const { task } = await server.client.ok(TASK, { id }, agent.apiKey);
        expect(task.events.slice(-2).map((e: any) => [e.fromStatus, e.toStatus, e.actorType])).to.deep.equal([
          ["VERIFIED", "DISPUTED", "AGENT"],
          ["DISPUTED", "CANCELLED", "ADMIN"],
        ]);
        expect(task.events.at(-1).reason).to.equal("dispute decided by the platform: refund to the agent. wrong address in the photo");
        expect(task.dispute).to.deep.include({ decision: "REFUND", decidedBy: null }, "the agent sees the decision, not the admin's name");
        expect(await balance(), "reward and fee back on the agent's balance").to.equal(start + 16_500_000n);
        expect(await settlements(id)).to.deep.equal(["REFUND"]);
        await waitFor(async () => (await server.client.ok(TASK, { id }, agent.apiKey)).task.escrow.status === "REFUNDED");

        const audit = (await server.client.ok(AUDIT, {}, adminKey)).adminAuditLog.nodes;
        expect(audit[0]).to.deep.include({ action: "DISPUTE_DECIDED", adminName: "ana", taskId: id });
        expect(audit[0].detail).to.match(/^REFUND of task .* \(15\.00 USDC reward\): wrong address in the photo$/);

        await receiver.until((r) => r.events.filter((e) => e.data.task_id === id).length >= 2);
        const hooks = receiver.events.filter((e) => e.data.task_id === id);
        expect(hooks.map((e) => e.type)).to.deep.equal(["task.disputed", "task.cancelled"]);
        expect(hooks[0].data).to.deep.include({ status: "DISPUTED", previous_status: "VERIFIED", actor_type: "AGENT", reason: "the photo shows a different storefront" });
        expect(hooks[0].data.proof, "the dispute's event carries the proof it is about").to.be.an("object");

        await feed.until((r) => r.results.some((u) => u.tasksUpdated.taskId === id && u.tasksUpdated.status === "CANCELLED"));
        const live = feed.results.map((u) => u.tasksUpdated).filter((u) => u.taskId === id).map((u) => u.status);
        expect(live.slice(-2)).to.deep.equal(["DISPUTED", "CANCELLED"]);
      } finally {
        await receiver.close();
      }
    });

    it("an admin's release verifies the task again and pays the operator, with no new window", async () => {
      const id = await verifiedAndHeld();
      await server.client.ok(DISPUTE, { id, reason: "blurry" }, agent.apiKey);
      const decided = (await server.client.ok(DECIDE, { taskId: id, decision: "RELEASE", note: "readable enough" }, adminKey)).decideDispute;
      expect(decided).to.deep.include({ decision: "RELEASE", decidedBy: "ana" });
      const paid = await waitForStatus(server.client, agent.apiKey, id, ["PAID"]);
      expect(paid.events.slice(-3).map((e: any) => [e.fromStatus, e.toStatus, e.actorType])).to.deep.equal([
        ["VERIFIED", "DISPUTED", "AGENT"],
        ["DISPUTED", "VERIFIED", "ADMIN"],
        ["VERIFIED", "PAID", "SYSTEM"],
      ]);
      expect(await settlements(id)).to.deep.equal(["RELEASE"]);
      const { disputes } = await server.client.ok(DISPUTES, { status: "DECIDED", first: 100 }, adminKey);
      expect(disputes.nodes.find((node: any) => node.task.id === id)).to.deep.include({ status: "DECIDED", decision: "RELEASE" });
    });

    it("REST: review_window_minutes and release_held_until, POST /tasks/{id}/dispute, and the admin routes, as the OpenAPI document says", async () => {
      const rest = await RestClient.connect(server.url);
      const refused = await rest.post("/tasks", restTaskBody({ review_window_minutes: 3 }), agent.apiKey);
      expect(refused.status).to.equal(400);
      expect(refused.body.error).to.include({ code: "BAD_USER_INPUT", field: "review_window_minutes" });
      const created = await rest.post("/tasks", restTaskBody({ review_window_minutes: 60 }), agent.apiKey);
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ review_window_minutes: 60, release_held_until: null, dispute: null });
      const id = created.body.task_id as string;
      const verified = await rest.waitForStatus(agent.apiKey, id, ["VERIFIED"]);
      expect(new Date(verified.release_held_until).getTime() - Date.now()).to.be.within(58 * 60_000, 61 * 60_000);

      expect((await rest.post(`/tasks/${id}/dispute`, {}, agent.apiKey)).status, "a reason is required").to.equal(400);
      const disputed = await rest.post(`/tasks/${id}/dispute`, { reason: "the sign is not legible" }, agent.apiKey);
      expect(disputed.status).to.equal(200);
      expect(disputed.body).to.deep.include({ status: "DISPUTED", release_held_until: null });
      expect(disputed.body.dispute).to.deep.include({ reason: "the sign is not legible", status: "OPEN", decision: null, decided_at: null });

      const asAgent = await rest.get("/admin/disputes", agent.apiKey);
      expect(asAgent.status).to.equal(403);
      expect((await rest.get("/admin/disputes")).status, "no key").to.equal(401);
      const open = await rest.get("/admin/disputes?limit=100", adminKey);
      expect(open.status).to.equal(200);
      const listed = open.body.disputes.find((dispute: any) => dispute.task_id === id);
      expect(listed).to.deep.include({ reason: "the sign is not legible", status: "OPEN", decided_by: null });
      expect(listed.task.proof.photos[0].url, "the admin sees the proof's photos").to.be.a("string");

      const bad = await rest.post(`/admin/disputes/${id}/decision`, { decision: "SPLIT", note: "half" }, adminKey);
      expect(bad.status).to.equal(400);
      const decided = await rest.post(`/admin/disputes/${id}/decision`, { decision: "REFUND", note: "illegible sign" }, adminKey);
      expect(decided.status).to.equal(200);
      expect(decided.body).to.deep.include({ status: "DECIDED", decision: "REFUND", decision_note: "illegible sign", decided_by: "ana" });
      expect(decided.body.task.status).to.equal("CANCELLED");
      expect((await rest.post(`/admin/disputes/${id}/decision`, { decision: "RELEASE", note: "again" }, adminKey)).status).to.equal(409);

      const log = await rest.get("/admin/audit-log?limit=1", adminKey);
      expect(log.status).to.equal(200);
      expect(log.body.entries[0]).to.deep.include({ action: "DISPUTE_DECIDED", admin: "ana", task_id: id });
      expect(log.body.pagination.has_more).to.equal(true);
      const older = await rest.get(`/admin/audit-log?limit=100&before=${log.body.pagination.next_cursor}`, adminKey);
      expect(older.body.entries.map((entry: any) => entry.entry_id)).to.not.include(log.body.entries[0].entry_id);
      expect((await rest.get("/tasks", adminKey)).status, "an admin key is not an agent's").to.equal(403);
    });

    it("MCP: post_task takes review_window_minutes; check_status shows the hold; dispute_task disputes with a reason", async () => {
      const mcp = await httpConnector(server.url)(agent.apiKey);
      try {
        const posted = ok(await mcp.call("post_task", restTaskBody({ review_window_minutes: 45 })));
        await waitForStatus(server.client, agent.apiKey, posted.task_id, ["VERIFIED"]);
        const held = ok(await mcp.call("check_status", { task_id: posted.task_id }));
        expect(held).to.deep.include({ status: "VERIFIED", review_window_minutes: 45, dispute: null });
        expect(held.release_held_until).to.be.a("string");
        expect(held.next_step).to.match(/dispute_task/);

        expect(failed(await mcp.call("dispute_task", { task_id: posted.task_id, reason: "" }))).to.match(/reason/);
        const disputed = ok(await mcp.call("dispute_task", { task_id: posted.task_id, reason: "wrong street" }));
        expect(disputed).to.deep.include({ task_id: posted.task_id, status: "DISPUTED" });
        expect(disputed.next_step).to.match(/HumanOps staff decide/);
        const again = failed(await mcp.call("dispute_task", { task_id: posted.task_id, reason: "twice" }));
        expect(again).to.match(/only a VERIFIED task whose release is held can be disputed/);
        expect(ok(await mcp.call("check_status", { task_id: posted.task_id })).dispute).to.deep.include({ reason: "wrong street", status: "OPEN" });
      } finally {
        await mcp.close();
      }
    });

    it("refuses a dispute once the window has closed, and an admin key that is wrong or revoked", async () => {
      const id = await verifiedAndHeld();
      await sql("update tasks set release_held_until = ? where id = ?", [new Date(Date.now() - 1000), id]);
      const late = await server.client.fails(DISPUTE, { id, reason: "late" }, agent.apiKey);
      expect(late.extensions).to.include({ code: "CONFLICT" });
      expect(late.message).to.match(/the review window closed at/);

      const forged = await server.client.fails(AUDIT, {}, `ho_admin_${"A".repeat(43)}`);
      expect(forged.extensions).to.include({ code: "UNAUTHENTICATED" });
      const { key } = await server.app.services.admins.create(server.app.orm.em.fork(), "leaver");
      await server.app.services.admins.revoke(server.app.orm.em.fork(), "leaver");
      expect((await server.client.fails(AUDIT, {}, key)).extensions).to.include({ code: "UNAUTHENTICATED" });
      const audit = (await server.client.ok(AUDIT, {}, adminKey)).adminAuditLog.nodes;
      expect(audit.slice(0, 2).map((entry: any) => [entry.action, entry.adminName])).to.deep.equal([["ADMIN_REVOKED", null], ["ADMIN_CREATED", null]]);
    });

    it("the hold never reaches past the escrow's release window, and a release decision after it closes is refused", async () => {
      const graceMs = server.config.chain.gracePeriodSeconds * 1000;
      const deadline = new Date(Date.now() + 10 * 60_000);
      const id = (await server.client.ok(POST_TASK, { input: taskInput({ reviewWindowMinutes: 10_080, deadline: deadline.toISOString() }) }, agent.apiKey)).postTask.id;
      const { releaseHeldUntil } = await waitForStatus(server.client, agent.apiKey, id, ["VERIFIED"]).then(async () => (await server.client.ok(TASK, { id }, agent.apiKey)).task);
      expect(new Date(releaseHeldUntil).getTime(), "deadline + grace period, less an hour").to.equal(deadline.getTime() + graceMs - 3_600_000);

      await server.client.ok(DISPUTE, { id, reason: "wrong door" }, agent.apiKey);
      await sql("update tasks set deadline = ? where id = ?", [new Date(Date.now() - graceMs), id]);
      const late = await server.client.fails(DECIDE, { taskId: id, decision: "RELEASE", note: "fine" }, adminKey);
      expect(late.extensions).to.include({ code: "CONFLICT" });
      expect(late.message).to.match(/release window closed at .*only REFUND is possible/);
      const refunded = (await server.client.ok(DECIDE, { taskId: id, decision: "REFUND", note: "too late to pay" }, adminKey)).decideDispute;
      expect(refunded.task.status).to.equal("CANCELLED");
    });

    it("a dispute nobody decided before the escrow is reclaimed on chain ends CANCELLED with the agent refunded", async () => {
      const id = await verifiedAndHeld();
      await server.client.ok(DISPUTE, { id, reason: "nobody answers" }, agent.apiKey);
      const start = await balance();
      // What the indexer does when it reads a TaskReclaimed of this escrow (anyone may reclaim after deadline + grace).
      const outcomes = new SettlementOutcomes(server.app.services.tasks, server.app.services.ledger, createLogger("silent"));
      await server.app.orm.em.fork().transactional(async (tx) => {
        const escrow = await tx.findOneOrFail(Escrow, { task: id }, { populate: ["task"] });
        await outcomes.refunded(tx, escrow, { txHash: `0x${"ab".repeat(32)}`, reclaimed: true });
      });
      const { task } = await server.client.ok(TASK, { id }, agent.apiKey);
      expect(task.status).to.equal("CANCELLED");
      expect(task.events.at(-1)).to.deep.include({ fromStatus: "DISPUTED", toStatus: "CANCELLED", actorType: "SYSTEM" });
      expect(task.dispute).to.deep.include({ status: "DECIDED", decision: "REFUND" });
      expect(task.dispute.decisionNote).to.match(/undecided when the escrow was reclaimed on chain/);
      expect(await balance(), "reward and fee back on the agent's balance, once").to.equal(start + 16_500_000n);
      expect((await server.client.fails(DECIDE, { taskId: id, decision: "RELEASE", note: "too late" }, adminKey)).extensions).to.include({ code: "CONFLICT" });
    });
  });
}

async function waitFor(done: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
