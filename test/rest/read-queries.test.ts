import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, restTaskBody } from "../support/rest-client";
import { Mode } from "../../server/common/mode";
import { TaskStatus } from "../../server/tasks/task.enums";
import { wrap } from "@mikro-orm/core";
import type { Page } from "../../server/tasks/task.service";
import { Task } from "../../server/tasks/task.entity";
import { TaskEvent } from "../../server/tasks/task-event.entity";
import { TaskEventKind } from "../../server/tasks/task.enums";
import { readTaskParts } from "../../server/tasks/task-parts";
import { Proof, ProofPhoto } from "../../server/proofs/proof.entity";
import { Verification } from "../../server/guardian/verification.entity";
import { Escrow } from "../../server/escrow/escrow.entity";
import { Operator } from "../../server/operators/operator.entity";

/** Everything a full read shows, but the photo URLs (signed anew on each read). */
const FULL = `id status attempts updatedAt operator { id record { completedTasks ratingCount } } tips { id status } ratings { score ratedBy } dispute { reason status }
  events { id kind fromStatus toStatus actorType actorId reason createdAt }
  proofs { attempt notes createdAt photos { position contentType byteSize sha256 width height takenAt distanceFromTaskM } }
  verification { score verdict reasons checks { name outcome detail photo } createdAt }
  escrow { status chainId network contract chainTaskId amount { usd } funder payee fundTxHash releaseTxHash refundTxHash basescanUrl reclaimableAt }`;

for (const db of testDatabases()) {
  describe(`reading a task takes few statements (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };
    let taskId: string;

    before(async () => {
      // Background work polls rarely (commits still wake it), so what is counted below is the request's own SQL.
      // The chain is still polled as usual: a receipt is only found by polling.
      server = await startServer(db, { WORKER_POLL_MS: "60000", LIVE_POLL_MS: "60000", WEBHOOK_POLL_MS: "60000", CHAIN_RECONCILE_MS: "3600000" });
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("reader");
      const created = await rest.post("/tasks", restTaskBody(), agent.apiKey);
      taskId = created.body.task_id;
      // Paid: every part a read shows exists (events, proof with photos, verification, released escrow, operator).
      await rest.waitForStatus(agent.apiKey, taskId, ["PAID"], 30_000);
      await server.app.escrow.idle();
    });
    after(() => server.stop());

    /** The statements the ORM and the lean reads send while `work` runs (the fewest of three tries, so a stray background poll cannot add to it). */
    async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
      let fewest: string[] | undefined;
      for (let i = 0; i < 3; i++) {
        const seen: string[] = [];
        server.app.orm.config.set("onQuery", (sql: string) => {
          seen.push(sql);
          return sql;
        });
        try {
          await work();
        } finally {
          server.app.orm.config.set("onQuery", (sql: string) => sql);
        }
        if (!fewest || seen.length < fewest.length) fewest = seen;
      }
      return fewest!;
    }

    it("GET /api/v1/tasks/:id of a paid task runs 3 statements: the task, all its parts (operator, tips, ratings and dispute among them), and the operator's record", async () => {
      const statements = await statementsOf(async () => {
        const res = await rest.get(`/tasks/${taskId}`, agent.apiKey);
        expect(res.status).to.equal(200);
        expect(res.body.proof.photos).to.have.length(2);
        expect(res.body.operator_record.completed_tasks).to.equal(1);
      });
      expect(statements, statements.join("\n")).to.have.length(3);
      expect(statements[1]).to.match(/as events,[\s\S]* as operator,[\s\S]* as tips,[\s\S]* as ratings,[\s\S]* as dispute$/);
      expect(statements[2]).to.match(/^with acceptances as/);
    });

    it("a full task(id) answers exactly what the same fields read one query each answer", async () => {
      const one = await server.client.ok(`query($id: ID!) { task(id: $id) { ${FULL} } }`, { id: taskId }, agent.apiKey);
      // A list reads its nodes' parts field by field, as every read did before.
      const listed = await server.client.ok(`{ tasks(first: 1) { nodes { ${FULL} } } }`, {}, agent.apiKey);
      expect(listed.tasks.nodes[0].id).to.equal(taskId);
      expect(one.task).to.deep.equal(listed.tasks.nodes[0]);
      expect(one.task.events.length).to.be.greaterThan(4);
      expect(one.task.escrow.status).to.equal("RELEASED");
    });

    it("a task(id) without its parts reads the task alone", async () => {
      const statements = await statementsOf(() => server.client.ok(`query($id: ID!) { task(id: $id) { id status reward { usd } } }`, { id: taskId }, agent.apiKey));
      expect(statements, statements.join("\n")).to.have.length(1);
    });

    it("a full read's entities are what the ORM's own reads make: the same values, managed, and clean at flush", async () => {
      const principal = { kind: "agent" as const, agentId: agent.id, mode: Mode.TEST, keyId: "unused" };
      const em = server.app.orm.em.fork();
      const task = await server.app.services.tasks.getForAgent(em, principal, taskId);
      const parts = (await readTaskParts(em, taskId))!;
      const orm = server.app.orm.em.fork();
      const values = (entities: Array<object | null>) => entities.map((entity) => entity && wrap(entity).toObject());
      expect(values([task])).to.deep.equal(values([await orm.findOneOrFail(Task, taskId)]));
      expect(values(parts.events)).to.deep.equal(values(await orm.find(TaskEvent, { task: taskId, kind: { $ne: TaskEventKind.MESSAGE_POSTED } }, { orderBy: { id: "asc" } })));
      const proofs = await orm.find(Proof, { task: taskId }, { orderBy: { attempt: "asc" } });
      expect(proofs).to.have.length(1);
      expect(values(parts.proofs)).to.deep.equal(values(proofs));
      const photos = await orm.find(ProofPhoto, { proof: proofs[0].id }, { orderBy: { position: "asc" } });
      expect(photos).to.have.length(2);
      expect(values(parts.photos.get(proofs[0].id)!)).to.deep.equal(values(photos));
      expect(values([parts.verification])).to.deep.equal(values([await orm.findOne(Verification, { task: taskId }, { orderBy: { createdAt: "desc" } })]));
      expect(values([parts.escrow])).to.deep.equal(values([await orm.findOneOrFail(Escrow, { task: taskId })]));
      expect(values([parts.operator])).to.deep.equal(values([await orm.findOneOrFail(Operator, task.operator!.id)]));
      expect(parts.settling).to.equal(null);
      // Managed: the field resolvers' own reads of these rows are answered from the identity map.
      expect(em.getUnitOfWork().getById(Proof.name, proofs[0].id)).to.equal(parts.proofs[0]);
      const statements = await statementsOf(() => em.flush());
      expect(statements, statements.join("\n")).to.deep.equal([]);
    });

    it("another agent's task is not found, and its parts are not shown", async () => {
      const other = await rest.registerAgent("stranger");
      const res = await rest.get(`/tasks/${taskId}`, other.apiKey);
      expect(res.status).to.equal(404);
    });

    it("lists pages through prepared statements exactly as the ORM reads them: first page, cursor, offset, filters", async () => {
      const lister = await rest.registerAgent("lister");
      for (let i = 0; i < 3; i++) expect((await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", title: `page ${i}` }), lister.apiKey)).status).to.equal(201);
      const principal = { kind: "agent" as const, agentId: lister.id, mode: Mode.TEST, keyId: "unused" };
      const tasks = server.app.services.tasks;
      const shown = (page: Page<Task>) => ({ ids: page.nodes.map((task) => task.id), totalCount: page.totalCount, hasNextPage: page.hasNextPage, endCursor: page.endCursor });
      // Inside a transaction the service reads through the ORM: the reference.
      const both = async (read: (em: typeof server.app.orm.em) => Promise<Page<Task>>) => {
        const lean = shown(await read(server.app.orm.em.fork()));
        const orm = shown(await server.app.orm.em.fork().transactional((tx) => read(tx)));
        expect(lean).to.deep.equal(orm);
        return lean;
      };
      const first = await both((em) => tasks.list(em, principal, {}, 2));
      expect(first.ids).to.have.length(2);
      expect(first).to.include({ totalCount: 3, hasNextPage: true });
      const next = await both((em) => tasks.list(em, principal, {}, 2, first.endCursor));
      expect(next.ids).to.have.length(1);
      expect(next.hasNextPage).to.equal(false);
      expect(await both((em) => tasks.list(em, principal, {}, 2, undefined, 1))).to.include({ totalCount: 3 });
      expect((await both((em) => tasks.list(em, principal, { status: TaskStatus.PAID }, 5))).totalCount).to.equal(0);
      expect((await both((em) => tasks.list(em, principal, { status: TaskStatus.POSTED }, 5))).ids).to.have.members([...first.ids, ...next.ids]);
    });
  });
}
