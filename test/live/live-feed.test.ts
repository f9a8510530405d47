import { expect } from "chai";
import { LiveFeed, SubscriberFellBehindError, Topics } from "../../server/events/live-feed";
import type { LiveTaskEvent } from "../../server/tasks/task-event.log";
import { Mode } from "../../server/common/mode";
import { ActorType, TaskEventKind, TaskStatus, TaskType } from "../../server/tasks/task.enums";

function event(id: number, taskId = "t1", toStatus: TaskStatus = TaskStatus.ACCEPTED): LiveTaskEvent {
  return {
    id: String(id),
    taskId,
    agentId: "a1",
    mode: Mode.TEST,
    taskType: TaskType.PHOTO,
    lat: 0,
    lng: 0,
    funded: true,
    kind: TaskEventKind.STATUS_CHANGED,
    toStatus,
    actorType: ActorType.SYSTEM,
    createdAt: new Date(),
  };
}

describe("the live feed's fan-out", () => {
  it("delivers accepted events in publish order and moves its watermark with them", async () => {
    const feed = new LiveFeed(10);
    feed.startAt("41");
    const queue = feed.listen(Topics.task("t1"), (e) => e.toStatus !== TaskStatus.SUBMITTED);
    feed.publish(event(42));
    feed.publish(event(43, "t1", TaskStatus.SUBMITTED));
    feed.publish(event(44, "t2"));
    feed.publish(event(45));
    expect(feed.watermark).to.equal("45");
    expect([(await queue.next()).id, (await queue.next()).id]).to.deep.equal(["42", "45"]);
  });

  it("ends a subscriber that falls too far behind instead of buffering without bound, and forgets closed ones", async () => {
    const feed = new LiveFeed(3);
    const slow = feed.listen(Topics.agent("a1"), () => true);
    const reading = feed.listen(Topics.agent("a1"), () => true);
    const firstRead = reading.next();
    for (let id = 1; id <= 4; id += 1) feed.publish(event(id));
    expect(feed.subscriberCount, "the reader stays, the one that read nothing is ended").to.equal(1);
    expect((await firstRead).id).to.equal("1");
    const received = [await slow.next(), await slow.next(), await slow.next()].map((e) => e.id);
    expect(received, "what it had queued is still delivered").to.deep.equal(["1", "2", "3"]);
    await slow.next().then(
      () => expect.fail("expected the subscription to end"),
      (err: unknown) => expect(err).to.be.instanceOf(SubscriberFellBehindError),
    );
    reading.close();
    expect(feed.subscriberCount).to.equal(0);
  });

  it("wakes thousands of waiting subscribers a slice at a time, letting other work run in between", async () => {
    const feed = new LiveFeed(10);
    const queues = Array.from({ length: 2_000 }, () => feed.listen(Topics.task("t1"), () => true));
    let woken = 0;
    const all = Promise.all(queues.map((queue) => queue.next().then(() => (woken += 1))));
    feed.publish(event(1));
    expect(woken, "nothing runs inside publish").to.equal(0);
    const seenByOtherWork = await new Promise<number>((resolve) => setImmediate(() => resolve(woken)));
    expect(seenByOtherWork).to.be.greaterThan(0).and.lessThan(2_000);
    await all;
    expect(woken).to.equal(2_000);
  });

  it("hands a waiting taker its event within the wake, in order, and a consumer that throws ends only its own subscription", async () => {
    const feed = new LiveFeed(10);
    const taken: string[] = [];
    const take = (queue: ReturnType<LiveFeed["listen"]>, failures: unknown[]) =>
      queue.take({
        next: (e) => {
          taken.push(e.id);
          take(queue, failures);
        },
        error: (err) => failures.push(err),
      });
    const reader = feed.listen(Topics.task("t1"), () => true);
    const readerFailures: unknown[] = [];
    take(reader, readerFailures);
    const throwing = feed.listen(Topics.task("t1"), () => true);
    const throwingFailures: unknown[] = [];
    throwing.take({
      next: () => {
        throw new Error("the consumer broke");
      },
      error: (err) => throwingFailures.push(err),
    });
    const other = feed.listen(Topics.task("t1"), () => true);
    let otherGot: string | undefined;
    other.take({
      next: (e) => (otherGot = e.id),
      error: () => expect.fail("not closed"),
    });
    feed.publish(event(1));
    feed.publish(event(2));
    expect(taken, "nothing runs inside publish").to.deep.equal([]);
    // The feed's wake slice is an immediate; the takers run inside it, with no promise between.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(taken, "the second event was queued, so the taker got it at once on asking again").to.deep.equal(["1", "2"]);
    expect(otherGot, "woken in the same slice as the one that threw").to.equal("1");
    expect(throwingFailures, "a consumer that throws is not called again").to.deep.equal([]);
    expect(feed.subscriberCount, "the throwing consumer's queue is closed").to.equal(2);
    reader.close();
    expect(readerFailures).to.have.length(1);
    expect((readerFailures[0] as Error).message).to.equal("the subscription was closed");
  });
});
