// Docs are code: README's curl walk-through (the sh block after `<!-- walkthrough -->`) runs as
// written, in bash from the checkout, against the local stack; each step's printed answer is
// what its comment says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { root } from "../lib/test-env.mjs";

function walkthrough() {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const m = readme.match(/<!-- walkthrough -->\n```sh\n([\s\S]*?)\n```/);
  assert.ok(m, "README.md has the walk-through block");
  return m[1];
}

test("README's curl walk-through runs as written", { timeout: 300_000 }, () => {
  const script = walkthrough();
  const out = execFileSync("bash", ["-euo", "pipefail", "-c", script], { cwd: root, encoding: "utf8", timeout: 290_000 });
  // The lines the steps print, in order: complete's status, the width, the variant, the delete.
  const printed = out.trim().split("\n");
  assert.deepEqual(printed, ["ready", "1600", "302 image/webp", "204"], out);
  // Each printed value is the one the block's comment promises.
  for (const [step, expected] of [["# ready", "ready"], ["# 1600", "1600"], ["# 204", "204"]]) {
    assert.ok(script.includes(step) && printed.includes(expected), `${step} is what the step prints`);
  }
});
