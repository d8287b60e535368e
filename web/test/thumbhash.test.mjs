// The client's ThumbHash decoder against the reference decoder (the `thumbhash` crate the service
// encodes with): for docs/API.md's example hash, from the corpus's 640x480 RGBA PNG, the crate's
// `thumb_hash_to_rgba` gives 32x26 pixels, mean RGBA 120.26, 124.30, 118.24, 119.14 and a first
// pixel of 121, 129, 112, 23 (it truncates where the browser's clamped array rounds, so the
// comparison allows one level).
import assert from "node:assert/strict";
import test from "node:test";
import { thumbHashToRGBA } from "../media-client.js";

test("a service ThumbHash decodes like the reference decoder", () => {
  const image = thumbHashToRGBA("HviBDIQ39WNNmUqJ9yWdGi8Id4eHeIeICA==");
  assert.deepEqual([image.width, image.height], [32, 26]);
  assert.equal(image.rgba.length, 32 * 26 * 4);
  const mean = [0, 1, 2, 3].map((c) => image.rgba.filter((_, i) => i % 4 === c).reduce((a, v) => a + v, 0) / (32 * 26));
  [120.26, 124.3, 118.24, 119.14].forEach((want, c) => assert.ok(Math.abs(mean[c] - want) <= 1, `channel ${c}: ${mean[c]} vs ${want}`));
  [121, 129, 112, 23].forEach((want, c) => assert.ok(Math.abs(image.rgba[c] - want) <= 1, `first pixel ${c}: ${image.rgba[c]}`));
  assert.equal(thumbHashToRGBA("AAA="), null, "too short");
});
