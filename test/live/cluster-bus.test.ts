import { randomBytes } from "node:crypto";
import net from "node:net";
import { expect } from "chai";
import { createClusterBus, type ClusterBus } from "../../server/events/cluster-bus";
import { createLogger } from "../../server/common/logger";
import { eventually } from "./support/live";

const redisUrl = process.env.TEST_REDIS_URL;

/** A bus and every position it heard, in order. */
async function listening(deploymentId: string, url = redisUrl): Promise<{ bus: ClusterBus; heard: string[]; until(position: string): Promise<void> }> {
  const bus = await createClusterBus(url, deploymentId, createLogger("silent"));
  const heard: string[] = [];
  bus.onAnnouncement((position) => heard.push(position));
  return {
    bus,
    heard,
    until: (position) => eventually(() => heard.includes(position), `hearing ${position}`, 5_000),
  };
}

/** A TCP proxy to Redis on a fixed local port that can be taken down and brought back, as a Redis restart would look to its clients. */
class RedisProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly target: URL,
  ) {}

  static async reserve(target: string): Promise<RedisProxy> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return new RedisProxy(port, new URL(target));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(this.target.port || 6379), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  /** Stops listening and cuts every open connection. */
  async down(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve) ?? resolve(undefined));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

(redisUrl ? describe : describe.skip)("the cluster bus over Redis (needs TEST_REDIS_URL)", () => {
  it("tells every replica of a deployment that the log advanced, and nothing to another deployment on the same Redis", async () => {
    const deployment = randomBytes(6).toString("hex");
    const [a1, a2, b] = await Promise.all([listening(deployment), listening(deployment), listening(randomBytes(6).toString("hex"))]);
    try {
      a1.bus.announce("7");
      b.bus.announce("1000");
      await Promise.all([a2.until("7"), b.until("1000")]);
      // Redis has handled b's notice by now, so one on the same channel would reach a2 before this one.
      a1.bus.announce("8");
      await a2.until("8");
      expect(a2.heard, "a replica of the same deployment").to.deep.equal(["7", "8"]);
      expect(b.heard, "the other deployment").to.deep.equal(["1000"]);
    } finally {
      await Promise.all([a1, a2, b].map(({ bus }) => bus.close()));
    }
  });

  it("hears the deployment again after Redis comes back, whether it was away at start-up or went away later", async function () {
    this.timeout(20_000);
    const deployment = randomBytes(6).toString("hex");
    const proxy = await RedisProxy.reserve(redisUrl!);
    const announcer = await listening(deployment);
    // Away at start-up: the bus waits a while, starts without Redis, and subscribes once Redis answers.
    const follower = await listening(deployment, proxy.url);
    try {
      await proxy.up();
      await heardEventually(announcer, follower, "1");
      // Gone mid-run (every connection cut), then back: the client reconnects and subscribes again.
      await proxy.down();
      await proxy.up();
      await heardEventually(announcer, follower, "2");
    } finally {
      await Promise.all([announcer.bus.close(), follower.bus.close()]);
      await proxy.down();
    }
  });
});

/** Announces `position` until `follower` hears it: a notice published before the follower has subscribed (again) is gone, as with any Redis pub/sub. */
async function heardEventually(announcer: { bus: ClusterBus }, follower: { heard: string[] }, position: string): Promise<void> {
  await eventually(() => {
    if (follower.heard.includes(position)) return true;
    announcer.bus.announce(position);
    return false;
  }, `the follower to hear ${position}`);
}

