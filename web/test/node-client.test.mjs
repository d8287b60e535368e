// @lambda-media/client in Node (run under every Node the package claims: scripts/test runs this
// file with Node 18 as well), against the local stack: bytes, paths and streams, multipart by
// path with a crash and a resume from a state file, and errors that carry a code and leave no
// pending upload behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createMediaClient, fromStream, fileStateStore } from "../packages/media-client/node.js";
import { root, stackEnv, devToken } from "../lib/test-env.mjs";

const env = stackEnv();
const fixtures = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures"], { cwd: root, encoding: "utf8" }).trim();
const fixture = (name) => path.join(root, fixtures, name);
const helper = path.join(path.dirname(fileURLToPath(import.meta.url)), "../lib/node-upload.mjs");

async function client(sub, extra = {}) {
  const token = await devToken(env, sub);
  const calls = [];
  const spy = (url, init) => {
    calls.push(`${init?.method || "GET"} ${String(url).startsWith(env.API_URL) ? new URL(url).pathname : "s3"}`);
    return (extra.fetch || fetch)(url, init);
  };
  return { calls, c: createMediaClient({ baseUrl: env.API_URL, getToken: () => token, ...extra, fetch: spy }) };
}

test(`Node ${process.version}: bytes, a path and a stream upload and are verified`, { timeout: 120_000 }, async () => {
  const { c } = await client("node-client-basic");
  const jpeg = readFileSync(fixture("photo.jpg"));
  const results = await c.uploadFiles([jpeg, fixture("alpha.png")], { kind: "post_image", method: "put" });
  assert.deepEqual(results.map((r) => [r.error?.code, r.media?.status]), [[undefined, "ready"], [undefined, "ready"]]);
  assert.equal(results[0].media.content_type, "image/jpeg", "a bare Buffer's type is sniffed");
  assert.equal(results[1].media.filename, "alpha.png", "a path keeps its file name");
  const [posted] = await c.uploadFiles([{ data: jpeg, name: "form.jpg" }], { kind: "post_image", method: "post" });
  assert.equal(posted.media?.status, "ready", posted.error?.message);
  const trip = fixture("trip.mp4");
  const [streamed] = await c.uploadFiles([{ stream: createReadStream(trip), size: statSync(trip).size, name: "trip.mp4" }], { kind: "video" });
  assert.equal(streamed.media?.status, "ready", streamed.error?.message);
  assert.equal(streamed.media.size_bytes, statSync(trip).size, "a 28 MiB stream went up in parts");
  for (const r of [...results, posted, streamed]) await c.deleteMedia(r.mediaId);
});

test(`Node ${process.version}: a 40 MB file by path, killed after two parts, resumes sending only the missing parts`, { timeout: 180_000 }, () => {
  const file = fixture("dataset.mp4");
  const state = path.join(mkdtempSync(path.join(tmpdir(), "lm-node-")), "uploads.json");
  const first = spawnSync(process.execPath, [helper, file, state, "--die-after-parts", "2"], { encoding: "utf8", timeout: 120_000 });
  assert.equal(first.status, 3, `the first process dies mid-upload: ${first.stderr}`);
  const saved = JSON.parse(readFileSync(state, "utf8"));
  const [key] = Object.keys(saved);
  assert.ok(key, "the state file names the unfinished upload");
  const { part_count: count } = JSON.parse(saved[key]);
  assert.equal(count, 5, "40 MB is five 8 MiB parts");
  const second = spawnSync(process.execPath, [helper, file, state], { encoding: "utf8", timeout: 120_000 });
  assert.equal(second.status, 0, second.stderr);
  const out = JSON.parse(second.stdout.trim().split("\n").pop());
  assert.equal(out.status, "ready", JSON.stringify(out));
  assert.equal(`lambda-media:upload:${out.mediaId}`, key, "the same upload was resumed, not a new one started");
  assert.deepEqual(out.sent.sort(), [3, 4, 5], "only the parts S3 did not hold were sent, each once");
  assert.deepEqual(JSON.parse(readFileSync(state, "utf8")), {}, "a finished upload leaves no state");
});

test(`Node ${process.version}: a refused file asks for no slot, and a failed upload gives its slot back`, { timeout: 60_000 }, async () => {
  const { c, calls } = await client("node-client-errors");
  const results = await c.uploadFiles([42, path.join(root, "no-such-file.jpg"), createReadStream(fixture("photo.jpg"))], { kind: "post_image" });
  assert.deepEqual(results.map((r) => r.error?.code), ["unsupported_source", "unreadable_file", "invalid_request"]);
  assert.ok(!calls.some((call) => call.startsWith("POST /v1/uploads")), `no slot was asked for: ${calls}`);
  // Storage refuses the bytes (as an expired policy would): the error has S3's code, and the
  // slot is released rather than left pending against the quota.
  const refuse = (url, init) => (String(url).startsWith(env.API_URL) ? fetch(url, init) : Promise.resolve(new Response("<Error><Code>AccessDenied</Code><Message>Policy check failed</Message></Error>", { status: 403 })));
  const failing = await client("node-client-errors", { fetch: refuse });
  const [r] = await failing.c.uploadFiles([fixture("photo.jpg")], { kind: "post_image", method: "put" });
  assert.equal(r.error?.code, "AccessDenied");
  assert.ok(r.mediaId, "a slot was issued");
  await assert.rejects(c.getMedia(r.mediaId), (e) => e.code === "not_found" && e.status === 404);
});

test(`Node ${process.version}: docs/CLIENT.md's Node quick start runs as written`, { timeout: 120_000 }, async () => {
  const doc = readFileSync(path.join(root, "docs/CLIENT.md"), "utf8");
  const block = /<!-- node-quickstart -->\n```js\n([\s\S]*?)\n```/.exec(doc)?.[1];
  assert.ok(block, "CLIENT.md has the Node quick start");
  // Run where the package resolves by its name, as in an app that installed it.
  const dir = mkdtempSync(path.join(tmpdir(), "lm-quickstart-"));
  const scoped = path.join(dir, "node_modules/@lambda-media");
  mkdirSync(scoped, { recursive: true });
  symlinkSync(path.join(root, "web/packages/media-client"), path.join(scoped, "client"));
  writeFileSync(path.join(dir, "quickstart.mjs"), block);
  const run = spawnSync(process.execPath, ["quickstart.mjs"], {
    cwd: dir, encoding: "utf8", timeout: 100_000,
    env: { ...process.env, API_URL: env.API_URL, TOKEN: await devToken(env, "node-quickstart"), FILE: fixture("dataset.mp4") },
  });
  assert.equal(run.status, 0, run.stderr);
  const [status, id] = run.stdout.trim().split(" ");
  assert.equal(status, "ready", run.stdout);
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, ".uploads.json"), "utf8")), {}, "finished: no state left");
  const { c } = await client("node-quickstart");
  await c.deleteMedia(id);
});
