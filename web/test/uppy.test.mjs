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

test("Uppy's S3 plugin uploads through the API, single PUT and multipart", { timeout: 180_000 }, async () => {
  const dir = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();
  const out = path.join(root, "web/.build");
  mkdirSync(out, { recursive: true });
  await build({ entryPoints: [path.join(root, "web/lib/uppy-page.mjs")], bundle: true, format: "esm", outfile: path.join(out, "uppy-test.js"), logLevel: "error" });
  writeFileSync(path.join(out, "uppy-test.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><input id="files" type="file" multiple><script type="module" src="uppy-test.js"></script>`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"] });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    await page.goto(`${env.WEB_URL}/.build/uppy-test.html`);
    await page.waitForFunction(() => typeof window.runUppy === "function");
    const token = await devToken(env, `uppy-${Date.now()}`);

    await page.setInputFiles("#files", ["photo.jpg", "wide.webp"].map((f) => path.join(dir, f)));
    const images = await page.evaluate((a) => window.runUppy(a), { apiUrl: env.API_URL, token, kind: "post_image" });
    assert.deepEqual(images.failed, []);
    assert.deepEqual(images.media.map((m) => [m.filename, m.status]), [["photo.jpg", "ready"], ["wide.webp", "ready"]]);
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
