import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { expect } from "chai";
import { ownerIsGone, ownerName } from "../../server/chain/chain-binding";

/** Whether this machine tells where a process runs (Linux /proc); elsewhere every owner is watched, never seen gone. */
const placeKnown = fs.existsSync("/proc/self/ns/pid") && fs.existsSync("/proc/sys/kernel/random/boot_id");

describe("a chain binding's owner: seen gone without watching its heartbeat only when that is certain", () => {
  it("names the host and pid, and where the process runs when /proc tells", () => {
    const name = ownerName(process.pid);
    expect(name).to.match(placeKnown ? new RegExp(` pid ${process.pid} \\(boot [0-9a-f-]+, pid namespace \\d+\\)$`) : new RegExp(` pid ${process.pid}$`));
  });

  it("a live process here is not gone", () => {
    expect(ownerIsGone(ownerName(process.pid))).to.equal(false);
  });

  it("a process that ran here and exited is gone", function () {
    if (!placeKnown) this.skip();
    const exited = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    expect(ownerIsGone(ownerName(Number(exited.stdout)))).to.equal(true);
  });

  it("a process of another machine, another namespace or of unknown place is not gone, whatever its pid here", function () {
    const exited = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    const here = ownerName(exited);
    expect(ownerIsGone(here.replace(/boot [0-9a-f-]+/, "boot 00000000-0000-0000-0000-000000000000"))).to.equal(false);
    expect(ownerIsGone(here.replace(/pid namespace \d+/, "pid namespace 1"))).to.equal(false);
    expect(ownerIsGone(`elsewhere pid ${exited}`)).to.equal(false);
    expect(ownerIsGone(here.replace(` pid ${exited} `, " pid 0 "))).to.equal(false);
  });
});
