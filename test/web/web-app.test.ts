import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import sharp from "sharp";
import { generatePhoto } from "../../server/photos/photo.samples";
import { Dispute } from "../../server/disputes/dispute.entity";
import { Task } from "../../server/tasks/task.entity";
import { TaskEvent } from "../../server/tasks/task-event.entity";
import { TaskTip } from "../../server/tasks/task-tip.entity";
import { FakeSumsub } from "../support/fake-sumsub";
import { startServer, type TestServer } from "../support/server";
import { eventually } from "../support/until";

/**
 * The web app in a real browser (Debian's Chromium, driven by
 * playwright-core) against a real HumanOps serving the built dist/web: an
 * agent and an operator in two browser contexts walk a task from posting to
 * payout, the agent's screens updating live over graphql-ws. Screenshots of
 * the main screens go to docs/screenshots (shown in the README).
 */

const ROOT = path.resolve(__dirname, "..", "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = path.join(ROOT, "docs", "screenshots");
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
/** Where the tasks are: Austin, TX (the product brief's example). */
const TASK_POINT = { lat: 30.2672, lng: -97.7431 };
const PAYOUT_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** A date as a datetime-local input takes it, in the browser's (and this process's) local time. */
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A phone camera's JPEG: GPS at `at`, taken at `takenAt` (UTC, offset written), 1024x768. */
async function cameraPhoto(seed: number, at: { lat: number; lng: number }, takenAt: Date, size = { width: 1024, height: 768 }): Promise<Buffer> {
  const dms = (value: number) => {
    const abs = Math.abs(value);
    const degrees = Math.floor(abs);
    const minutes = Math.floor((abs - degrees) * 60);
    const seconds = Math.round(((abs - degrees) * 60 - minutes) * 60 * 1000);
    return `${degrees}/1 ${minutes}/1 ${seconds}/1000`;
  };
  const stamp = takenAt.toISOString().slice(0, 19).replace("T", " ").replace(/-/g, ":");
  return sharp(generatePhoto(seed, size.width, size.height))
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: "Pixel", Model: "Phone 9" },
      IFD2: { DateTimeOriginal: stamp, OffsetTimeOriginal: "+00:00" },
      IFD3: { GPSLatitudeRef: at.lat >= 0 ? "N" : "S", GPSLatitude: dms(at.lat), GPSLongitudeRef: at.lng >= 0 ? "E" : "W", GPSLongitude: dms(at.lng) },
    })
    .toBuffer();
}

/**
 * The outside origins the page may load from: map tiles (a plain 256 px
 * tile) and a stand-in for Sumsub's WebSDK script that speaks its builder API
 * and shows the access token it was given.
 */
async function startVendor(): Promise<{ url: string; tiles: number; tilesDown: boolean; hooks: number; close(): Promise<void> }> {
  const tile = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 223, g: 231, b: 239 } } }).png().toBuffer();
  const sdk = `window.snsWebSdk = { init: function (token, refresh) {
    var b = { withConf: function () { return b; }, withOptions: function () { return b; }, on: function () { return b; },
      build: function () { return { launch: function (selector) {
        var box = document.querySelector(selector); var p = document.createElement("p");
        p.setAttribute("data-testid", "sumsub-standin"); p.textContent = "Identity check opened with token " + token.slice(0, 6) + "\\u2026";
        box.appendChild(p); } }; } };
    return b; } };`;
  const state = { url: "", tiles: 0, tilesDown: false, hooks: 0, close: async () => undefined as void };
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith("/tiles/")) {
      // Down: the connection drops, as an unreachable tile server's would.
      if (state.tilesDown) return void req.socket.destroy();
      state.tiles++;
      res.writeHead(200, { "content-type": "image/png", "cache-control": "max-age=3600" }).end(tile);
    } else if (req.url === "/hook" && req.method === "POST") {
      // A webhook receiver (test-mode endpoints may be loopback http).
      state.hooks++;
      req.resume().on("end", () => res.writeHead(204).end());
    } else if (req.url === "/sumsub/websdk.js") {
      res.writeHead(200, { "content-type": "application/javascript" }).end(sdk);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return state;
}

describe("web app in Chromium", function () {
  this.timeout(90_000);
  let browser: Browser;
  let server: TestServer;
  let vendor: Awaited<ReturnType<typeof startVendor>>;
  let sumsub: FakeSumsub;
  const contexts: BrowserContext[] = [];
  /** Console errors and uncaught exceptions of every page, and the HTTP failures each page saw. */
  const problems: string[] = [];
  const httpFailures: string[] = [];
  /** HTTP failures a test provokes on purpose: "<status> <path>". */
  let expectedFailures: RegExp[] = [];
  /** Console errors a test provokes on purpose. */
  let expectedConsole: RegExp[] = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`no Chromium at ${CHROMIUM}: CI installs Debian's chromium package (.ci/run)`);
      console.log(`      skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
      this.skip();
    }
    // The app as `npm start` serves it (a no-op when web/ has not changed since the last build).
    execFileSync(process.execPath, [path.join(ROOT, "scripts", "build.js"), "web"], { cwd: ROOT, stdio: "inherit" });
    vendor = await startVendor();
    sumsub = await new FakeSumsub().start();
    server = await startServer(
      { database: { kind: "sqlite", path: ":memory:" } },
      {
        ...sumsub.env(),
        WEB_DIST_DIR: path.join(ROOT, "dist", "web"),
        WEB_MAP_TILE_URL: `${vendor.url}/tiles/{z}/{x}/{y}.png`,
        SUMSUB_WEBSDK_URL: `${vendor.url}/sumsub/websdk.js`,
      },
    );
    sumsub.webhookUrl = `${server.url}/webhooks/sumsub`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await vendor?.close();
    await sumsub?.close();
  });

  beforeEach(() => {
    problems.length = 0;
    httpFailures.length = 0;
    // Signed out, the app asks who is signed in and is told 401: that is how it knows to show the sign-in page.
    expectedFailures = [/^401 \/auth\/session$/];
    expectedConsole = [];
  });

  afterEach(async function () {
    for (const context of contexts.splice(0)) await context.close();
    if (this.currentTest?.state !== "passed") return;
    const unexplained = problems.filter((problem) => !expectedConsole.some((pattern) => pattern.test(problem)));
    expect(unexplained.join("\n"), "console errors or uncaught exceptions").to.equal("");
    const unexpected = httpFailures.filter((failure) => !expectedFailures.some((pattern) => pattern.test(failure)));
    expect(unexpected, "HTTP failures nobody provoked").to.deep.equal([]);
  });

  async function open(viewport: { width: number; height: number }, options: { geolocation?: { latitude: number; longitude: number } } = {}): Promise<Page> {
    const context = await browser.newContext({
      viewport,
      deviceScaleFactor: 1,
      isMobile: viewport.width < 500,
      hasTouch: viewport.width < 500,
      ...(options.geolocation ? { geolocation: options.geolocation, permissions: ["geolocation"] } : {}),
    });
    contexts.push(context);
    const page = await watch(await context.newPage());
    await page.goto(server.url);
    return page;
  }

  /** Collects a page's console errors, uncaught exceptions and HTTP failures for the checks after each test. */
  async function watch(page: Page): Promise<Page> {
    page.on("console", (message: ConsoleMessage) => {
      if (message.type() !== "error") return;
      // Chromium logs every 4xx/5xx answer as a console error; those are checked against what the test provoked instead.
      if (/^Failed to load resource: the server responded with a status of/.test(message.text())) return;
      problems.push(`${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
    page.on("response", (response) => {
      if (response.status() >= 400) httpFailures.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    page.setDefaultTimeout(15_000);
    return page;
  }

  /** Every form control on the screen has a label (its own <label>, or aria-label) and every image a text alternative. */
  async function expectLabelled(page: Page): Promise<void> {
    const unlabelled = await page.evaluate(() => {
      const doc = (globalThis as any).document;
      const controls = [...doc.querySelectorAll("input:not([type=hidden]), select, textarea, button")].filter((el: any) => !(el.labels?.length || el.getAttribute("aria-label") || (el.tagName === "BUTTON" && el.textContent.trim())));
      // alt="" marks a decorative image (the map's tiles): present, and empty on purpose.
      const images = [...doc.querySelectorAll("main img")].filter((el: any) => !el.hasAttribute("alt"));
      return [...controls, ...images].map((el: any) => el.outerHTML.slice(0, 120));
    });
    expect(unlabelled.join("\n"), "controls and images without a label").to.equal("");
  }

  /** Saves what a person first sees of the current screen (from its top) to docs/screenshots/<name>.png. */
  async function shoot(page: Page, name: string): Promise<void> {
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
  }

  /** Registers an agent from the sign-in page; returns the test key the page showed once. */
  async function registerAgentInPage(page: Page, name: string): Promise<string> {
    await page.getByRole("tab", { name: "New agent" }).click();
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("E-mail").fill(`${name.toLowerCase().replace(/\W+/g, "-")}-${randomUUID().slice(0, 8)}@agents.test`);
    await page.getByRole("button", { name: "Create agent account" }).click();
    await page.getByText("Your account is ready").waitFor();
    const apiKey = (await page.locator("code.key").first().textContent()) ?? "";
    expect(apiKey).to.match(/^ho_test_/);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
    return apiKey;
  }

  async function registerOperatorInPage(page: Page, name: string, mode: "test" | "live" = "test"): Promise<void> {
    await page.getByRole("tab", { name: "New operator" }).click();
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("E-mail").fill(`${name.toLowerCase().replace(/\W+/g, "-")}-${randomUUID().slice(0, 8)}@operators.test`);
    await page.getByLabel("Payout address").fill(PAYOUT_ADDRESS);
    if (mode === "live") await page.getByLabel("Live tasks (identity check needed)").check();
    await page.getByRole("button", { name: "Create operator account" }).click();
    await page.getByText("Your account is ready").waitFor();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: "Tasks near you" }).waitFor();
  }

  /** Posts a MANUAL test task from the dashboard's form; returns its id (from the task page's address). */
  async function postTaskInPage(page: Page, title: string, requirements: string[]): Promise<string> {
    await page.getByRole("link", { name: "Post a task" }).first().click();
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("What the operator must do").fill("Stand across the street and photograph the whole storefront with its sign.");
    await page.getByLabel("Proof requirements").fill(requirements.join("\n"));
    await page.getByLabel("Latitude").fill(String(TASK_POINT.lat));
    await page.getByLabel("Longitude").fill(String(TASK_POINT.lng));
    await page.getByLabel("Address (optional)").fill("123 Main St, Austin, TX");
    await page.getByLabel("Reward (USD)").fill("12.50");
    await page.getByTestId("estimate").getByText("$13.75").waitFor();
    await page.getByLabel("Test scenario").selectOption("MANUAL");
    await expectLabelled(page);
    await page.getByRole("button", { name: "Post task" }).click();
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
    return page.url().split("/").pop()!;
  }

  /** The operator finds the task nearby (by the browser's location), accepts it and lands on its page. */
  async function acceptInPage(page: Page, taskId: string): Promise<void> {
    await page.getByRole("button", { name: "Use my location" }).click();
    const card = page.locator(`.nearby-list [data-task-id="${taskId}"]`);
    await card.waitFor();
    await card.getByRole("button", { name: /^Accept/ }).click();
    await page.waitForURL(new RegExp(`/tasks/${taskId}$`));
    await page.locator(`.task-page[data-status="ACCEPTED"]`).waitFor();
  }

  async function uploadInPage(page: Page, files: Array<{ name: string; mimeType: string; buffer: Buffer }>, notes?: string): Promise<void> {
    await page.getByLabel("Photos", { exact: true }).setInputFiles(files);
    await page.getByRole("img", { name: new RegExp(`Photo 1 to send: ${files[0].name}`) }).waitFor();
    if (notes) await page.getByLabel("Notes (optional)").fill(notes);
    await page.getByRole("button", { name: "Send proof" }).click();
  }

  it("shows the sign-in page to a signed-out visitor, on any address", async () => {
    const page = await open(PHONE);
    await page.getByRole("heading", { name: "Sign in to HumanOps" }).waitFor();
    await expectLabelled(page);
    await shoot(page, "phone-sign-in");
    await page.goto(`${server.url}/tasks/${randomUUID()}`);
    await page.getByRole("heading", { name: "Sign in to HumanOps" }).waitFor();
    // A wrong key is refused with the server's reason, and the visitor stays signed out.
    await page.getByLabel("API key").fill("ho_test_not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    expectedFailures.push(/^401 \/auth\/session$/);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).to.equal(0);
  });

  it("journey: an agent posts a MANUAL task, an operator nearby accepts it and uploads a GPS photo; the board follows live to PAID", async () => {
    const agent = await open(DESKTOP);
    const agentKey = await registerAgentInPage(agent, "Storefront Audits");
    const taskId = await postTaskInPage(agent, "Photo of the bakery storefront", ["Full facade photo"]);
    await agent.locator(`.task-page[data-status="POSTED"]`).waitFor();
    await agent.getByRole("link", { name: "Tasks", exact: true }).click();
    const card = agent.locator(`.board [data-task-id="${taskId}"]`);
    await card.waitFor();
    expect(await card.getAttribute("data-status")).to.equal("POSTED");
    // Every status the card shows from now on, as the page renders it (and a mark a reload would wipe).
    await agent.evaluate((id) => {
      // Runs in the page (the test's TypeScript has no DOM types: the page's globals are reached untyped).
      const page = globalThis as any;
      const seen: string[] = (page.boardStatuses = []);
      const record = () => {
        const status = page.document.querySelector(`.board [data-task-id="${id}"]`)?.getAttribute("data-status");
        if (status && seen[seen.length - 1] !== status) seen.push(status);
      };
      record();
      new page.MutationObserver(record).observe(page.document.querySelector(".board"), { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"] });
    }, taskId);

    // The operator stands at the task's place.
    const operator = await open(PHONE, { geolocation: { latitude: TASK_POINT.lat + 0.0004, longitude: TASK_POINT.lng } });
    await registerOperatorInPage(operator, "Dana Field");
    await operator.getByText("Test mode: test tasks need no identity check.").waitFor();
    await acceptInPage(operator, taskId);
    await eventually(async () => (await card.getAttribute("data-status")) === "ACCEPTED", "the board showing ACCEPTED");
    // The capture code the operator is asked to show is the one the task was issued on acceptance.
    const issued = await server.app.orm.em.fork().findOneOrFail(Task, taskId);
    expect(issued.captureCode).to.match(/^[A-Z]{2}-\d{4}$/);
    expect(await operator.locator("[data-capture-code]").textContent()).to.equal(issued.captureCode);

    // A bad upload (not a photo) is refused with the server's reason; nothing changes.
    expectedFailures.push(new RegExp(`^415 /api/v1/tasks/${taskId}/proof$`));
    await uploadInPage(operator, [{ name: "notes.jpg", mimeType: "image/jpeg", buffer: Buffer.from("this is a text file, not a photo") }]);
    await operator.getByRole("alert").filter({ hasText: "must be one of image/jpeg, image/png, image/webp" }).waitFor();
    expect(await operator.locator(".task-page").getAttribute("data-status")).to.equal("ACCEPTED");
    expect(await card.getAttribute("data-status")).to.equal("ACCEPTED");
    await operator.getByRole("button", { name: "Remove photo 1" }).click();

    // Taken now (EXIF keeps whole seconds), a few metres from the task's point: within the time check's allowed skew of the acceptance.
    const takenAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const photo = await cameraPhoto(101, { lat: TASK_POINT.lat + 0.0001, lng: TASK_POINT.lng + 0.0001 }, takenAt);
    await uploadInPage(operator, [{ name: "IMG_0001.jpg", mimeType: "image/jpeg", buffer: photo }], "Sign reads Main St Bakery");

    // The agent's board, not reloaded since it opened, walks through SUBMITTED to the verdict and PAID.
    await card.and(agent.locator('[data-status="PAID"]')).waitFor({ timeout: 20_000 });
    expect(await agent.evaluate(() => (globalThis as any).boardStatuses)).to.deep.equal(["POSTED", "ACCEPTED", "SUBMITTED", "VERIFIED", "PAID"]);
    expect(await card.textContent()).to.contain("Guardian: APPROVE (");
    // A task posted elsewhere (through the API, with the agent's key) appears on the open board by itself.
    const { postTask } = await server.client.ok(
      `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`,
      { input: { title: "Shelf check at the corner store", description: "Photograph the cereal shelf.", taskType: "INSPECTION", location: TASK_POINT, rewardUsd: "8", deadline: new Date(Date.now() + 7_200_000).toISOString(), testScenario: "MANUAL" } },
      agentKey,
    );
    await agent.locator(`.board [data-task-id="${postTask.id}"][data-status="POSTED"]`).waitFor();
    await shoot(agent, "desktop-agent-board");

    await operator.locator(`.task-page[data-status="PAID"]`).waitFor();
    const payout = operator.getByTestId("payout");
    await payout.getByText("Release transaction").waitFor();
    expect(await payout.textContent()).to.contain(PAYOUT_ADDRESS);
    await operator.getByTestId("earnings").getByText("$12.50").waitFor();
    await shoot(operator, "phone-operator-paid");

    // The agent's task page: verdict with every check, the photo (thumbnail, then full size), escrow released.
    await card.getByRole("link").click();
    await agent.locator(`.task-page[data-status="PAID"]`).waitFor();
    const guardian = agent.locator(".verification").first();
    expect(await guardian.getAttribute("data-verdict")).to.equal("APPROVE");
    for (const check of ["photos", "location", "time", "reuse", "recapture"]) await guardian.getByRole("cell", { name: check, exact: true }).waitFor();
    await agent.locator("[data-escrow-status='RELEASED']").waitFor();
    await agent.getByRole("img", { name: "Proof photo 1 (thumbnail)" }).waitFor();
    await shoot(agent, "desktop-agent-task");

    // Reputation: the agent reads the operator's record on the task and rates them; the operator sees the rating on their page.
    expect(await agent.locator(".operator-record").textContent()).to.contain("1 completed");
    await agent.getByLabel("Rate the operator (1-5)").selectOption("4");
    await agent.getByLabel("Comment (optional)").fill("Clear photo, right place");
    await agent.getByRole("button", { name: "Rate", exact: true }).click();
    await agent.getByText(/You rated the operator 4 of 5; you can change it until/).waitFor();
    await operator.reload();
    await operator.locator(`.task-page[data-status="PAID"]`).waitFor();
    await operator.getByText(/The agent rated you/).waitFor();
    expect(await operator.getByRole("region", { name: "Ratings" }).textContent()).to.contain("Clear photo, right place");
    await agent.getByRole("button", { name: "Open photo 1 full size" }).click();
    const full = agent.getByRole("img", { name: "Proof photo 1 (full size)" });
    await full.waitFor();
    await eventually(() => full.evaluate((img: any) => img.complete && img.naturalWidth > 320), "the full-size photo loading");
    await agent.keyboard.press("Escape");
    await full.waitFor({ state: "detached" });
  });

  it("journey: once an operator accepts, the agent and the operator message each other on the task's page, live", async () => {
    const agent = await open(DESKTOP);
    await registerAgentInPage(agent, "Door Finder");
    const taskId = await postTaskInPage(agent, "Photo of the side door", ["The door and its number"]);
    const agentThread = agent.locator("section").filter({ has: agent.getByRole("heading", { name: "Messages" }) });
    await agentThread.getByText("Messages open while an operator holds the task.").waitFor();

    const operator = await open(PHONE, { geolocation: { latitude: TASK_POINT.lat + 0.0004, longitude: TASK_POINT.lng } });
    await registerOperatorInPage(operator, "Sam Walker");
    await acceptInPage(operator, taskId);
    await operator.getByRole("textbox", { name: "Write a message" }).fill("Is the number on the door or beside it?");
    await expectLabelled(operator);
    await operator.getByRole("button", { name: "Send message" }).click();
    await operator.locator('.message[data-author="OPERATOR"]').getByText("Is the number on the door or beside it?").waitFor();

    // The agent's page, open since before the acceptance, shows the question by itself and can answer.
    await agentThread.locator('.message[data-author="OPERATOR"]').getByText("Is the number on the door or beside it?").waitFor();
    expect(await agentThread.locator('.message[data-author="OPERATOR"]').textContent()).to.contain("The operator");
    await agent.getByRole("textbox", { name: "Write a message" }).fill("Beside it: get both in one photo.");
    await agent.getByRole("button", { name: "Send message" }).click();
    await operator.locator('.message[data-author="AGENT"]').getByText("Beside it: get both in one photo.").waitFor();
    expect(await operator.locator(".message").count()).to.equal(2);

    // A photo in the thread: the operator attaches one (previewed, removable) and sends it with a line of text;
    // the agent's page shows it by itself, from the server's stored copy.
    const doorPhoto = await cameraPhoto(303, TASK_POINT, new Date(), { width: 640, height: 480 });
    await operator.getByLabel("Attach photos").setInputFiles([{ name: "door.jpg", mimeType: "image/jpeg", buffer: doorPhoto }]);
    await operator.getByRole("img", { name: "Photo 1 to attach: door.jpg" }).waitFor();
    await expectLabelled(operator);
    await operator.getByRole("textbox", { name: "Write a message" }).fill("Like this?");
    await operator.getByRole("button", { name: "Send message" }).click();
    const withPhoto = agentThread.locator('.message[data-author="OPERATOR"]').filter({ hasText: "Like this?" });
    const shown = withPhoto.getByRole("img", { name: "Message photo 1" });
    await shown.waitFor();
    await eventually(() => shown.evaluate((img: any) => img.complete && img.naturalWidth > 0), "the message photo loading on the agent's page");
    expect(await operator.getByRole("img", { name: "Photo 1 to attach: door.jpg" }).count(), "the attachment cleared once sent").to.equal(0);
    await operator.locator('.message[data-author="OPERATOR"]').filter({ hasText: "Like this?" }).getByRole("img", { name: "Message photo 1" }).waitFor();
  });

  it("journey: the agent edits, raises and extends a task; the operator who accepted sees it live and withdraws without penalty; after PAID the agent tips, the operator sees the tip and both pages see it paid on chain live", async () => {
    const agent = await open(DESKTOP);
    await registerAgentInPage(agent, "Change Maker");
    const taskId = await postTaskInPage(agent, "Photo of the bakery", ["The storefront"]);

    // Before acceptance: the text can change.
    await agent.getByRole("button", { name: "Change the task…" }).click();
    await agent.getByLabel("New title").fill("Photo of the bakery and its door");
    await agent.getByLabel("New proof requirements").fill("The storefront\nThe door");
    await expectLabelled(agent);
    await agent.getByRole("button", { name: "Save changes" }).click();
    await agent.getByRole("heading", { name: "Photo of the bakery and its door" }).waitFor();
    const agentChanges = agent.getByRole("region", { name: "Changes and tips" });
    await agentChanges.getByText("title; proof requirements").waitFor();

    const operator = await open(PHONE, { geolocation: { latitude: TASK_POINT.lat + 0.0004, longitude: TASK_POINT.lng } });
    await registerOperatorInPage(operator, "Kim Change");
    await acceptInPage(operator, taskId);
    await operator.getByText("The door", { exact: true }).waitFor();
    expect(await operator.getByRole("heading", { name: "The agent changed this task" }).count(), "no notice for a change before acceptance").to.equal(0);

    // After acceptance: only the reward (up) and the deadline (later); a lower reward is refused with the field named.
    await agent.locator('.task-page[data-status="ACCEPTED"]').waitFor();
    await agent.getByRole("button", { name: "Change the task…" }).click();
    expect(await agent.getByLabel("New title").count(), "the text is fixed once accepted").to.equal(0);
    await agent.getByLabel("Reward (USD)").fill("10");
    await agent.getByRole("button", { name: "Save changes" }).click();
    await agent.getByRole("alert").filter({ hasText: "can only be raised" }).waitFor();
    expect(await agent.getByRole("alert").filter({ hasText: "can only be raised" }).textContent()).to.contain("field: rewardUsd");
    const before = await server.app.orm.em.fork().findOneOrFail(Task, taskId);
    const later = new Date(before.deadline.getTime() + 86_400_000);
    await agent.getByLabel("Reward (USD)").fill("15");
    await agent.getByLabel("Deadline", { exact: true }).fill(localInput(later));
    await agent.getByLabel("Why (optional, the operator sees it)").fill("The door is on the side street");
    await agent.getByRole("button", { name: "Save changes" }).click();
    await agentChanges.getByText(/reward 12\.5\d* → 15(\.0+)? USD; deadline .* \(The door is on the side street\)/).waitFor();

    // The operator's page, not reloaded, shows the change and offers to give the task back without penalty.
    const notice = operator.getByRole("status").filter({ has: operator.getByRole("heading", { name: "The agent changed this task" }) });
    await notice.waitFor();
    expect(await notice.textContent()).to.match(/reward 12\.5\d* → 15(\.0+)? USD/);
    await operator.getByText("$15.00").first().waitFor();
    const operatorChanges = operator.getByRole("region", { name: "Changes and tips" });
    await operatorChanges.getByText(/reward 12\.50 → 15\.00 USD/).waitFor();
    expect(await operatorChanges.locator(".change").count(), "the edit before acceptance and the raise after it").to.equal(2);
    expect(await operator.getByRole("button", { name: "Give the task back" }).count(), "the penalised release is replaced by the free withdrawal").to.equal(0);
    const changed = await server.app.orm.em.fork().findOneOrFail(Task, taskId);
    expect(changed.rewardUnits).to.equal(15_000_000n);
    expect(changed.deadline.getTime()).to.be.greaterThan(before.deadline.getTime());
    await shoot(operator, "phone-operator-changed");
    await notice.getByRole("button", { name: "Withdraw without penalty" }).click();
    await operator.locator('.task-page[data-status="POSTED"]').waitFor();
    const withdrawal = await server.app.orm.em.fork().findOneOrFail(TaskEvent, { task: taskId, toStatus: "POSTED" as never, fromStatus: "ACCEPTED" as never }, { orderBy: { id: "desc" } });
    expect(withdrawal.reason).to.match(/^withdrawn without penalty after the task changed/);
    await agent.locator('.task-page[data-status="POSTED"]').waitFor();

    // The same operator takes it again, proves it and is paid; then the agent tips.
    await operator.goto(server.url);
    await acceptInPage(operator, taskId);
    const takenAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await uploadInPage(operator, [{ name: "IMG_0002.jpg", mimeType: "image/jpeg", buffer: await cameraPhoto(404, { lat: TASK_POINT.lat + 0.0001, lng: TASK_POINT.lng }, takenAt) }]);
    await operator.locator('.task-page[data-status="PAID"]').waitFor({ timeout: 20_000 });
    await agent.locator('.task-page[data-status="PAID"]').waitFor({ timeout: 20_000 });
    const tip = agent.getByRole("region", { name: "Tip the operator" });
    await tip.getByLabel("Tip (USD)").fill("2");
    await tip.getByLabel("Note to the operator (optional)").fill("Thanks for the side door");
    await expectLabelled(agent);
    await tip.getByRole("button", { name: "Send tip" }).click();
    await agentChanges.locator(".tip").filter({ hasText: "Thanks for the side door" }).waitFor();
    await operator.getByRole("region", { name: "Changes and tips" }).locator(".tip").filter({ hasText: "from the agent: Thanks for the side door" }).waitFor();
    // The tip is paid on chain to the operator's payout address; both pages, not reloaded, show it paid.
    await eventually(async () => (await server.app.orm.em.fork().findOne(TaskTip, { task: taskId }))?.status === "PAID", "the tip mined on chain", 20_000);
    const paidTip = await server.app.orm.em.fork().findOneOrFail(TaskTip, { task: taskId });
    expect(paidTip.amount).to.equal(2_000_000n);
    expect(paidTip.txHash).to.match(/^0x[0-9a-f]{64}$/);
    for (const page of [agent, operator]) {
      await page.getByRole("region", { name: "Changes and tips" }).locator('.tip[data-tip-status="PAID"]').filter({ hasText: `paid on chain (${paidTip.txHash!.slice(0, 10)}` }).waitFor();
    }
  });

  it("journey: the agent disputes verified proof in its review window; an admin signs in with their key, reads the evidence and refunds with a note; the audit log shows it", async () => {
    const agent = await open(DESKTOP);
    const agentKey = await registerAgentInPage(agent, "Careful Buyer");
    // The mock operator proves an APPROVE test task at once; the review window holds its release.
    const { postTask } = await server.client.ok(
      `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`,
      { input: { title: "Photo of the pharmacy sign", description: "Photograph the sign from the street.", taskType: "PHOTO", location: TASK_POINT, rewardUsd: "9", deadline: new Date(Date.now() + 7_200_000).toISOString(), testScenario: "APPROVE", reviewWindowMinutes: 60 } },
      agentKey,
    );
    const taskId: string = postTask.id;
    await agent.goto(`${server.url}/tasks/${taskId}`);
    await agent.locator('.task-page[data-status="VERIFIED"]').waitFor({ timeout: 30_000 });
    await agent.getByRole("heading", { name: "Check the proof before it is paid" }).waitFor();
    await agent.getByRole("button", { name: "Dispute the proof" }).click();
    await agent.getByRole("alert").filter({ hasText: "Reason: say what is wrong" }).waitFor();
    await agent.getByLabel("What is wrong with the proof").fill("The photo shows a different pharmacy");
    await expectLabelled(agent);
    await agent.getByRole("button", { name: "Dispute the proof" }).click();
    await agent.locator('.task-page[data-status="DISPUTED"]').waitFor();
    await agent.locator('.dispute[data-dispute-status="OPEN"]').getByText("The photo shows a different pharmacy").waitFor();

    // An admin (made on the server, as `npm run admin -- create` does) signs in on the same sign-in page.
    const adminName = `ana-${randomUUID().slice(0, 8)}`;
    const { key: adminKey } = await server.app.services.admins.create(server.app.orm.em.fork(), adminName);
    const admin = await open(DESKTOP);
    await admin.getByLabel("API key").fill(adminKey);
    await admin.getByRole("button", { name: "Sign in" }).click();
    await admin.getByRole("heading", { name: "Disputes", exact: true }).waitFor();
    await admin.getByText(`Admin: ${adminName}`).waitFor();
    const card = admin.locator(`.dispute-card[data-task-id="${taskId}"]`);
    await card.waitFor();
    expect(await card.textContent()).to.contain("The photo shows a different pharmacy");
    const evidence = card.getByRole("img", { name: "Disputed proof photo 1" });
    await evidence.waitFor();
    await eventually(() => evidence.evaluate((img: any) => img.complete && img.naturalWidth > 0), "the proof photo loading for the admin");
    await card.locator('.verification[data-verdict="APPROVE"]').waitFor();
    await expectLabelled(admin);
    await shoot(admin, "desktop-admin-disputes");
    // A decision needs a note.
    await card.getByRole("button", { name: "Refund the agent" }).click();
    await card.getByRole("alert").filter({ hasText: "Note: say why" }).waitFor();
    await card.getByLabel("Decision note").fill("The sign in the photo is not the task's pharmacy");
    await card.getByRole("button", { name: "Refund the agent" }).click();
    await card.waitFor({ state: "detached" });
    await admin.getByText("No dispute is waiting for a decision.").waitFor();
    await admin.getByLabel("Decided").check();
    await admin.locator(`.dispute-card[data-task-id="${taskId}"]`).getByTestId("decision").getByText(`by ${adminName}`).waitFor();

    // The agent's page, open all along, shows the refund and the platform's note.
    await agent.locator('.task-page[data-status="CANCELLED"]').waitFor();
    const decision = agent.getByTestId("dispute-decision");
    await decision.getByText("refunded to the agent").waitFor();
    expect(await decision.textContent()).to.contain("The sign in the photo is not the task's pharmacy");
    const stored = await server.app.orm.em.fork().findOneOrFail(Dispute, { task: taskId });
    expect([stored.status, stored.decision]).to.deep.equal(["DECIDED", "REFUND"]);

    // The audit log has the decision, by this admin, for this task.
    await admin.getByRole("link", { name: "Audit log" }).click();
    const entry = admin.locator('tr[data-action="DISPUTE_DECIDED"]').filter({ hasText: taskId });
    await entry.waitFor();
    expect(await entry.textContent()).to.contain(adminName);
    await shoot(admin, "desktop-admin-audit-log");
  });

  it("journey: a too-small photo lands in MANUAL_REVIEW; the agent looks at it and approves on the dashboard", async () => {
    const agent = await open(DESKTOP);
    await registerAgentInPage(agent, "Review Desk");
    const taskId = await postTaskInPage(agent, "Photo of the corner kiosk", ["Full facade photo"]);

    const operator = await open(PHONE, { geolocation: { latitude: TASK_POINT.lat, longitude: TASK_POINT.lng } });
    await registerOperatorInPage(operator, "Sam Small");
    await acceptInPage(operator, taskId);
    await expectLabelled(operator);
    await shoot(operator, "phone-operator-task");
    const tiny = await sharp(generatePhoto(202, 200, 150)).jpeg().toBuffer();
    await uploadInPage(operator, [{ name: "tiny.jpg", mimeType: "image/jpeg", buffer: tiny }], "Only a small photo, sorry");
    await operator.locator(`.task-page[data-status="MANUAL_REVIEW"]`).waitFor({ timeout: 20_000 });

    // The agent's open task page turns to MANUAL_REVIEW by itself and asks for a decision.
    await agent.locator(`.task-page[data-status="MANUAL_REVIEW"]`).waitFor({ timeout: 20_000 });
    await agent.getByRole("heading", { name: "Your decision is needed" }).waitFor();
    await agent.getByText("photo 1 is 200x150, below 320x240").first().waitFor();
    await agent.getByRole("button", { name: "Open photo 1 full size" }).click();
    await agent.getByRole("img", { name: "Proof photo 1 (full size)" }).waitFor();
    await shoot(agent, "desktop-agent-review");
    await agent.getByRole("button", { name: "Close" }).click();
    await agent.getByLabel("Reason").fill("The kiosk is clearly visible");
    await agent.getByRole("button", { name: "Approve and pay" }).click();
    await agent.locator(`.task-page[data-status="PAID"]`).waitFor({ timeout: 20_000 });
    await operator.locator(`.task-page[data-status="PAID"]`).waitFor({ timeout: 20_000 });
    await operator.getByTestId("payout").getByText("Release transaction").waitFor();
  });

  it("shows \"not found\" for another agent's task; on a phone an agent adds a webhook, posts, cancels, sees the refund and redelivers", async () => {
    const owner = await open(PHONE);
    await registerAgentInPage(owner, "Owner Co");
    await owner.getByRole("link", { name: "Webhooks" }).click();
    await owner.getByLabel("URL").fill(`${vendor.url}/hook`);
    await owner.getByRole("button", { name: "Add endpoint" }).click();
    await owner.getByText(/Signing secret for .* \(shown once, store it now\)/).waitFor();
    await owner.getByText("Healthy").waitFor();
    await expectLabelled(owner);

    const taskId = await postTaskInPage(owner, "Count the bikes at the rack", ["2 photos of the rack"]);
    await shoot(owner, "phone-agent-task");
    await owner.getByRole("button", { name: "Cancel task…" }).click();
    await owner.getByRole("button", { name: "Cancel the task" }).click();
    await owner.locator(`.task-page[data-status="CANCELLED"]`).waitFor();
    await owner.getByRole("link", { name: "Balance" }).click();
    await owner.getByRole("cell", { name: "REFUND" }).waitFor();
    await shoot(owner, "phone-agent-balance");

    // The task's transitions were delivered to the endpoint; one is sent again on request.
    await owner.getByRole("link", { name: "Webhooks" }).click();
    await eventually(async () => {
      await owner.getByRole("button", { name: "Refresh" }).click();
      await new Promise((resolve) => setTimeout(resolve, 250));
      return (await owner.getByText("DELIVERED", { exact: true }).count()) >= 2;
    }, "the task's deliveries (posted, cancelled) shown as DELIVERED");
    const before = vendor.hooks;
    await owner.getByRole("button", { name: "Redeliver" }).first().click();
    await eventually(() => vendor.hooks > before, "the redelivery reaching the receiver");
    await shoot(owner, "phone-agent-webhooks");

    const other = await open(DESKTOP);
    await registerAgentInPage(other, "Other Co");
    await other.goto(`${server.url}/tasks/${taskId}`);
    await other.getByRole("heading", { name: "Not found" }).waitFor();
    expect(await other.getByText("Count the bikes at the rack").count()).to.equal(0);
    // Signing out revokes the session: the next visit is signed out, and another open page of the browser
    // (its live updates closed by the server) goes to the sign-in page by itself.
    const second = await watch(await other.context().newPage());
    await second.goto(server.url);
    await second.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
    await other.getByRole("button", { name: "Sign out" }).click();
    await other.getByRole("heading", { name: "Sign in to HumanOps" }).waitFor();
    expect(await other.getByRole("alert").count(), "no error after choosing to sign out").to.equal(0);
    await second.getByRole("heading", { name: "Sign in to HumanOps" }).waitFor();
    await second.getByRole("alert").filter({ hasText: "Your session has ended: sign in again" }).waitFor();
    await other.reload();
    await other.getByRole("heading", { name: "Sign in to HumanOps" }).waitFor();
  });

  it("opens identity verification with the WebSDK and a token from startKyc for a live operator; the map works with and without tiles", async () => {
    const operator = await open(PHONE);
    await registerOperatorInPage(operator, "Lee Live", "live");
    await operator.getByText("Not verified yet: live tasks need an identity check.").waitFor();
    await operator.getByRole("button", { name: "Verify identity" }).click();
    await operator.getByTestId("sumsub-standin").waitFor();
    await shoot(operator, "phone-operator-kyc");
    // The map showed tiles from the configured origin.
    await operator.getByLabel("Latitude").fill(String(TASK_POINT.lat));
    await operator.getByLabel("Longitude").fill(String(TASK_POINT.lng));
    await operator.getByRole("button", { name: "Search here" }).click();
    await operator.getByRole("region", { name: "Tasks on a map" }).waitFor();
    await eventually(() => vendor.tiles > 0, "map tiles requested");

    // With no tiles reachable the page still works: the search answers, the map shows its markers.
    vendor.tilesDown = true;
    // Chromium logs each tile it cannot fetch (and nothing else may go wrong).
    expectedConsole.push(new RegExp(`^Failed to load resource: net::ERR_EMPTY_RESPONSE \\(${vendor.url}/tiles/`));
    try {
      await operator.getByLabel("Latitude").fill("48.8566");
      await operator.getByLabel("Longitude").fill("2.3522");
      await operator.getByRole("button", { name: "Search here" }).click();
      await operator.getByText("No open tasks within 10 km.").waitFor();
      await operator.locator(".map path.leaflet-interactive").waitFor();
      await operator.getByRole("button", { name: "Zoom in" }).click();
      await operator.getByText("Identity check opened with token").waitFor();
    } finally {
      vendor.tilesDown = false;
    }
  });
});
