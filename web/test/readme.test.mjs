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
  // What the lines print, in order, is what their `#=>` comments say (a loop's comment lists
  // each pass's line).
  const printed = out.trim().split(/\s+/);
  const promised = [...script.matchAll(/#=> (.*)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
  assert.ok(promised.length >= 10, "the block states what its steps print");
  assert.deepEqual(printed, promised, out);
});
