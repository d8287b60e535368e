// Keeps openapi.yaml honest: real responses from the local stack are validated against it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { root, stackEnv, devToken } from "../lib/test-env.mjs";

const env = stackEnv();
const doc = YAML.parse(readFileSync(path.join(root, "openapi.yaml"), "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "openapi", components: doc.components });
const checked = new Set();

function templateOf(url) {
  for (const tpl of Object.keys(doc.paths)) {
    const re = new RegExp("^" + tpl.replace(/\{[^}]+\}/g, "[^/]+") + "$");
    if (re.test(url)) return tpl;
  }
  return null;
}

/** Calls the API and validates the answer against the documented response for its status. */
async function call(method, url, token, body) {
  const res = await fetch(env.API_URL + url, {
    method,
    redirect: "manual",
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const tpl = templateOf(url.split("?")[0]);
  assert.ok(tpl, `${url} is documented`);
  const op = doc.paths[tpl][method.toLowerCase()];
  assert.ok(op, `${method} ${tpl} is documented`);
  let response = op.responses[String(res.status)];
  assert.ok(response, `${method} ${tpl} documents status ${res.status}`);
  if (response.$ref) response = doc.components.responses[response.$ref.split("/").pop()];
  const schema = response.content?.["application/json"]?.schema;
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (schema) {
    const validate = ajv.compile({ $ref: schema.$ref ? `openapi${schema.$ref}` : undefined, ...(schema.$ref ? {} : schema) });
    assert.ok(validate(data), `${method} ${tpl} ${res.status}: ${ajv.errorsText(validate.errors)}\n${text}`);
  } else {
    assert.equal(text, "", `${method} ${tpl} ${res.status} has no body`);
  }
  checked.add(`${method} ${tpl} ${res.status}`);
  return { status: res.status, data, headers: res.headers };
}

test("every route answers as openapi.yaml documents", { timeout: 120_000 }, async () => {
  const user = `contract-${Date.now()}`;
  const token = await devToken(env, user, ["org:contract"]);
  await call("GET", "/v1/health");
  await call("POST", "/v1/uploads", null, { kind: "image", files: [] });
  await call("POST", "/v1/uploads", token, { kind: "image", files: [] });
  await call("POST", "/v1/uploads", token, { kind: "nope", files: [{ filename: "a.jpg", content_type: "image/jpeg", size_bytes: 1 }] });
  await call("POST", "/v1/uploads", token, { kind: "avatar", scope: "org:other", files: [{ filename: "a.jpg", content_type: "image/jpeg", size_bytes: 1 }] });
  await call("POST", "/v1/uploads", token, { kind: "avatar", files: [{ filename: "a.jpg", content_type: "image/jpeg", size_bytes: 99999999 }] });
  await call("POST", "/api/v1/organizations/contract/temp-image-upload", token, { content_type: "image/png", filename: "a.png" });
  await call("POST", "/api/v1/organizations/other/temp-image-upload", token, { content_type: "image/png", filename: "a.png" });

  // A real upload, verified.
  const fixtures = execFileSync("cargo", ["run", "-q", "-p", "devtools", "--bin", "make-fixtures", "--", path.join(root, ".local/fixtures")], { cwd: root, encoding: "utf8" }).trim();
  const bytes = readFileSync(path.join(fixtures, "photo.jpg"));
  const created = await call("POST", "/v1/uploads", token, { kind: "image", scope: "org:contract", method: "put", files: [{ filename: "photo.jpg", content_type: "image/jpeg", size_bytes: bytes.length }] });
  const slot = created.data.uploads[0];
  const id = slot.media_id;
  await call("POST", `/v1/media/${id}/complete`, token);
  const headers = Object.fromEntries(Object.entries(slot.headers).filter(([k]) => k !== "content-length"));
  const put = await fetch(slot.url, { method: "PUT", headers, body: bytes });
  assert.equal(put.status, 200);
  await call("POST", `/v1/media/${id}/complete`, token);
  await call("POST", "/v1/media/complete", token, { media_ids: [id, "missing"] });
  await call("POST", "/v1/media/complete", token, { media_ids: [] });
  await call("GET", `/v1/media/${id}`, token);
  await call("GET", `/v1/media/${crypto.randomUUID()}`, token);
  await call("GET", "/v1/media?limit=1", token);
  await call("GET", "/v1/media?scope=org:contract", token);
  await call("GET", "/v1/media?scope=org:other", token);
  await call("GET", "/v1/media?cursor=forged.cursor", token);
  await call("GET", `/v1/media/${id}/url?variant=128&download=true`, token);
  await call("GET", `/v1/media/${id}/url?expires_in=5`, token);
  await call("GET", `/v1/media/${id}/url?variant=4096`, token);
  await call("GET", `/v1/media/${id}/content`, token);
  await call("PATCH", `/v1/media/${id}`, token, { title: "t", tags: ["a"] });
  await call("PATCH", `/v1/media/${id}`, token, { status: "ready" });
  await call("POST", `/v1/media/${id}/attach`, token, { ref: "post:1" });
  await call("POST", `/v1/media/${id}/attach`, token, { ref: "post:2" });
  await call("DELETE", `/v1/media/${id}/attach`, token);
  // Images on demand: unsigned (the image kind is private), bounded, repeated signature, signed.
  await call("GET", `/v1/media/${id}/image?w=64`);
  await call("GET", `/v1/media/${id}/image?w=65`);
  await call("GET", `/v1/media/${id}/image?w=64&exp=1&exp=2&sig=a`);
  const link = await call("GET", `/v1/media/${id}/url?w=64&format=webp`, token);
  await call("GET", link.data.url.slice(link.data.url.indexOf("/v1/")));
  await call("GET", link.data.url.slice(link.data.url.indexOf("/v1/")).replace(/sig=[^&]+/, "sig=forged"));
  await call("DELETE", `/v1/media/${id}`, token);
  await call("DELETE", `/v1/media/${id}`, token);
  await call("GET", link.data.url.slice(link.data.url.indexOf("/v1/")));

  // Kinds and multipart uploads.
  const kinds = await call("GET", "/v1/kinds");
  assert.equal(kinds.headers.get("cache-control"), "public, max-age=300");
  const mp = await call("POST", "/v1/uploads", token, { kind: "video", method: "multipart", files: [{ filename: "v.mp4", content_type: "video/mp4", size_bytes: 20 * 1024 * 1024 }] });
  const mid = mp.data.uploads[0].media_id;
  await call("POST", `/v1/uploads/${mid}/parts`, token, { part_numbers: [1, 2, 3] });
  await call("POST", `/v1/uploads/${mid}/parts`, token, { part_numbers: [4] });
  await call("POST", `/v1/uploads/${mid}/parts`, token, { part_numbers: [] });
  await call("GET", `/v1/uploads/${mid}/parts`, token);
  await call("GET", `/v1/uploads/${mid}/parts`, null);
  await call("POST", `/v1/uploads/${mid}/complete`, token);
  await call("DELETE", `/v1/uploads/${mid}`, token);
  await call("DELETE", `/v1/uploads/${mid}`, token);
  await call("GET", `/v1/uploads/${mid}/parts`, token);
  const single = await call("POST", "/v1/uploads", token, { kind: "image", method: "put", files: [{ filename: "a.jpg", content_type: "image/jpeg", size_bytes: 10 }] });
  await call("POST", `/v1/uploads/${single.data.uploads[0].media_id}/parts`, token, { part_numbers: [1] });
  await call("POST", `/v1/uploads/${single.data.uploads[0].media_id}/complete`, token);
  await call("DELETE", `/v1/uploads/${single.data.uploads[0].media_id}`, token);
  assert.ok(checked.size >= 42, `checked ${checked.size} route/status pairs`);
  // A method a path does not list: the answer x-unlisted-method promises.
  const unlisted = await fetch(env.API_URL + "/v1/media", { method: "PUT", headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual([unlisted.status, (await unlisted.json()).error.code], [doc["x-unlisted-method"].status, doc["x-unlisted-method"].code]);
});

/** Every `.rs` file under `dir`. */
function rustSources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? rustSources(p) : e.name.endsWith(".rs") ? [p] : [];
  });
}

test("every error code the API's code can produce is in openapi.yaml's enum", () => {
  // Read from the sources, not from a list: each ApiError is built by `ApiError::new(status,
  // "code", …)` (or `Self::new` inside error.rs) or `ApiError::conflict("code", …)`.
  const dirs = [path.join(root, "shared/src"), ...readdirSync(path.join(root, "functions")).map((f) => path.join(root, "functions", f, "src"))];
  const found = new Map();
  for (const file of dirs.flatMap(rustSources)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:ApiError|Self)::new\(\s*(\d{3}),\s*"([a-z_]+)"/g)) found.set(m[2], file);
    for (const m of text.matchAll(/ApiError::conflict\(\s*"([a-z_]+)"/g)) found.set(m[1], file);
    // A code that is not a literal would escape this check: there must be none.
    assert.doesNotMatch(text, /ApiError::new\(\s*\d{3},\s*[^"\s]/, `${file} builds an ApiError from a non-literal code`);
  }
  const documented = new Set(doc.components.schemas.Error.properties.error.properties.code.enum);
  assert.ok(found.size >= 25, `found ${found.size} codes`);
  for (const [code, file] of found) assert.ok(documented.has(code), `${code} (${path.relative(root, file)}) is not in openapi.yaml's error enum`);
});

// scripts/test names this file and runs the Rust stack tests first; each line is one answer
// they saw, `METHOD /path status` (devtools::stack::seen).
const statuses = process.env.STACK_STATUSES;
test("every status the stack tests saw is documented in openapi.yaml", { skip: statuses ? false : "STACK_STATUSES is not set (scripts/test sets it)" }, () => {
  const lines = readFileSync(statuses, "utf8").split("\n").filter(Boolean);
  assert.ok(lines.length >= 200, `${statuses} holds ${lines.length} answers: did the stack tests run?`);
  const missing = new Set();
  const pairs = new Set();
  for (const line of lines) {
    const [method, url, status] = line.split(" ");
    const tpl = templateOf(url);
    const op = tpl && doc.paths[tpl][method.toLowerCase()];
    pairs.add(`${method} ${tpl} ${status}`);
    if (!tpl) missing.add(`${method} ${url} (no such documented path) ${status}`);
    else if (!op && status !== String(doc["x-unlisted-method"].status)) missing.add(`${method} ${tpl} (a method it does not list) ${status}`);
    else if (op && !op.responses[status]) missing.add(`${method} ${tpl} ${status}`);
  }
  assert.deepEqual([...missing].sort(), [], "statuses the stack answered that openapi.yaml does not document");
  assert.ok(pairs.size >= 40, `saw ${pairs.size} route/status pairs`);
});
