// The local stack's .local/env, for the browser and contract tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function stackEnv() {
  const text = readFileSync(path.join(root, ".local/env"), "utf8");
  return Object.fromEntries(text.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

export async function devToken(env, sub, scopes = []) {
  const res = await fetch(`${env.WEB_URL}/dev/token?${new URLSearchParams({ sub, scopes: scopes.join(",") })}`);
  return (await res.json()).token;
}
