// lambda-media client, Node entry: everything the browser entry has, plus uploads from a file
// path or a readable stream (read part by part, never whole), and upload state kept in a file
// so a later process resumes a multipart upload. Node 18+ (fetch, Blob and FormData are global).
import { open, stat } from "node:fs/promises";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createMediaClient as createBrowserClient, FileRejectedError, toSource as toBrowserSource, typeOf } from "./index.js";

export * from "./index.js";

/** A file on disk as a source: its size and mtime from stat, its bytes read range by range. */
export async function fromPath(file, { type, name } = {}) {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    throw new FileRejectedError("unreadable_file", `${file}: ${e.code || e.message}`);
  }
  if (!st.isFile()) throw new FileRejectedError("unreadable_file", `${file} is not a file`);
  name ||= path.basename(file);
  return {
    name,
    size: st.size,
    lastModified: Math.floor(st.mtimeMs),
    type: type || typeOf({ name, type: "" }),
    async read(start, end) {
      const fh = await open(file, "r");
      try {
        const buf = Buffer.alloc(end - start);
        for (let off = 0; off < buf.length;) {
          const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
          if (!bytesRead) throw new FileRejectedError("unreadable_file", `${file} is shorter than when the upload began`);
          off += bytesRead;
        }
        return buf;
      } finally {
        await fh.close();
      }
    },
  };
}

/**
 * A readable stream (or any async iterable of bytes) as a source. Its `size` must be given, as
 * the slot declares it. It is read forward only: parts are read in order (a resumed upload
 * reads past the parts S3 already holds), and never more than the parts in flight are held.
 */
export function fromStream(stream, { name, size, type, lastModified = 0 } = {}) {
  if (!Number.isSafeInteger(size) || size < 0) throw new FileRejectedError("invalid_request", "a stream's size must be given");
  const it = stream[Symbol.asyncIterator]();
  let pos = 0;
  let rest = Buffer.alloc(0);
  let chain = Promise.resolve();
  const next = async () => {
    const { value, done } = await it.next();
    if (done) throw new FileRejectedError("invalid_request", `${name || "stream"} ended at ${pos + rest.length} bytes; ${size} were declared`);
    return Buffer.from(value);
  };
  async function skip(n) {
    while (n > 0) {
      if (!rest.length) rest = await next();
      const k = Math.min(n, rest.length);
      rest = rest.subarray(k);
      pos += k;
      n -= k;
    }
  }
  async function take(n) {
    const out = Buffer.alloc(n);
    for (let off = 0; off < n;) {
      if (!rest.length) rest = await next();
      const k = Math.min(n - off, rest.length);
      rest.copy(out, off, 0, k);
      rest = rest.subarray(k);
      off += k;
      pos += k;
    }
    return out;
  }
  name ||= "upload";
  return {
    name,
    size,
    lastModified,
    type: type || typeOf({ name, type: "" }),
    read(start, end) {
      const p = chain.then(async () => {
        if (start < pos) throw new FileRejectedError("invalid_request", "a stream cannot be read twice");
        await skip(start - pos);
        return take(end - start);
      });
      chain = p.catch(() => {});
      return p;
    },
  };
}

/** Upload state in a JSON file (written whole, then renamed into place), for resuming later. */
export function fileStateStore(file) {
  const load = () => {
    try {
      return JSON.parse(readFileSync(file, "utf8"));
    } catch {
      return {};
    }
  };
  const save = (m) => {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(m));
    renameSync(tmp, file);
  };
  return {
    get: (k) => load()[k] ?? null,
    set: (k, v) => save({ ...load(), [k]: v }),
    remove: (k) => {
      const m = load();
      if (k in m) {
        delete m[k];
        save(m);
      }
    },
    keys: () => Object.keys(load()),
  };
}

/** What Node code hands the client: a path, `{path}`, a stream as `{stream, size}`, or what browsers take. */
async function toSource(item) {
  if (typeof item === "string") return fromPath(item);
  if (item && typeof item.path === "string" && typeof item.read !== "function") return fromPath(item.path, item);
  if (item?.stream) return fromStream(item.stream, item);
  if (item && typeof item[Symbol.asyncIterator] === "function" && typeof item.read === "function" && !Number.isSafeInteger(item.size)) {
    throw new FileRejectedError("invalid_request", "pass a stream as {stream, size, name}: its size is declared in the slot");
  }
  return toBrowserSource(item);
}

/** `createMediaClient` whose uploads also take paths and streams (upload state in memory unless `stateStore`). */
export function createMediaClient(options) {
  return createBrowserClient({ ...options, toSource });
}
