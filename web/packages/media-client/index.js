// lambda-media client for browsers and Node 18+: a dependency-free ES module (Node's file paths
// and streams come in through `./node.js`, which this file never imports).
// Checks files against the kinds before asking for slots, uploads straight to S3 (presigned
// POST or PUT, or multipart above a threshold: parts in parallel, retried with backoff, resumable
// after a reload from S3's own part list) with progress and cancellation, then waits until each
// media is ready or rejected.

/** The API answered with an error object. */
export class MediaApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.name = "MediaApiError";
    this.status = status;
    this.code = code;
  }
}

/** S3 refused the upload (e.g. EntityTooLarge, AccessDenied for an expired URL). */
export class S3UploadError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.name = "S3UploadError";
    this.status = status;
    this.code = code;
  }
}

/** The network failed (offline, CORS refusal, DNS). */
export class NetworkError extends Error {
  constructor(message) {
    super(message);
    this.name = "NetworkError";
    this.code = "network_error";
  }
}

/** A file was not sent: it does not fit its kind (checked before any slot is asked for). */
export class FileRejectedError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "FileRejectedError";
    this.code = code;
  }
}

/** The caller aborted through its AbortSignal. */
export class AbortError extends Error {
  constructor() {
    super("aborted");
    this.name = "AbortError";
    this.code = "aborted";
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(t); reject(new AbortError()); }, { once: true });
  });

const MIB = 1024 * 1024;
/**
 * The part size and count the API chooses for `size` bytes (a kind's `max_parts`): 8 MiB parts,
 * grown in whole MiB until the count fits. The same rule as the server's `multipart::plan`;
 * tools that must know the part size before asking (Uppy's getChunkSize) use it.
 */
export function partPlan(size, maxParts) {
  const needed = Math.ceil(Math.ceil(size / maxParts) / MIB) * MIB;
  const partSize = Math.max(8 * MIB, needed);
  return { part_size: partSize, part_count: Math.ceil(size / partSize) };
}

/** Files above this are sent as multipart uploads. */
export const DEFAULT_MULTIPART_THRESHOLD = 16 * MIB;
const STATE_PREFIX = "lambda-media:upload:";

/** Failures worth another try: the network, throttling, a server error, an expired part URL. */
const isTransient = (e) =>
  e instanceof NetworkError || (typeof e?.status === "number" && (e.status >= 500 || e.status === 429 || e.status === 408));

/** Runs `fn` until it succeeds, retrying transient failures with exponential backoff and jitter. */
async function withRetries(fn, { retries = 5, signal, baseMs = 400, maxMs = 8000, onRetry } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (e instanceof AbortError || signal?.aborted) throw new AbortError();
      if (attempt >= retries || !(isTransient(e) || e?.retryable)) throw e;
      onRetry?.(e, attempt + 1);
      await sleep(Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random() / 2), signal);
    }
  }
}

/** localStorage if this page may use it (private modes and Node have none). */
function localStore() {
  try {
    const s = globalThis.localStorage;
    s?.length;
    return s || null;
  } catch {
    return null;
  }
}

/**
 * Where multipart upload state is kept so a later run can resume: any object with
 * `get(key)`, `set(key, value)`, `remove(key)` and `keys()` (each may return a promise).
 * Browsers default to localStorage; elsewhere (Node) state lives in memory unless a store is
 * given (`fileStateStore` in `@lambda-media/client/node` keeps it in a file).
 */
export function localStorageStateStore() {
  const s = localStore();
  if (!s) return null;
  return {
    get: (k) => s.getItem(k),
    set: (k, v) => s.setItem(k, v),
    remove: (k) => s.removeItem(k),
    keys: () => Array.from({ length: s.length }, (_, i) => s.key(i)).filter(Boolean),
  };
}

export function memoryStateStore() {
  const m = new Map();
  return { get: (k) => m.get(k) ?? null, set: (k, v) => void m.set(k, v), remove: (k) => void m.delete(k), keys: () => [...m.keys()] };
}

/** Identifies "the same file" across reloads: what a File keeps (contents are never read). */
// A source may name itself with `key` where the platform keeps no date (a Blob restored from
// IndexedDB), so that the same file is recognised all the same.
export const fingerprint = (file, kind) => [kind, file.name, file.size, file.key ?? (file.lastModified || 0), file.type].join("|");

/** A stored state's pending upload, or null when it is unreadable or expired. */
function pendingEntry(key, raw) {
  try {
    const state = JSON.parse(raw);
    return Date.parse(state.expires_at) > Date.now() ? { mediaId: key.slice(STATE_PREFIX.length), ...state } : null;
  } catch {
    return null;
  }
}

const ours = (key) => Boolean(key?.startsWith(STATE_PREFIX));
const newestFirst = (list) => list.sort((a, b) => (b.started_at || "").localeCompare(a.started_at || ""));

/** Multipart uploads started and not finished, newest first, from `store` (dead entries are dropped). */
async function pendingIn(store) {
  if (!store) return [];
  const out = [];
  for (const key of (await store.keys()).filter(ours)) {
    const entry = pendingEntry(key, await store.get(key));
    if (entry) out.push(entry);
    else await store.remove(key);
  }
  return newestFirst(out);
}

/** Multipart uploads this browser started and has not finished, newest first (localStorage). */
export function pendingUploads() {
  const s = localStorageStateStore();
  if (!s) return [];
  return newestFirst(s.keys().filter(ours).map((key) => pendingEntry(key, s.get(key))).filter(Boolean));
}

// What a file's name says its type is, for platforms whose file pickers leave `type` empty for
// the formats they do not show (HEIC and AVIF on several desktop browsers). The server still
// sniffs the bytes; this only names what to ask a slot for.
const BY_EXTENSION = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp",
  heic: "image/heic", heif: "image/heif", avif: "image/avif",
  mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", webm: "video/webm",
};

/** The content type to declare for `file`: its own, else the one its extension names. */
export function typeOf(file) {
  const own = (file.type || "").toLowerCase();
  if (own && own !== "application/octet-stream") return own;
  const ext = (file.name || "").split(".").pop().toLowerCase();
  return BY_EXTENSION[ext] || own;
}

// The first bytes of the types a bare byte array may hold (a Blob or path names its own type).
function sniff(b) {
  const at = (i, ...xs) => xs.every((x, k) => b[i + k] === x);
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp";
  if (at(4, 0x66, 0x74, 0x79, 0x70)) {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (["heic", "heix", "hevc", "heim", "heis"].includes(brand)) return "image/heic";
    if (brand === "mif1" || brand === "msf1") return "image/heif";
    if (brand === "avif" || brand === "avis") return "image/avif";
    if (brand === "qt  ") return "video/quicktime";
    return "video/mp4";
  }
  if (at(0, 0x1a, 0x45, 0xdf, 0xa3)) return "video/webm";
  return "";
}

/**
 * What the client uploads: `{name, size, type, lastModified, read(start, end)}`, where `read`
 * gives those bytes as a Blob or Uint8Array (sync or as a promise). Blobs and Files, byte arrays
 * (`Uint8Array`/`Buffer`, alone or as `{data, name, type}`) and such objects themselves are
 * accepted; anything else is null (refused before any slot is asked for).
 */
export function toSource(item) {
  const HasBlob = typeof Blob === "function";
  if (HasBlob && item instanceof Blob) {
    return { name: item.name || "upload", size: item.size, type: item.type || "", lastModified: item.lastModified || 0, read: (s, e) => item.slice(s, e) };
  }
  const bytes = item instanceof Uint8Array ? item : item?.data instanceof Uint8Array ? item.data : null;
  if (bytes) {
    const name = item?.name || "upload";
    const type = item?.type || typeOf({ name, type: "" }) || sniff(bytes);
    return { name, size: bytes.length, type, lastModified: item?.lastModified || 0, read: (s, e) => bytes.subarray(s, e) };
  }
  if (item && typeof item.read === "function" && Number.isSafeInteger(item.size) && item.size >= 0) {
    return { lastModified: 0, type: "", ...item, name: item.name || "upload" };
  }
  return null;
}

/** Why `file` cannot be uploaded as `kind` (as GET /v1/kinds describes it), or null. */
export function checkFile(kindSpec, file) {
  if (!kindSpec) return null;
  const type = typeOf(file);
  if (!kindSpec.content_types.includes(type)) {
    return new FileRejectedError("unsupported_content_type", `${file.name}: ${type || "unknown type"} is not one of ${kindSpec.content_types.join(", ")}`);
  }
  if (file.size < 1) return new FileRejectedError("invalid_request", `${file.name} is empty`);
  if (file.size > kindSpec.max_bytes) {
    return new FileRejectedError("too_large", `${file.name} is ${formatBytes(file.size)}; this kind allows at most ${formatBytes(kindSpec.max_bytes)}`);
  }
  return null;
}

/** A size as people read it: "15.6 MiB", "512 KiB", "300 bytes". */
export function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, "")} ${units[u]}`;
}

function s3Error(status, text) {
  const code = /<Code>([^<]*)<\/Code>/.exec(text || "")?.[1] || `HTTP${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text || "")?.[1] || code;
  return new S3UploadError(status, code, message);
}

/** S3's answer for an expired URL: signed again and retried. */
const expired = (err) => err.code === "AccessDenied" && /expired/i.test(err.message) || err.code === "RequestExpired" || err.code === "ExpiredToken";

/**
 * @param {{baseUrl: string, getToken: () => string | Promise<string>, fetch?: typeof fetch,
 *   stateStore?: object | null, transport?: "xhr" | "fetch", toSource?: (item: any) => any}} options
 */
export function createMediaClient({ baseUrl, getToken, fetch: fetchImpl, stateStore, transport, toSource: sourceOf = toSource }) {
  if (!fetchImpl && typeof globalThis.fetch !== "function") throw new TypeError("no fetch in this runtime: pass options.fetch");
  fetchImpl ??= globalThis.fetch.bind(globalThis);
  // XMLHttpRequest where the platform has it (browsers: upload progress), fetch elsewhere (Node).
  const useXhr = transport ? transport === "xhr" : typeof globalThis.XMLHttpRequest === "function";
  const store = stateStore === undefined ? localStorageStateStore() ?? memoryStateStore() : stateStore;
  const saveState = async (mediaId, state) => {
    try {
      await store?.set(STATE_PREFIX + mediaId, JSON.stringify(state));
    } catch {
      // Full or forbidden storage only costs the ability to resume.
    }
  };
  const clearState = async (mediaId) => {
    try {
      await store?.remove(STATE_PREFIX + mediaId);
    } catch {
      // As above.
    }
  };
  const base = baseUrl.replace(/\/+$/, "");

  /** One API call; `retry` for idempotent ones (GET, part URLs, completion, abort). */
  async function api(method, path, body, signal, { retry = false, auth = true } = {}) {
    if (retry) return withRetries(() => api(method, path, body, signal, { auth }), { signal });
    const headers = auth ? { authorization: `Bearer ${await getToken()}` } : {};
    if (body !== undefined) headers["content-type"] = "application/json";
    let res;
    try {
      res = await fetchImpl(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (e) {
      if (signal?.aborted) throw new AbortError();
      throw new NetworkError(String(e?.message || e));
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new MediaApiError(res.status, data?.error?.code || `HTTP${res.status}`, data?.error?.message);
    return data;
  }

  /** Sends one file (a Blob, bytes or a source) to its slot; resolves to S3's ETag. */
  async function uploadToSlot(slot, file, { onProgress, signal } = {}) {
    const source = await sourceOf(file);
    if (!source) throw new FileRejectedError("unsupported_source", "not a Blob, byte array or source object");
    const body = await source.read(0, source.size);
    return send(slot.method, slot.url, slot.fields, slot.headers, body, { onProgress, signal });
  }

  /** A PUT or form POST of `body` (Blob or bytes) to S3; resolves to the response's ETag. */
  async function send(method, url, fields, headers, body, { onProgress, signal } = {}) {
    if (signal?.aborted) throw new AbortError();
    const size = body.size ?? body.byteLength;
    const form = () => {
      const f = new FormData();
      // Every policy field first, in order; the file must be the last field.
      for (const [k, v] of Object.entries(fields)) f.append(k, v);
      f.append("file", body instanceof Blob ? body : new Blob([body]), "upload");
      return f;
    };
    // Content-Length comes from the body itself (browsers refuse to be told; fetch computes it).
    const signed = Object.entries(headers || {}).filter(([k]) => k.toLowerCase() !== "content-length");
    if (!useXhr) {
      let res;
      try {
        res = await fetchImpl(url, method === "POST" ? { method, body: form(), signal } : { method, headers: Object.fromEntries(signed), body, signal });
      } catch (e) {
        if (signal?.aborted) throw new AbortError();
        throw new NetworkError(`upload to storage failed: ${e?.cause?.code || e?.message || e}`);
      }
      if (!res.ok) {
        const err = s3Error(res.status, await res.text().catch(() => ""));
        err.retryable = expired(err);
        throw err;
      }
      onProgress?.(size, size);
      return res.headers.get("etag");
    }
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      if (method !== "POST") for (const [k, v] of signed) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded, e.total); };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress?.(size, size);
          resolve(xhr.getResponseHeader("ETag"));
        } else {
          const err = s3Error(xhr.status, xhr.responseText);
          err.retryable = expired(err);
          reject(err);
        }
      };
      xhr.onerror = () => reject(new NetworkError("upload to storage failed (network or CORS)"));
      xhr.onabort = () => reject(new AbortError());
      signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(method === "POST" ? form() : body);
    });
  }

  /** Polls until the media is ready or rejected, with backoff, for at most timeoutMs. */
  async function waitForMedia(id, { timeoutMs = 60000, signal } = {}) {
    const deadline = Date.now() + timeoutMs;
    let delay = 250;
    for (;;) {
      const media = await api("GET", `/v1/media/${encodeURIComponent(id)}`, undefined, signal);
      if (media.status !== "pending") return media;
      if (Date.now() + delay > deadline) throw new MediaApiError(408, "timeout", `media ${id} still pending after ${timeoutMs} ms`);
      await sleep(delay, signal);
      delay = Math.min(delay * 1.5, 3000);
    }
  }

  let kindsCache = null;
  /** GET /v1/kinds (public, cached for the page's life). */
  function getKinds(signal) {
    kindsCache ??= api("GET", "/v1/kinds", undefined, signal, { retry: true, auth: false }).catch((e) => {
      kindsCache = null;
      throw e;
    });
    return kindsCache;
  }

  /**
   * Sends a file in parts to a MULTIPART slot (or resumes one): asks S3 which parts it holds,
   * uploads the others `concurrency` at a time (each retried with backoff, its URL signed again
   * if it expired), then completes. Resolves to the media as verified.
   */
  async function uploadMultipart(mediaId, plan, file, { concurrency = 4, onProgress, onPart, signal, retries = 5 } = {}) {
    file = await sourceOf(file);
    if (!file) throw new FileRejectedError("unsupported_source", "not a Blob, byte array or source object");
    const id = encodeURIComponent(mediaId);
    const { part_size: partSize, part_count: count } = plan;
    const length = (n) => Math.min(partSize, file.size - (n - 1) * partSize);
    const { parts: held } = await api("GET", `/v1/uploads/${id}/parts`, undefined, signal, { retry: true });
    const have = new Set(held.filter((p) => p.size === length(p.part_number)).map((p) => p.part_number));
    const loaded = new Map([...have].map((n) => [n, length(n)]));
    const report = () => onProgress?.([...loaded.values()].reduce((a, b) => a + b, 0), file.size);
    report();
    const queue = [];
    for (let n = 1; n <= count; n++) if (!have.has(n)) queue.push(n);
    const urls = new Map();
    async function urlFor(n, fresh) {
      if (fresh || !urls.has(n)) {
        // Sign this part and the next few waiting, in one request (at most 100).
        const batch = [n, ...queue.slice(0, 99)].filter((x, i, a) => a.indexOf(x) === i && (fresh ? x === n : !urls.has(x)));
        const { parts } = await api("POST", `/v1/uploads/${id}/parts`, { part_numbers: batch }, signal, { retry: true });
        for (const p of parts) urls.set(p.part_number, p);
      }
      return urls.get(n);
    }
    async function worker() {
      while (queue.length) {
        const n = queue.shift();
        const start = (n - 1) * partSize;
        // Read now, in queue order (a stream source reads forward only), once for all retries:
        // at most `concurrency` parts are in memory.
        const bytes = Promise.resolve(file.read(start, start + length(n)));
        bytes.catch(() => {});
        await withRetries(async (attempt) => {
          const part = await urlFor(n, attempt > 0);
          loaded.set(n, 0);
          await send("PUT", part.url, {}, part.headers, await bytes, {
            signal,
            onProgress: (l) => { loaded.set(n, l); report(); },
          });
        }, { signal, retries, onRetry: () => { loaded.set(n, 0); report(); } });
        onPart?.(n);
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    const media = await api("POST", `/v1/uploads/${id}/complete`, undefined, signal, { retry: true });
    await clearState(mediaId);
    return media;
  }

  /** Gives up a pending upload: S3 discards its parts, the API forgets it. */
  async function abortUpload(mediaId, signal) {
    await clearState(mediaId);
    return api("DELETE", `/v1/uploads/${encodeURIComponent(mediaId)}`, undefined, signal, { retry: true });
  }

  /**
   * Uploads files. Each is first checked against its kind (GET /v1/kinds): a file of the wrong
   * type or too large gets its own error and the others go on. Files above `multipartThreshold`
   * go in parts (resuming an upload this browser started for the same file), the rest by
   * `method`. Resolves to one result per file, in order: {file, mediaId, media} or {file, error}.
   */
  async function uploadFiles(files, { kind, scope, method = "post", multipartThreshold = DEFAULT_MULTIPART_THRESHOLD, concurrency = 4, onProgress, onSlot, onPart, signal, wait = true, timeoutMs } = {}) {
    const items = Array.from(files);
    const results = new Array(items.length);
    // Every item is made a source first: one that cannot be read gets its error and no slot.
    const list = await Promise.all(items.map(async (item, i) => {
      try {
        const source = await sourceOf(item);
        if (!source) results[i] = { file: item, error: new FileRejectedError("unsupported_source", "not a Blob, byte array or source object") };
        return source;
      } catch (error) {
        results[i] = { file: item, error: error?.code ? error : new FileRejectedError("unsupported_source", String(error?.message || error)) };
        return null;
      }
    }));
    const pending = await pendingIn(store);
    let spec = null;
    try {
      spec = (await getKinds(signal)).kinds[kind] ?? null;
      if (!spec) throw new MediaApiError(400, "unknown_kind", `unknown kind ${kind}`);
    } catch (e) {
      if (e instanceof MediaApiError || e instanceof AbortError) throw e;
      // Without the kinds the server still checks every file; only the early check is lost.
    }
    const groups = { [method]: [], multipart: [] };
    const resumed = [];
    list.forEach((file, i) => {
      if (!file) return;
      const problem = checkFile(spec, file);
      if (problem) return void (results[i] = { file, error: problem });
      if (file.size <= multipartThreshold) return void groups[method].push(i);
      const fp = fingerprint(file, kind);
      const earlier = pending.find((u) => u.fingerprint === fp);
      if (earlier) resumed.push([i, earlier]);
      else groups.multipart.push(i);
    });

    async function run(i, mediaId, go) {
      try {
        const media = await go();
        results[i] = { file: items[i], mediaId, media };
      } catch (error) {
        if (error && typeof error === "object" && !error.code) error.code = "client_error";
        results[i] = { file: items[i], mediaId, error };
      }
    }
    const progress = (i) => (loaded, total) => onProgress?.(i, loaded, total);
    // Resumes first: one that finds its upload gone, decided or expired starts again below.
    await Promise.all(resumed.map(async ([i, earlier]) => {
      onSlot?.(i, { media_id: earlier.mediaId, method: "MULTIPART", resumed: true });
      try {
        const media = await uploadMultipart(earlier.mediaId, earlier, list[i], { concurrency, signal, onProgress: progress(i), onPart: (n) => onPart?.(i, n) });
        results[i] = { file: items[i], mediaId: earlier.mediaId, media };
      } catch (error) {
        if (error instanceof MediaApiError && [404, 409, 410].includes(error.status)) {
          await clearState(earlier.mediaId);
          groups.multipart.push(i);
        } else results[i] = { file: items[i], mediaId: earlier.mediaId, error };
      }
    }));

    const jobs = [];
    for (const [m, indexes] of Object.entries(groups)) {
      if (!indexes.length) continue;
      const request = {
        kind,
        method: m,
        files: indexes.map((i) => ({ filename: list[i].name || "upload", content_type: typeOf(list[i]) || "application/octet-stream", size_bytes: list[i].size })),
      };
      if (scope) request.scope = scope;
      let uploads;
      try {
        ({ uploads } = await api("POST", "/v1/uploads", request, signal));
      } catch (error) {
        if (error instanceof AbortError) throw error;
        for (const i of indexes) results[i] = { file: items[i], error };
        continue;
      }
      indexes.forEach((i, k) => {
        const slot = uploads[k];
        onSlot?.(i, slot);
        if (slot.method === "MULTIPART") {
          const saved = saveState(slot.media_id, {
            fingerprint: fingerprint(list[i], kind), filename: list[i].name, size: list[i].size, kind,
            part_size: slot.part_size, part_count: slot.part_count, expires_at: slot.expires_at, started_at: new Date().toISOString(),
          });
          jobs.push(run(i, slot.media_id, async () => {
            await saved;
            return uploadMultipart(slot.media_id, slot, list[i], { concurrency, signal, onProgress: progress(i), onPart: (n) => onPart?.(i, n) });
          }));
        } else {
          jobs.push(run(i, slot.media_id, async () => {
            try {
              const body = await list[i].read(0, list[i].size);
              await withRetries(() => send(slot.method, slot.url, slot.fields, slot.headers, body, { signal, onProgress: progress(i) }), { signal });
            } catch (error) {
              // The bytes never arrived: give the slot back rather than leave it pending.
              await abortUpload(slot.media_id).catch(() => {});
              throw error;
            }
            return wait ? waitForMedia(slot.media_id, { signal, timeoutMs }) : null;
          }));
        }
      });
    }
    await Promise.all(jobs);
    return results;
  }

  return {
    createUploads: (request, signal) => api("POST", "/v1/uploads", request, signal),
    getKinds,
    uploadToSlot,
    uploadMultipart,
    abortUpload,
    listParts: (id, signal) => api("GET", `/v1/uploads/${encodeURIComponent(id)}/parts`, undefined, signal, { retry: true }),
    signParts: (id, partNumbers, signal) => api("POST", `/v1/uploads/${encodeURIComponent(id)}/parts`, { part_numbers: partNumbers }, signal, { retry: true }),
    completeUpload: (id, signal) => api("POST", `/v1/uploads/${encodeURIComponent(id)}/complete`, undefined, signal, { retry: true }),
    uploadFiles,
    waitForMedia,
    /** Multipart uploads started through this client's state store and not finished. */
    pendingUploads: () => pendingIn(store),
    getMedia: (id, signal) => api("GET", `/v1/media/${encodeURIComponent(id)}`, undefined, signal, { retry: true }),
    listMedia: (params = {}, signal) => {
      const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== ""));
      return api("GET", `/v1/media${q.size ? `?${q}` : ""}`, undefined, signal);
    },
    mediaUrl: (id, params = {}, signal) => api("GET", `/v1/media/${encodeURIComponent(id)}/url?${new URLSearchParams(params)}`, undefined, signal),
    updateMedia: (id, patch, signal) => api("PATCH", `/v1/media/${encodeURIComponent(id)}`, patch, signal),
    attachMedia: (id, ref, expectKind, signal) => api("POST", `/v1/media/${encodeURIComponent(id)}/attach`, expectKind ? { ref, expect_kind: expectKind } : { ref }, signal),
    detachMedia: (id, signal) => api("DELETE", `/v1/media/${encodeURIComponent(id)}/attach`, undefined, signal),
    deleteMedia: (id, signal) => api("DELETE", `/v1/media/${encodeURIComponent(id)}`, undefined, signal),
    completeMedia: (id, signal) => api("POST", `/v1/media/${encodeURIComponent(id)}/complete`, undefined, signal),
  };
}

/**
 * Decodes a media's `placeholder.thumbhash` (standard base64) into a small RGBA image, about
 * 32 px on its long side, with the image's aspect ratio and alpha. A port of the ThumbHash
 * reference decoder; returns null for a hash that is too short.
 */
export function thumbHashToRGBA(thumbhash) {
  const hash = Uint8Array.from(atob(thumbhash), (c) => c.charCodeAt(0));
  if (hash.length < 5) return null;
  const { PI, cos, round, max, min } = Math;
  const header24 = hash[0] | (hash[1] << 8) | (hash[2] << 16);
  const header16 = hash[3] | (hash[4] << 8);
  const lDc = (header24 & 63) / 63, pDc = ((header24 >> 6) & 63) / 31.5 - 1, qDc = ((header24 >> 12) & 63) / 31.5 - 1;
  const lScale = ((header24 >> 18) & 31) / 31, hasAlpha = header24 >> 23 !== 0;
  const pScale = ((header16 >> 3) & 63) / 63, qScale = ((header16 >> 9) & 63) / 63, isLandscape = header16 >> 15 !== 0;
  const lMax = hasAlpha ? 5 : 7;
  const lx = max(3, isLandscape ? lMax : header16 & 7), ly = max(3, isLandscape ? header16 & 7 : lMax);
  const ratio = (isLandscape ? lMax : header16 & 7) / (isLandscape ? header16 & 7 : lMax);
  const aDc = hasAlpha ? (hash[5] & 15) / 15 : 1, aScale = hasAlpha ? (hash[5] >> 4) / 15 : 1;
  let index = hasAlpha ? 6 : 5, half = 0;
  const channel = (nx, ny, scale) => {
    const ac = [];
    for (let cy = 0; cy < ny; cy++)
      for (let cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++, half ^= 1)
        ac.push((((hash[index] >> (half * 4)) & 15) / 7.5 - 1) * scale), (index += half);
    return ac;
  };
  const lAc = channel(lx, ly, lScale), pAc = channel(3, 3, pScale * 1.25), qAc = channel(3, 3, qScale * 1.25);
  const aAc = hasAlpha ? channel(5, 5, aScale) : [];
  const w = ratio > 1 ? 32 : round(32 * ratio), h = ratio > 1 ? round(32 / ratio) : 32;
  const rgba = new Uint8ClampedArray(w * h * 4);
  const clamp = (v) => max(0, min(1, v)) * 255;
  for (let y = 0, i = 0; y < h; y++)
    for (let x = 0; x < w; x++, i += 4) {
      let l = lDc, p = pDc, q = qDc, a = aDc;
      const fx = (c) => cos((PI / w) * (x + 0.5) * c), fy = (c) => cos((PI / h) * (y + 0.5) * c);
      for (let cy = 0, j = 0; cy < ly; cy++)
        for (let cx = cy ? 0 : 1; cx * ly < lx * (ly - cy); cx++, j++) l += lAc[j] * fx(cx) * fy(cy) * 2;
      for (let cy = 0, j = 0; cy < 3; cy++)
        for (let cx = cy ? 0 : 1; cx < 3 - cy; cx++, j++) {
          const f = fx(cx) * fy(cy) * 2;
          p += pAc[j] * f;
          q += qAc[j] * f;
        }
      if (hasAlpha)
        for (let cy = 0, j = 0; cy < 5; cy++)
          for (let cx = cy ? 0 : 1; cx < 5 - cy; cx++, j++) a += aAc[j] * fx(cx) * fy(cy) * 2;
      const b = l - (2 / 3) * p, r = (3 * l - b + q) / 2, g = r - q;
      rgba[i] = clamp(r), rgba[i + 1] = clamp(g), rgba[i + 2] = clamp(b), rgba[i + 3] = clamp(a);
    }
  return { width: w, height: h, rgba };
}

/** The placeholder as a PNG data URL for an `<img>` or a CSS background (browsers only). */
export function thumbHashToDataURL(thumbhash, doc = globalThis.document) {
  const image = thumbHashToRGBA(thumbhash);
  if (!image || !doc) return null;
  const canvas = doc.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext("2d").putImageData(new ImageData(image.rgba, image.width, image.height), 0, 0);
  return canvas.toDataURL("image/png");
}
