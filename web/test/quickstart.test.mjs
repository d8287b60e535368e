// docs/CLIENT.md's browser quick start, bundled as an app would (esbuild, the package by its
// name) and run as written in headless Chromium against the local stack: each file logs its
// verdict or its error's code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { devToken, root, stackEnv } from "../lib/test-env.mjs";

const env = stackEnv();
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

test("CLIENT.md's browser quick start runs as written", { timeout: 120_000 }, async () => {
  const block = /<!-- browser-quickstart -->\n```js\n([\s\S]*?)\n```/.exec(readFileSync(path.join(root, "docs/CLIENT.md"), "utf8"))?.[1];
  assert.ok(block, "CLIENT.md has the browser quick start");
  const dir = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();
  writeFileSync(path.join(dir, "huge.jpg"), Buffer.alloc(12 * 1024 * 1024, 0xff));
  const out = path.join(root, "web/.build");
  mkdirSync(out, { recursive: true });
  await build({
    stdin: { contents: block, resolveDir: out, loader: "js" }, bundle: true, format: "esm", outfile: path.join(out, "quickstart.js"), logLevel: "error",
    alias: { "@lambda-media/client": path.join(root, "web/packages/media-client/index.js") },
  });
  const token = await devToken(env, `quickstart-${Date.now()}`);
  writeFileSync(path.join(out, "quickstart.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><input type="file" multiple>
<script>window.API_URL = ${JSON.stringify(env.API_URL)}; window.TOKEN = ${JSON.stringify(token)};</script><script type="module" src="quickstart.js"></script>`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"] });
  try {
    const page = await browser.newPage();
    const logs = [];
    const problems = [];
    page.on("console", (m) => (m.type() === "log" ? logs.push(m.text()) : m.type() === "error" && problems.push(m.text())));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${env.WEB_URL}/.build/quickstart.html`);
    await page.waitForLoadState("networkidle");
    const three = new Promise((resolve) => page.on("console", () => logs.length >= 3 && resolve()));
    await page.setInputFiles("input[type=file]", ["photo.jpg", "fake.jpg", "huge.jpg"].map((f) => path.join(dir, f)));
    let timer;
    const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`only ${JSON.stringify(logs)} after 60 s`)), 60_000); });
    await Promise.race([three, late]).finally(() => clearTimeout(timer));
    assert.deepEqual(logs, ["photo.jpg ready", "fake.jpg rejected", "huge.jpg too_large"]);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
