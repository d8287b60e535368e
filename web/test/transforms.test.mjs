// Transforms decoded by a real browser: headless Chromium loads `GET /v1/media/{id}/image` in an
// <img> (sending its own Accept, so format=auto gives AVIF), follows the redirect to the stored
// variant, and must decode it at the requested size, for every output format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { devToken, root, stackEnv } from "../lib/test-env.mjs";

const env = stackEnv();
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

async function readyPhoto(token) {
  const dir = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();
  const bytes = readFileSync(path.join(dir, "photo.jpg"));
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const slots = await fetch(`${env.API_URL}/v1/uploads`, { method: "POST", headers: auth, body: JSON.stringify({ kind: "post_image", method: "put", files: [{ filename: "photo.jpg", content_type: "image/jpeg", size_bytes: bytes.length }] }) });
  assert.equal(slots.status, 201);
  const slot = (await slots.json()).uploads[0];
  const headers = Object.fromEntries(Object.entries(slot.headers).filter(([k]) => k.toLowerCase() !== "content-length"));
  assert.equal((await fetch(slot.url, { method: "PUT", headers, body: bytes })).status, 200);
  const done = await fetch(`${env.API_URL}/v1/media/${slot.media_id}/complete`, { method: "POST", headers: auth });
  const media = await done.json();
  assert.equal(media.status, "ready", JSON.stringify(media));
  return media;
}

test("every output format decodes in Chromium at the requested size", { timeout: 180_000 }, async () => {
  const media = await readyPhoto(await devToken(env, `transform-browser-${Date.now()}`));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    const page = await browser.newPage();
    const types = new Map();
    page.on("response", (r) => { const t = r.headers()["x-transform-type"]; if (t) types.set(new URL(r.url()).search, t); });
    await page.goto(`${env.WEB_URL}/`);
    const cases = [
      ["?w=320", "image/avif", 320],
      ["?w=320&format=webp", "image/webp", 320],
      ["?w=320&format=jpeg", "image/jpeg", 320],
      ["?w=256&h=256&fit=cover&format=png", "image/png", 256],
      ["?preset=card&format=avif", "image/avif", 640],
    ];
    for (const [query, type, width] of cases) {
      const got = await page.evaluate((src) => new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve({ w: img.naturalWidth, h: img.naturalHeight });
        img.onerror = () => resolve({ error: true });
        img.src = src;
      }), `${env.API_URL}/v1/media/${media.id}/image${query}`);
      assert.ok(!got.error, `${query}: Chromium could not load or decode it`);
      assert.equal(got.w, width, query);
      assert.equal(types.get(query), type, query);
    }
  } finally {
    await browser.close();
  }
});
