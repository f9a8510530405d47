/**
 * Proof uploads from a process of their own, so building and sending the
 * multipart bodies (megabytes per photo) does not run on the measured
 * server's event loop, as a real client's would not: started with fork()
 * by a benchmark, it says it is ready, then for each message uploads its
 * proofs all at once and answers when all were accepted (202).
 *
 *   message out: { ready: true } once loaded
 *   message in:  { base, apiKey, proofs: [{ taskId, files: [path, ...] }] }
 *   message out: { seconds } or { error }
 */
import fs from "node:fs";

interface Uploads {
  base: string;
  apiKey: string;
  proofs: Array<{ taskId: string; files: string[] }>;
}

process.on("message", async ({ base, apiKey, proofs }: Uploads) => {
  try {
    const start = performance.now();
    await Promise.all(proofs.map(async ({ taskId, files }) => {
      const form = new FormData();
      for (const file of files) form.append("photos", new Blob([fs.readFileSync(file)], { type: "image/jpeg" }), "photo.jpg");
      const res = await fetch(`${base}/api/v1/tasks/${taskId}/proof`, { method: "POST", headers: { "x-api-key": apiKey }, body: form });
      if (res.status !== 202) throw new Error(`proof upload answered ${res.status}: ${await res.text()}`);
    }));
    process.send!({ seconds: (performance.now() - start) / 1000 });
  } catch (err) {
    process.send!({ error: (err as Error).message });
  }
});
process.send!({ ready: true });
