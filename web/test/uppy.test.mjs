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
  const open = async () => {
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    await page.goto(`${env.WEB_URL}/.build/uppy-test.html`);
    await page.waitForFunction(() => typeof window.runUppy === "function");
    return page;
  };
  return { dir, browser, problems, open };
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
