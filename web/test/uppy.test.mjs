// Uppy, the upload widget people already use: @uppy/core + @uppy/aws-s3 from npm, bundled as an
// app would, upload through this API with nothing but the client package's adapter, in headless
// Chromium against the local stack: single PUTs and a multipart video.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { devToken, root, stackEnv } from "../lib/test-env.mjs";

const env = stackEnv();
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

async function bundle() {
  const out = path.join(root, "web/.build");
  mkdirSync(out, { recursive: true });
  await build({ entryPoints: [path.join(root, "web/lib/uppy-page.mjs")], bundle: true, format: "esm", outfile: path.join(out, "uppy-test.js"), logLevel: "error" });
  writeFileSync(path.join(out, "uppy-test.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><input id="files" type="file" multiple><script type="module" src="uppy-test.js"></script>`);
}

/** The fixtures, the bundled page, and a browser whose tabs (one context) open that page. */
async function setUp() {
  const dir = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();
  await bundle();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"] });
  const context = await browser.newContext();
  const problems = [];
  // Part PUTs in flight at once, seen on the wire (a part's URL names its partNumber).
  const wire = { open: 0, most: 0 };
  const isPart = (r) => r.method() === "PUT" && /[?&]partNumber=/.test(r.url());
  context.on("request", (r) => { if (isPart(r)) wire.most = Math.max(wire.most, ++wire.open); });
  for (const e of ["requestfinished", "requestfailed"]) context.on(e, (r) => { if (isPart(r)) wire.open--; });
  const open = async () => {
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    await page.goto(`${env.WEB_URL}/.build/uppy-test.html`);
    await page.waitForFunction(() => typeof window.runUppy === "function");
    return page;
  };
  return { dir, browser, problems, open, wire };
}

test("Uppy's S3 plugin uploads through the API, single PUT and multipart", { timeout: 180_000 }, async () => {
  const { dir, browser, problems, open } = await setUp();
  try {
    const page = await open();
    const token = await devToken(env, `uppy-${Date.now()}`);

    await page.setInputFiles("#files", ["photo.jpg", "wide.webp"].map((f) => path.join(dir, f)));
    const images = await page.evaluate((a) => window.runUppy(a), { apiUrl: env.API_URL, token, kind: "post_image" });
    assert.deepEqual(images.failed, []);
    assert.deepEqual(images.media.map((m) => [m.filename, m.status]), [["photo.jpg", "ready"], ["wide.webp", "ready"]], "the adapter emits each single PUT's verdict");
    assert.deepEqual(images.state, images.ids, "and keeps it as the file's lambdaMedia state");
    assert.ok(images.media.every((m) => Object.keys(m.variants).length > 0), "thumbnails made");

    await page.setInputFiles("#files", [path.join(dir, "trip.mp4")]);
    const video = await page.evaluate((a) => window.runUppy(a), { apiUrl: env.API_URL, token, kind: "video" });
    assert.deepEqual(video.failed, []);
    assert.deepEqual(video.parts.map(([, n]) => n).sort(), [1, 2, 3, 4], "four 8 MiB parts, cut as the API signed them");
    const [m] = video.media;
    assert.equal(m.status, "ready", JSON.stringify(m));
    assert.equal(m.size_bytes, 28 * 1024 * 1024);
    assert.equal(m.content_type, "video/mp4");
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});

test("Uppy with Golden Retriever: a tab closed after two parts resumes in a new tab, sending only the missing parts", { timeout: 180_000 }, async () => {
  const { dir, browser, problems, open } = await setUp();
  try {
    const args = { apiUrl: env.API_URL, token: await devToken(env, `uppy-resume-${Date.now()}`), kind: "video" };
    const first = await open();
    await first.setInputFiles("#files", [path.join(dir, "trip.mp4")]);
    const started = await first.evaluate((a) => window.startResumable(a), args);
    assert.deepEqual(started.parts.slice(0, 2).sort(), [1, 2], `the first tab sent parts 1 and 2 first: ${JSON.stringify(started)}`);
    await first.close();

    const second = await open();
    const resumed = await second.evaluate((a) => window.resumeResumable(a), args);
    assert.equal(resumed.media.id, started.mediaId, "the same upload, not a new one");
    assert.equal(resumed.media.status, "ready", JSON.stringify(resumed.media));
    assert.equal(resumed.media.size_bytes, 28 * 1024 * 1024);
    assert.deepEqual([...started.parts, ...resumed.parts].sort(), [1, 2, 3, 4], "every part once, across both tabs");
    assert.ok(!resumed.parts.includes(1) && !resumed.parts.includes(2), `the new tab sent only the missing parts: ${resumed.parts}`);

    // Without Golden Retriever the file is chosen again and Uppy starts from part 1: the adapter
    // gives back the upload that tab left instead of leaving it pending beside a new one.
    const plain = { ...args, token: await devToken(env, `uppy-restart-${Date.now()}`), resumable: false };
    const third = await open();
    await third.setInputFiles("#files", [path.join(dir, "trip.mp4")]);
    const left = await third.evaluate((a) => window.startResumable(a), plain);
    await third.close();
    const fourth = await open();
    await fourth.evaluate(() => indexedDB.deleteDatabase("uppy-blobs"));
    await fourth.setInputFiles("#files", [path.join(dir, "trip.mp4")]);
    const again = await fourth.evaluate((a) => window.runUppy(a), plain);
    assert.deepEqual(again.failed, [], JSON.stringify(again));
    assert.equal(again.ids.length, 1);
    assert.notEqual(again.ids[0], left.mediaId, "a new upload carried the restarted file");
    assert.equal(again.media[0]?.status, "ready", JSON.stringify(again));
    assert.deepEqual(again.pending, [], "no pending upload is left behind");
    const gone = await fetch(`${env.API_URL}/v1/media/${left.mediaId}`, { headers: { authorization: `Bearer ${plain.token}` } });
    assert.equal(gone.status, 404, "the upload the closed tab left was given back");
    assert.deepEqual(problems, [], "no page errors");
  } finally {
    await browser.close();
  }
});

test("Uppy with the LambdaMedia plugin: a file's parts go four at a time, and each file's verdict comes with upload-success", { timeout: 180_000 }, async () => {
  const { dir, browser, problems, open, wire } = await setUp();
  try {
    const page = await open();
    const token = await devToken(env, `uppy-plugin-${Date.now()}`);
    const args = { apiUrl: env.API_URL, token, uploader: "plugin" };

    await page.setInputFiles("#files", ["photo.jpg", "alpha.png"].map((f) => path.join(dir, f)));
    const images = await page.evaluate((a) => window.runUppy(a), { ...args, kind: "post_image" });
    assert.deepEqual(images.failed, []);
    assert.deepEqual(images.media.map((m) => [m.filename, m.status]), [["alpha.png", "ready"], ["photo.jpg", "ready"]]);
    assert.deepEqual(images.state, images.ids, "the verdict is the file's lambdaMedia state");
    assert.equal(wire.most, 0, "small files go in one request");

    await page.setInputFiles("#files", [path.join(dir, "trip.mp4")]);
    const video = await page.evaluate((a) => window.runUppy(a), { ...args, kind: "video" });
    assert.deepEqual(video.failed, []);
    assert.deepEqual(video.parts.map(([, n]) => n).sort(), [1, 2, 3, 4]);
    assert.equal(wire.most, 4, "all four parts were in flight at once");
    assert.equal(video.media[0].status, "ready", JSON.stringify(video.media[0]));
    assert.equal(video.media[0].size_bytes, 28 * 1024 * 1024);
    assert.deepEqual(video.pending, []);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});

test("Uppy with the LambdaMedia plugin: a tab closed after two parts resumes from the API's part list when the file is chosen again", { timeout: 180_000 }, async () => {
  const { dir, browser, problems, open } = await setUp();
  try {
    const args = { apiUrl: env.API_URL, token: await devToken(env, `uppy-plugin-resume-${Date.now()}`), kind: "video", uploader: "plugin", concurrency: 2, resumable: false };
    const first = await open();
    await first.setInputFiles("#files", [path.join(dir, "dataset.mp4")]);
    const started = await first.evaluate((a) => window.startResumable(a), args);
    assert.ok(started.parts.length >= 2, `the first tab paused after two parts: ${JSON.stringify(started)}`);
    await first.close();

    const second = await open();
    // The part list the new tab's client got from the API (a part in flight at the pause may
    // still have landed after the tab closed).
    let held = null;
    second.on("response", async (r) => {
      if (r.request().method() === "GET" && r.url().endsWith(`/v1/uploads/${started.mediaId}/parts`)) held = (await r.json()).parts.map((p) => p.part_number).sort();
    });
    await second.setInputFiles("#files", [path.join(dir, "dataset.mp4")]);
    const resumed = await second.evaluate((a) => window.runUppy(a), args);
    assert.deepEqual(resumed.failed, [], JSON.stringify(resumed));
    assert.deepEqual(resumed.ids, [started.mediaId], "the same upload, not a new one");
    assert.ok(held, "the new tab asked the API which parts S3 holds");
    for (const n of started.parts) assert.ok(held.includes(n), `part ${n}, sent by the first tab, is held`);
    assert.ok(held.length < 5, `parts were left to send: ${held}`);
    const sent = resumed.parts.map(([, n]) => n).sort();
    assert.deepEqual(sent, [1, 2, 3, 4, 5].filter((n) => !held.includes(n)), "the new tab sent exactly the parts S3 did not hold");
    assert.equal(resumed.media[0].status, "ready", JSON.stringify(resumed.media[0]));
    assert.deepEqual(resumed.pending, []);

    // A paused file the user removes gives its upload back: nothing is left pending.
    const third = await open();
    await third.setInputFiles("#files", [path.join(dir, "dataset.mp4")]);
    const owner = { ...args, token: await devToken(env, `uppy-plugin-remove-${Date.now()}`) };
    const removed = await third.evaluate((a) => window.startResumable(a), { ...owner, remove: true });
    assert.ok(removed.mediaId);
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline && (status = (await fetch(`${env.API_URL}/v1/media/${removed.mediaId}`, { headers: { authorization: `Bearer ${owner.token}` } })).status) !== 404) await new Promise((r) => setTimeout(r, 100));
    assert.equal(status, 404, "the removed file's upload was given back");
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
