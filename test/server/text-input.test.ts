import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, restTaskBody, type RestResult } from "../support/rest-client";
import { PAYOUT_ADDRESS, POST_TASK, REGISTER_AGENT, REGISTER_OPERATOR, registerAgent, taskInput } from "../support/fixtures";

const NUL = "\u0000";
const LONE_SURROGATE = "\ud800";

function expectRestRefusal(res: RestResult, field: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error).to.include({ code: "BAD_USER_INPUT", field });
  expect(res.body.error.message.startsWith(`${field}: `)).to.equal(true);
}

for (const db of testDatabases()) {
  describe(`text inputs are clean Unicode text: NUL and unpaired surrogates are refused at the edge (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      agent = await registerAgent(server.client, "clean-text");
    });
    after(() => server.stop());

    const refusedOverGraphQL = async (query: string, variables: Record<string, unknown>, field: string, apiKey?: string) => {
      const res = await server.client.request(query, variables, apiKey);
      expect(res.status, JSON.stringify(res.errors)).to.equal(400);
      expect(res.data).to.equal(undefined);
      expect(res.errors![0].extensions).to.include({ code: "BAD_USER_INPUT", field });
      expect(res.errors![0].message).to.match(new RegExp(`^${field.replace(/[.[\]]/g, "\\$&")}: must`));
    };

    it("GraphQL: in variables, at any depth, naming the field", async () => {
      await refusedOverGraphQL(POST_TASK, { input: taskInput({ title: `Photo${NUL}` }) }, "title", agent.apiKey);
      await refusedOverGraphQL(POST_TASK, { input: taskInput({ description: `a${LONE_SURROGATE}b` }) }, "description", agent.apiKey);
      await refusedOverGraphQL(POST_TASK, { input: taskInput({ location: { lat: 1, lng: 1, address: `Main St${NUL}` } }) }, "location.address", agent.apiKey);
      await refusedOverGraphQL(POST_TASK, { input: taskInput({ proofRequirements: ["ok", `${NUL}`] }) }, "proofRequirements[1]", agent.apiKey);
      const email = `nul-${randomUUID()}@agents.test`;
      await refusedOverGraphQL(REGISTER_AGENT, { input: { name: `N${NUL}`, email } }, "name");
      await refusedOverGraphQL(REGISTER_AGENT, { input: { name: "N", email: `${email}${NUL}` } }, "email");
      await refusedOverGraphQL(REGISTER_OPERATOR, { input: { name: "O", email: `o${NUL}@operators.test`, payoutAddress: PAYOUT_ADDRESS } }, "email");
      await refusedOverGraphQL(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`, { input: { url: "http://127.0.0.1:9/hook", description: `hook${LONE_SURROGATE}` } }, "description", agent.apiKey);
      const registered = await server.client.ok(REGISTER_AGENT, { input: { name: "N", email } });
      expect(registered.registerAgent.agent.name, "nothing was written by the refused calls").to.equal("N");
      const { tasks } = await server.client.ok(`{ tasks { totalCount } }`, {}, agent.apiKey);
      expect(tasks.totalCount).to.equal(0);
    });

    it("GraphQL: in literal arguments too", async () => {
      await refusedOverGraphQL(`mutation { registerAgent(input: { name: "a\\u0000b", email: "lit@agents.test" }) { apiKey } }`, {}, "name");
      await refusedOverGraphQL(`{ task(id: "\\u0000") { id } }`, {}, "id", agent.apiKey);
    });

    it("a well-formed pair of surrogates (an emoji) is text like any other", async () => {
      const posted = await server.client.ok(POST_TASK, { input: taskInput({ title: "Storefront 📸" }) }, agent.apiKey);
      expect(posted.postTask.title).to.equal("Storefront 📸");
    });

    it("REST: 400 naming the field as REST spells it", async () => {
      expectRestRefusal(await rest.post("/tasks", restTaskBody({ title: `x${NUL}` }), agent.apiKey), "title");
      expectRestRefusal(await rest.post("/tasks", restTaskBody({ proof_requirements: ["ok", `x${LONE_SURROGATE}`] }), agent.apiKey), "proof_requirements[1]");
      expectRestRefusal(await rest.post("/tasks", restTaskBody({ location: { lat: 1, lng: 1, address: `x${NUL}` } }), agent.apiKey), "location.address");
      expectRestRefusal(await rest.post("/agents/register", { name: "r", email: `r${NUL}@agents.test` }), "email");
      expectRestRefusal(await rest.post("/operators/register", { name: `r${NUL}`, email: "r@operators.test", payout_address: PAYOUT_ADDRESS }), "name");
    });
  });
}
