// The whole flow in real headless Chromium: the demo page uploads three real images and one
// HTML file renamed .jpg; three thumbnails appear, one rejected badge with its reason, progress
// reaches 100%, and there are no console errors or CORS failures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { root, stackEnv } from "../lib/test-env.mjs";

const env = stackEnv();
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

test("demo page: upload, thumbnails, rejection, no console or CORS errors", { timeout: 120_000 }, async () => {
  const fixtures = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();
  // launch() starts from a fresh, empty profile every time.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("requestfailed", (req) => problems.push(`request failed: ${req.method()} ${req.url().split("?")[0]} ${req.failure()?.errorText}`));
    await page.goto(env.WEB_URL);
    await page.fill("#user", `browser-${Date.now()}`);
    await page.click("#signin button");
    await page.waitForSelector('body[data-signed-in="true"]');
    await page.setInputFiles("#files", ["photo.jpg", "alpha.png", "wide.webp", "fake.jpg"].map((f) => path.join(fixtures, f)));

    await page.waitForFunction(() => document.querySelectorAll(".card.ready img").length === 3 && document.querySelectorAll(".card.rejected").length === 1, null, { timeout: 60_000 });
    // Every thumbnail really loaded from storage.
    await page.waitForFunction(() => [...document.querySelectorAll(".card.ready img")].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20_000 });
    const reason = await page.textContent(".card.rejected .reason");
    assert.match(reason, /^not_an_image: /);
    assert.equal(await page.textContent(".card.rejected .name"), "fake.jpg");
    const maxes = await page.$$eval(".progress li", (rows) => rows.map((r) => Number(r.dataset.max)));
    assert.deepEqual(maxes, [100, 100, 100, 100], "every upload reached 100%");
    const widths = await page.$$eval(".card.ready img", (imgs) => imgs.map((i) => i.naturalWidth));
    assert.ok(widths.every((w) => w > 0 && w <= 512), `thumbnails, not originals: ${widths}`);
    // Each ready card painted its ThumbHash placeholder behind the thumbnail.
    const backgrounds = await page.$$eval(".card.ready .thumb", (els) => els.map((e) => e.style.backgroundImage));
    assert.ok(backgrounds.length === 3 && backgrounds.every((b) => b.startsWith('url("data:image/png;base64,')), `placeholders: ${backgrounds.map((b) => b.slice(0, 40))}`);

    mkdirSync(path.join(root, ".local/artifacts"), { recursive: true });
    await page.screenshot({ path: path.join(root, ".local/artifacts/demo.png"), fullPage: true });
    assert.deepEqual(problems, [], "no console errors, CORS failures or failed requests");
  } finally {
    await browser.close();
  }
});
