import { expect } from "chai";
import { CallToolResultSchema, ResourceUpdatedNotificationSchema, type CallToolResult, type Progress, type ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import type { TestServer } from "../../support/server";
import { registerAgent } from "../../support/fixtures";
import { restTaskBody } from "../../support/rest-client";
import type { Connect, McpConnection } from "./connections";

/** What each transport's suite provides to the scenarios every transport must pass. */
export interface ScenarioContext {
  server: TestServer;
  connect: Connect;
  /** Everything the MCP server logged: the stdio process's stderr, or the app's log for /mcp. */
  logs(): string;
  /** Whether a connection opened without a key acts with the key register_agent gives it (stdio: one host, one process). */
  adoptsRegisteredKey: boolean;
}

export const TOOL_NAMES = [
  "register_agent",
  "estimate_cost",
  "post_task",
  "wait_for_task",
  "check_status",
  "list_tasks",
  "review_proof",
  "cancel_task",
  "get_balance",
  "get_deposit_address",
  "register_webhook",
  "list_webhooks",
  "delete_webhook",
  "send_message",
  "get_messages",
  "rate_operator",
  "dispute_task",
  "change_task",
  "tip_operator",
];

export function ok(result: CallToolResult): Record<string, any> {
  expect(result.isError, JSON.stringify(result.content)).to.not.equal(true);
  expect(JSON.parse((result.content[0] as { text: string }).text)).to.deep.equal(result.structuredContent);
  return result.structuredContent as Record<string, any>;
}

export function failed(result: CallToolResult): string {
  expect(result.isError, JSON.stringify(result.structuredContent)).to.equal(true);
  return (result.content[0] as { text: string }).text;
}

function resourceJson(read: ReadResourceResult): Record<string, any> {
  const [content] = read.contents;
  expect(content.mimeType).to.equal("application/json");
  return JSON.parse("text" in content ? content.text : "");
}

/** A task with its photo URLs' expiry and signature left out: each read signs them afresh. */
const unsigned = (task: Record<string, any>) => JSON.parse(JSON.stringify(task).replace(/&expires=\d+&signature=[0-9a-f]+/g, ""));

/** The status changes of a task's event log (its ESCROW_FUNDED entry is asserted where its place is certain). */
const transitions = (task: Record<string, any>) => task.events.filter((e: any) => e.kind === "STATUS_CHANGED").map((e: any) => `${e.from_status ?? "∅"}→${e.to_status}`);

/** Every tool and resource, exercised through one transport against a HumanOps in test mode. */
export function toolScenarios(context: () => ScenarioContext): void {
  let mcp: McpConnection;
  const connections: McpConnection[] = [];
  /** The keys connections were configured with (not the ones register_agent hands out, which are its output). */
  const configuredKeys: string[] = [];
  const newAgentKey = async (name: string) => {
    const { apiKey } = await registerAgent(context().server.client, name);
    configuredKeys.push(apiKey);
    return apiKey;
  };
  const open = async (apiKey?: string) => {
    const connection = await context().connect(apiKey);
    connections.push(connection);
    return connection;
  };
  const post = async (overrides: Record<string, unknown> = {}) => ok(await mcp.call("post_task", restTaskBody(overrides)));

  before(async () => {
    mcp = await open(await newAgentKey("mcp-agent"));
  });
  after(() => Promise.all(connections.map((connection) => connection.close())));

  it("lists every tool with a title, a description, input and output schemas and annotations", async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((tool) => tool.name)).to.deep.equal(TOOL_NAMES);
    for (const tool of tools) {
      expect(tool.title, tool.name).to.be.a("string");
      expect(tool.description, tool.name).to.have.length.above(40);
      expect(tool.inputSchema.type, tool.name).to.equal("object");
      expect(tool.annotations, tool.name).to.include.keys("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint");
      expect(tool.outputSchema?.type, tool.name).to.equal("object");
    }
    expect(tools.find((tool) => tool.name === "wait_for_task")?.execution).to.deep.equal({ taskSupport: "optional" });
  });

  it("the brief's flow: estimate, post, wait with progress until PAID, check, list, balance", async () => {
    const { balance_usd: before } = ok(await mcp.call("get_balance"));
    const estimate = ok(await mcp.call("estimate_cost", { reward_usd: 15 }));
    expect(estimate).to.deep.equal({ reward_usd: "15.00", fee_usd: "1.50", total_usd: "16.50", fee_bps: 1000, balance_usd: before, affordable: true });

    const posted = await post();
    expect(posted).to.include({ status: "POSTED", title: "Photo of storefront", reward_usd: "15.00", fee_usd: "1.50", total_usd: "16.50" });
    expect(posted.next_step).to.contain("wait_for_task");

    const progress: Progress[] = [];
    const waited = (await mcp.client.callTool(
      { name: "wait_for_task", arguments: { task_id: posted.task_id, until_status: ["PAID"] } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true },
    )) as CallToolResult;
    mcp.transcript.push(JSON.stringify(waited), JSON.stringify(progress));
    const { task, reached, timed_out } = ok(waited);
    expect({ status: task.status, reached, timed_out }).to.deep.equal({ status: "PAID", reached: true, timed_out: false });
    // The model sees what it bought: each photo's display copy as an image, and a link to the original.
    const images = waited.content.filter((block) => block.type === "image");
    expect(images.map((image) => image.mimeType)).to.deep.equal(["image/jpeg", "image/jpeg"]);
    expect(Buffer.from((images[0] as { data: string }).data, "base64").subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).to.equal(true);
    const links = waited.content.filter((block) => block.type === "resource_link") as Array<{ uri: string; mimeType?: string }>;
    expect(links.map((link) => link.mimeType)).to.deep.equal(["image/jpeg", "image/jpeg"]);
    const original = await fetch(links[0].uri);
    expect(original.status, "the original opens from its link without a key").to.equal(200);
    expect(original.headers.get("content-type")).to.equal("image/jpeg");
    expect(progress, "progress notifications while waiting").to.not.be.empty;
    expect(progress.every((p) => p.total === 50 && typeof p.message === "string")).to.equal(true);
    expect(progress.map((p) => p.progress)).to.deep.equal([...progress.map((p) => p.progress)].sort((a, b) => a - b));

    const checkedResult = await mcp.call("check_status", { task_id: posted.task_id });
    const checked = ok(checkedResult);
    expect(Object.fromEntries(Object.keys(task).map((key) => [key, checked[key]])), "the brief is the full task's own fields").to.deep.equal(task);
    expect(checkedResult.content.filter((block) => block.type === "image"), "check_status shows the photos too").to.have.length(2);
    expect(checked.next_step).to.match(/^Done/);
    expect(checked).to.include({ mode: "test", task_type: "PHOTO", currency: "USDC" });
    expect(checked.location).to.deep.equal({ lat: 30.2672, lng: -97.7431, address: "123 Main St, Austin, TX" });
    expect(transitions(checked)).to.deep.equal(["∅→POSTED", "POSTED→ACCEPTED", "ACCEPTED→SUBMITTED", "SUBMITTED→VERIFIED", "VERIFIED→PAID"]);
    expect(checked.verification).to.include({ score: 100, verdict: "APPROVE" });
    expect(checked.verification.checks.find((c: any) => c.name === "reuse" && c.photo === 0), "the Guardian's checks, one by one").to.include({ outcome: "PASS" });
    expect(checked.proof.photos).to.have.length(2);
    expect(checked.operator_id).to.be.a("string");
    expect(checked.capture_code, "the code the mock operator was given (and held up in its first photo)").to.match(/^[A-Z]{2}-\d{4}$/);
    const { next_step: _nextStep, ...shown } = checked;
    const rest = await fetch(`${context().server.url}/api/v1/tasks/${posted.task_id}`, { headers: { "X-API-Key": configuredKeys[0] } });
    expect(unsigned(shown), "the same task over MCP as over REST").to.deep.equal(unsigned((await rest.json()) as Record<string, any>));
    expect(shown.escrow, "with its escrow released on chain").to.deep.include({ status: "RELEASED", network: "local" });

    const listed = ok(await mcp.call("list_tasks", { status: "PAID" }));
    expect(listed.tasks.map((t: any) => t.task_id)).to.include(posted.task_id);
    expect(listed.tasks.every((t: any) => t.status === "PAID")).to.equal(true);
    const { balance_usd: after } = ok(await mcp.call("get_balance"));
    expect(Number(before) - Number(after)).to.be.closeTo(16.5, 1e-9);
  });

  it("list_tasks pages with a cursor", async () => {
    await post({ test_scenario: "MANUAL", title: "First of two" });
    await post({ test_scenario: "MANUAL", title: "Second of two" });
    const first = ok(await mcp.call("list_tasks", { limit: 1, status: "POSTED" }));
    expect(first.tasks).to.have.length(1);
    expect(first.total_count).to.be.at.least(2);
    expect(first.next_cursor).to.be.a("string");
    const second = ok(await mcp.call("list_tasks", { limit: 1, status: "POSTED", cursor: first.next_cursor }));
    expect(second.tasks[0].task_id).to.not.equal(first.tasks[0].task_id);
  });

  it("wait_for_task returns at once when the task already left the status you knew, and times out with the task as it is", async () => {
    const posted = await post({ test_scenario: "MANUAL" });
    const moved = ok(await mcp.call("wait_for_task", { task_id: posted.task_id, known_status: "ACCEPTED", timeout_seconds: 30 }));
    expect(moved).to.include({ reached: true, timed_out: false });
    expect(moved.task.status).to.equal("POSTED");

    const timedOut = ok(await mcp.call("wait_for_task", { task_id: posted.task_id, timeout_seconds: 1 }));
    expect(timedOut).to.include({ reached: false, timed_out: true });
    expect(timedOut.waited_seconds).to.be.within(1, 5);
    expect(timedOut.task.status).to.equal("POSTED");
  });

  it("review_proof approves proof the Guardian sent to MANUAL_REVIEW; the operator is paid", async () => {
    const posted = await post({ test_scenario: "REVIEW" });
    const review = ok(await mcp.call("wait_for_task", { task_id: posted.task_id, until_status: ["PAID"] }));
    expect(review, "stops early: nothing moves until the agent decides").to.include({ reached: false, timed_out: false });
    expect(review.task.status).to.equal("MANUAL_REVIEW");
    expect(review.task.next_step).to.contain("check_status").and.to.contain("review_proof");
    expect(ok(await mcp.call("check_status", { task_id: posted.task_id })).verification.verdict).to.equal("REVIEW");

    const approved = ok(await mcp.call("review_proof", { task_id: posted.task_id, decision: "APPROVE", reason: "the facade is visible" }));
    expect(approved.status).to.be.oneOf(["VERIFIED", "PAID"]);
    const paid = ok(await mcp.call("wait_for_task", { task_id: posted.task_id, until_status: ["PAID"] }));
    expect(paid.task.status).to.equal("PAID");
    const { events } = ok(await mcp.call("check_status", { task_id: posted.task_id }));
    expect(events.find((e: any) => e.to_status === "VERIFIED")).to.include({ actor_type: "AGENT", reason: "the facade is visible" });

    const again = failed(await mcp.call("review_proof", { task_id: posted.task_id, decision: "REJECT" }));
    expect(again).to.match(/^CONFLICT: only a MANUAL_REVIEW task can be reviewed; this task is PAID\. Call check_status/);
  });

  it("cancel_task refunds everything; cancelling again is a CONFLICT that says what to do", async () => {
    const { balance_usd: before } = ok(await mcp.call("get_balance"));
    const posted = await post({ test_scenario: "MANUAL", reward_usd: "2.5" });
    expect(ok(await mcp.call("get_balance")).balance_usd).to.not.equal(before);
    const cancelled = ok(await mcp.call("cancel_task", { task_id: posted.task_id, reason: "no longer needed" }));
    expect(cancelled.status).to.equal("CANCELLED");
    expect(ok(await mcp.call("check_status", { task_id: posted.task_id })).events.at(-1)).to.include({ from_status: "POSTED", to_status: "CANCELLED", reason: "no longer needed" });
    expect(ok(await mcp.call("get_balance")).balance_usd).to.equal(before);
    expect(failed(await mcp.call("cancel_task", { task_id: posted.task_id }))).to.match(/^CONFLICT: .*CANCELLED.*check_status/);
  });

  it("bad arguments are answered with isError naming the argument and the rule", async () => {
    expect(failed(await mcp.call("post_task", restTaskBody({ title: undefined })))).to.match(/^BAD_USER_INPUT: invalid argument `title`: is required, e\.g\. "Photo of storefront"\./);
    expect(failed(await mcp.call("post_task", restTaskBody({ task_type: "DANCE" })))).to.match(/`task_type`: must be one of PHOTO, DELIVERY, .*, e\.g\. PHOTO\./);
    expect(failed(await mcp.call("post_task", restTaskBody({ location: { lat: 91, lng: 0 } })))).to.match(/`location\.lat`: must be a number from -90 to 90, e\.g\. 0\./);
    expect(failed(await mcp.call("post_task", restTaskBody({ deadline: new Date(Date.now() - 60_000).toISOString() })))).to.equal(
      "BAD_USER_INPUT: invalid argument `deadline`: must be in the future. Correct `deadline` and call the tool again.",
    );
    expect(failed(await mcp.call("post_task", restTaskBody({ reward_usd: "12.3456789" })))).to.match(/^BAD_USER_INPUT: invalid argument `reward_usd`: must have at most 6 decimal places/);
    expect(failed(await mcp.call("post_task", restTaskBody({ proof_requirements: ["ok", " "] })))).to.match(/`proof_requirements\[1\]`: must not be empty/);
    expect(failed(await mcp.call("post_task", restTaskBody({ max_attempts: 11 })))).to.match(/`max_attempts`: must be a whole number from 1 to 10/);
    expect(failed(await mcp.call("estimate_cost", { reward_usd: "abc" }))).to.match(/^BAD_USER_INPUT: invalid argument `reward_usd`/);
    expect(failed(await mcp.call("list_tasks", { limit: 0 }))).to.match(/`limit`: must be a whole number from 1 to 100, e\.g\. 1\./);
    expect(failed(await mcp.call("list_tasks", { cursor: "not-a-cursor" }))).to.match(/`cursor`/);
    expect(failed(await mcp.call("wait_for_task", { task_id: "x", timeout_seconds: 0 }))).to.match(/`timeout_seconds`: must be a whole number from 1 to 3600/);
    expect(failed(await mcp.call("review_proof", { task_id: "x", decision: "MAYBE" }))).to.match(/`decision`: must be one of APPROVE, REJECT/);
    expect(failed(await mcp.call("check_status", {}))).to.equal("BAD_USER_INPUT: invalid argument `task_id`: is required. Correct `task_id` and call the tool again.");
  });

  it("arguments the tool's schema refuses come back in the same style, with a valid value that works", async () => {
    const message = failed(await mcp.call("post_task", restTaskBody({ deadline: "next tuesday" })));
    const [, example] = /^BAD_USER_INPUT: invalid argument `deadline`: must be an ISO-8601 date-time with a time zone, e\.g\. (\S+)\. Correct `deadline` and call the tool again\.$/.exec(message) ?? [];
    expect(example, message).to.be.a("string");
    expect(ok(await mcp.call("post_task", restTaskBody({ deadline: example, test_scenario: "MANUAL" }))).deadline, "the example is accepted").to.equal(new Date(example).toISOString());
    expect(failed(await mcp.call("post_task", restTaskBody({ reward_usd: true, title: 7 })))).to.equal(
      'BAD_USER_INPUT: invalid arguments: `title`: must be a string, e.g. "Photo of storefront"; `reward_usd`: must be a number or a decimal string, e.g. 15 or "12.50". ' +
        "Correct `title`, `reward_usd` and call the tool again.",
    );
    expect(failed(await mcp.call("register_webhook", { url: "http://127.0.0.1:9/x", event_types: ["task.exploded"] }))).to.match(/^BAD_USER_INPUT: invalid argument `event_types\[0\]`: must be one of task\.status_changed, .*, e\.g\. task\.status_changed\./);
  });

  it("a task too expensive for the balance: INSUFFICIENT_FUNDS with the amounts, the shortfall and what to do", async () => {
    const { balance_usd: balance } = ok(await mcp.call("get_balance"));
    const estimate = ok(await mcp.call("estimate_cost", { reward_usd: 9_999 }));
    expect(estimate).to.include({ total_usd: "10998.90", affordable: false });
    const message = failed(await mcp.call("post_task", restTaskBody({ reward_usd: 9_999 })));
    const short = (10_998.9 - Number(balance)).toFixed(2);
    expect(message).to.contain(`INSUFFICIENT_FUNDS: the balance is too low: this needs 10998.90 USDC (reward + fee) and ${balance} USDC is available, ${short} USDC short.`);
    expect(message).to.contain("estimate_cost").and.to.contain("get_deposit_address");
    expect(ok(await mcp.call("get_balance")).balance_usd, "nothing was taken").to.equal(balance);
  });

  it("tasks of other agents are not visible: NOT_FOUND, with where task ids come from", async () => {
    const posted = await post({ test_scenario: "MANUAL" });
    const other = await open(await newAgentKey("other-agent"));
    for (const tool of ["check_status", "cancel_task", "wait_for_task"]) {
      expect(failed(await other.call(tool, { task_id: posted.task_id })), tool).to.match(/^NOT_FOUND: task \S+ not found\. Ids come from the tool that created the object or from its list \(post_task or list_tasks/);
    }
    expect(ok(await other.call("list_tasks")).tasks).to.deep.equal([]);
    expect(ok(await mcp.call("check_status", { task_id: posted.task_id })).status).to.equal("POSTED");
  });

  it("register_agent needs no key; without a key the other tools say how to get and give one", async () => {
    const anonymous = await open();
    expect(failed(await anonymous.call("get_balance"))).to.match(/^UNAUTHENTICATED: HumanOps needs a valid API key: .*Get one with register_agent, then /);
    expect(failed(await anonymous.call("register_agent", { name: "Scout", email: "not-an-email" }))).to.match(/^BAD_USER_INPUT: invalid argument `email`: must be an email address/);
    const registered = ok(await anonymous.call("register_agent", { name: "Scout", email: "scout@agents.test" }));
    expect(registered).to.include({ name: "Scout", email: "scout@agents.test" });
    expect(registered.api_key).to.match(/^ho_test_/);
    expect(registered.next_step).to.contain("not shown again");

    if (context().adoptsRegisteredKey) {
      expect(registered.next_step).to.contain("This session now acts as this agent").and.to.contain('"HUMANOPS_API_KEY"');
      expect(ok(await anonymous.call("get_balance")), "the same session, no restart").to.include({ balance_usd: "10000.00", mode: "test" });
      const again = ok(await anonymous.call("register_agent", { name: "Scout 2", email: "scout2@agents.test" }));
      expect(again.next_step, "a session with a key keeps it").to.not.contain("This session now acts");
      expect(ok(await anonymous.call("get_balance")).agent_id).to.equal(registered.agent_id);
    } else {
      expect(failed(await anonymous.call("get_balance")), "the session stays bound to the key it was opened with").to.match(/^UNAUTHENTICATED: /);
      const newcomer = await open(registered.api_key);
      expect(ok(await newcomer.call("get_balance"))).to.include({ balance_usd: "10000.00", mode: "test" });
    }
  });

  it("get_deposit_address names the address, chain and token deposits are credited from", async () => {
    const deposit = ok(await mcp.call("get_deposit_address"));
    expect(deposit.address).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(deposit.usdc_contract).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(deposit).to.include({ mode: "test", network: "local" });
    expect(deposit.chain_id).to.be.a("number");
    expect(deposit.confirmations).to.be.at.least(1);
    expect(deposit.linked_wallets).to.deep.equal([]);
  });

  it("webhooks: register (secret shown once), list, delete", async () => {
    const owner = await open(await newAgentKey("webhook-agent"));
    const created = ok(await owner.call("register_webhook", { url: "http://127.0.0.1:9/humanops", event_types: ["task.paid"], description: "payouts" }));
    expect(created).to.include({ url: "http://127.0.0.1:9/humanops", status: "ACTIVE", description: "payouts" });
    expect(created.event_types).to.deep.equal(["task.paid"]);
    expect(created.secret).to.be.a("string").with.length.above(23);
    expect(created.secret_fingerprint).to.have.length(12);
    const listed = ok(await owner.call("list_webhooks"));
    expect(JSON.stringify(listed)).to.not.contain(created.secret);
    expect(listed.endpoints.map((endpoint: any) => endpoint.endpoint_id)).to.deep.equal([created.endpoint_id]);
    expect(ok(await owner.call("delete_webhook", { endpoint_id: created.endpoint_id }))).to.deep.equal({ endpoint_id: created.endpoint_id, deleted: true });
    expect(ok(await owner.call("list_webhooks")).endpoints).to.deep.equal([]);
    expect(failed(await owner.call("delete_webhook", { endpoint_id: created.endpoint_id }))).to.match(/^NOT_FOUND: webhook endpoint \S+ not found\. .*list_webhooks/);
  });

  it("wait_for_task as an MCP task: created at once, then the host is told when the human finished", async () => {
    const posted = await post();
    const stream = mcp.client.experimental.tasks.callToolStream(
      { name: "wait_for_task", arguments: { task_id: posted.task_id, until_status: ["PAID"] } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    );
    const kinds: string[] = [];
    let result: CallToolResult | undefined;
    for await (const message of stream) {
      kinds.push(message.type);
      if (message.type === "result") result = message.result as CallToolResult;
      if (message.type === "error") throw message.error;
    }
    expect(kinds[0]).to.equal("taskCreated");
    expect(kinds.at(-1)).to.equal("result");
    mcp.transcript.push(JSON.stringify(result));
    expect(ok(result!).task.status).to.equal("PAID");
  });

  it("each task is a resource with its event log; a subscriber is notified when it changes", async () => {
    const posted = await post({ test_scenario: "MANUAL" });
    const uri = `humanops://tasks/${posted.task_id}`;
    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).to.deep.equal(["humanops://tasks/{task_id}"]);
    const { resources } = await mcp.client.listResources();
    const listed = resources.find((r) => r.uri === uri);
    expect(listed?.name, "a readable name, not the bare id").to.equal(`Photo of storefront · task ${posted.task_id.slice(0, 8)}`);

    const read = await mcp.client.readResource({ uri });
    const task = resourceJson(read);
    expect(task).to.include({ task_id: posted.task_id, status: "POSTED" });
    expect(transitions(task)).to.deep.equal(["∅→POSTED"]);

    const updated = new Promise<string>((resolve) => {
      mcp.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => resolve(notification.params.uri));
    });
    await mcp.client.subscribeResource({ uri });
    ok(await mcp.call("cancel_task", { task_id: posted.task_id }));
    expect(await updated).to.equal(uri);
    expect(resourceJson(await mcp.client.readResource({ uri })).status).to.equal("CANCELLED");
    await mcp.client.unsubscribeResource({ uri });

    const missing = await mcp.client.readResource({ uri: "humanops://tasks/00000000-0000-4000-8000-000000000000" }).catch((err: Error & { code?: number }) => err);
    expect(missing).to.be.instanceOf(Error).and.to.include({ code: -32002 });
  });

  it("change_task edits and raises a task, recorded as TASK_CHANGED; tip_operator tips a PAID one; bad input names the argument", async () => {
    const posted = await post({ test_scenario: "MANUAL", reward_usd: "3" });
    const changed = ok(await mcp.call("change_task", { task_id: posted.task_id, title: "Photo of the corner store", reward_usd: "4", reason: "bigger job" }));
    expect(changed).to.include({ status: "POSTED", title: "Photo of the corner store", reward_usd: "4.00", fee_usd: "0.40", total_usd: "4.40" });
    expect(ok(await mcp.call("check_status", { task_id: posted.task_id })).events.at(-1)).to.include({ kind: "TASK_CHANGED", reason: "changed by the agent: title; reward 3.00 → 4.00 USD (bigger job)" });
    expect(failed(await mcp.call("change_task", { task_id: posted.task_id, reward_usd: "1" }))).to.match(/^BAD_USER_INPUT: invalid argument `reward_usd`: can only be raised/);
    expect(failed(await mcp.call("tip_operator", { task_id: posted.task_id, amount_usd: 1 }))).to.match(/^CONFLICT: only a PAID task can be tipped; this task is POSTED/);
    ok(await mcp.call("cancel_task", { task_id: posted.task_id }));

    const paid = await post({ reward_usd: "2" });
    expect(ok(await mcp.call("wait_for_task", { task_id: paid.task_id, until_status: ["PAID"] })).task.status).to.equal("PAID");
    let tipped: Record<string, any> | undefined;
    for (let i = 0; i < 100 && !tipped; i++) {
      const result = await mcp.call("tip_operator", { task_id: paid.task_id, amount_usd: "0.5", note: "thanks" });
      if (!result.isError) tipped = ok(result);
      else {
        expect(failed(result), "only the release's booking can lag behind PAID").to.match(/release has not been recorded yet/);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(tipped!.tips).to.have.length(1);
    expect(tipped!.tips[0]).to.include({ amount_usd: "0.50", status: "PENDING", note: "thanks" });
  });

  it("the API keys never appear in any tool result, notification or log line", async () => {
    const everything = connections.flatMap((connection) => [...connection.transcript, connection.stderr()]).join("\n") + context().logs();
    expect(everything.length).to.be.above(10_000);
    expect(configuredKeys).to.have.length(3);
    for (const key of configuredKeys) expect(everything).to.not.contain(key.slice("ho_test_".length));
  });
}
