// Two ways in. `LambdaMedia` is an Uppy uploader plugin over this package's client: a file's
// parts go `concurrency` at a time, an upload a closed tab left is resumed from the API's part
// list (the client's state store, localStorage in browsers), and the verdict comes with
// `upload-success`. `lambdaMediaS3Options` configures Uppy's own S3 plugin instead, for apps
// that already use it; that plugin sends one file's parts one after another.
//
// The adapter lets Uppy's own S3 plugin (@uppy/aws-s3 6.x, `signRequest`) upload through
// lambda-media: single PUTs and multipart, resumable, with every rule of the API.
//
// Uppy's plugin speaks S3 and asks `signRequest` for a presigned URL per S3 call. Uploads (PUT,
// UploadPart) get real presigned URLs from the API. The calls lambda-media makes itself on the
// server (CreateMultipartUpload when the slot is made, ListParts, CompleteMultipartUpload from
// S3's own part list, AbortMultipartUpload) are done through the API, and the plugin is handed
// the S3-shaped answer as a `data:` URL (which browsers answer for any method). So the browser
// never holds a URL that could create, complete or abort an upload on its own.
//
// After `upload-success` the adapter asks for the verdict (a single PUT/POST only means S3 holds
// the bytes) and emits `lambda-media:verdict` (file, media), also kept as the file's
// `lambdaMedia` state. Resuming after a closed tab is Golden Retriever's (docs/CLIENT.md); without
// it, Uppy starts a file again from part 1, and the adapter gives back that file's unfinished
// upload (and, for a single request, the slot before) instead of leaving it pending.
import { fingerprint as fileFingerprint, partPlan } from "./index.js";

const MIB = 1024 * 1024;
const localStore = () => {
  try {
    return globalThis.localStorage || null;
  } catch {
    return null;
  }
};
const xml = (body) => `data:application/xml;charset=utf-8,${encodeURIComponent(`<?xml version="1.0" encoding="UTF-8"?>${body}`)}`;
const esc = (s) => String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const mediaIdOf = (key) => key.replace(/^incoming\//, "");
const withoutLength = (headers = {}) => Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "content-length"));

/**
 * Options for `uppy.use(AwsS3, options)`.
 * @param {object} o
 * @param {ReturnType<import("./index.js").createMediaClient>} o.client
 * @param {import("@uppy/core").default} o.uppy the Uppy instance (to read a file's name and size)
 * @param {string} o.kind
 * @param {string} [o.scope]
 * @param {"put" | "post"} [o.method] single-request uploads: presigned PUT (default) or POST form
 * @param {number} [o.multipartThreshold] default 16 MiB
 */
export async function lambdaMediaS3Options({ client, uppy, kind, scope, method = "put", multipartThreshold = 16 * MIB, storage = localStore() }) {
  const { kinds } = await client.getKinds();
  const spec = kinds[kind];
  if (!spec) throw new Error(`unknown kind ${kind}`);
  // The last single slot issued per Uppy file, and the verdicts multipart completion already gave.
  const singles = new Map();
  const verdicts = new Map();
  uppy.on("upload-success", async (file) => {
    const id = uppy.getFile(file.id)?.meta.media_id;
    if (!id) return;
    singles.delete(file.id);
    let media = verdicts.get(file.id);
    verdicts.delete(file.id);
    try {
      media ??= await client.completeMedia(id);
    } catch (error) {
      media = null;
      uppy.emit("lambda-media:verdict-error", file, error);
    }
    if (!media) return;
    if (uppy.getFile(file.id)) uppy.setFileState(file.id, { lambdaMedia: media });
    uppy.emit("lambda-media:verdict", uppy.getFile(file.id) || file, media);
  });
  // The multipart upload this browser began for a file (kind, name, size, date, type).
  const pendingKey = (file) => `lambda-media:uppy:${fileFingerprint({ name: file.name, size: file.size, lastModified: file.data?.lastModified, type: file.type }, kind)}`;
  const fileOfMedia = (id) => uppy.getFiles().find((f) => f.meta.media_id === id);

  const slot = async (file, m) => {
    const request = { kind, method: m, files: [{ filename: file.name || "upload", content_type: file.type, size_bytes: file.size }] };
    if (scope) request.scope = scope;
    const { uploads } = await client.createUploads(request);
    return uploads[0];
  };
  const fileOf = (key) => {
    const file = uppy.getFile(key.replace(/^uppy\//, ""));
    if (!file) throw new Error(`no Uppy file for ${key}`);
    return file;
  };
  return {
    shouldUseMultipart: (file) => (file.size || 0) > multipartThreshold,
    // The API cuts the file; Uppy must cut it the same way (each part's length is signed).
    getChunkSize: ({ size }) => partPlan(size, spec.max_parts).part_size,
    // A key the adapter can map back to the Uppy file; the API replaces it with its own.
    generateObjectKey: (file) => `uppy/${file.id}`,
    async signRequest(req) {
      if (!req.uploadId) {
        if (req.method === "PUT") {
          const file = fileOf(req.key);
          // Uppy asks again when it restarts a file: the slot before is given back.
          const before = singles.get(file.id);
          if (before) await client.abortUpload(before).catch(() => null);
          const s = await slot({ name: file.name, type: req.contentType || file.type, size: file.size }, method);
          singles.set(file.id, s.media_id);
          uppy.setFileMeta(file.id, { media_id: s.media_id });
          return s.method === "POST" ? { url: s.url, fields: s.fields, key: s.key } : { url: s.url, headers: withoutLength(s.headers), key: s.key };
        }
        if (req.method === "POST") {
          const file = fileOf(req.key);
          // Uppy started this file again from part 1: the upload it left is given back (its
          // parts would all be sent again anyway), then a new one begins.
          const earlier = JSON.parse(storage?.getItem(pendingKey(file)) || "null");
          if (earlier?.media_id) await client.abortUpload(earlier.media_id).catch(() => null);
          const s = await slot({ name: file.name, type: file.type, size: file.size }, "multipart");
          storage?.setItem(pendingKey(file), JSON.stringify({ media_id: s.media_id }));
          uppy.setFileMeta(file.id, { media_id: s.media_id });
          return { url: xml(`<InitiateMultipartUploadResult><Key>${esc(s.key)}</Key><UploadId>${esc(s.upload_id)}</UploadId></InitiateMultipartUploadResult>`), key: s.key };
        }
        if (req.method === "DELETE") {
          // Removing an uploaded file: the media goes (objects and record).
          await client.deleteMedia(mediaIdOf(req.key)).catch(() => null);
          return { url: xml("<Deleted/>") };
        }
      }
      const id = mediaIdOf(req.key);
      if (req.method === "PUT") {
        const { parts } = await client.signParts(id, [req.partNumber]);
        return { url: parts[0].url, headers: withoutLength(parts[0].headers) };
      }
      if (req.method === "GET") {
        const { parts } = await client.listParts(id);
        const items = parts.map((p) => `<Part><PartNumber>${p.part_number}</PartNumber><ETag>${esc(p.etag)}</ETag><Size>${p.size}</Size></Part>`).join("");
        return { url: xml(`<ListPartsResult><UploadId>${esc(req.uploadId)}</UploadId>${items}</ListPartsResult>`) };
      }
      if (req.method === "POST") {
        // The API assembles the object from S3's own part list and verifies it now.
        const media = await client.completeUpload(id);
        const file = fileOfMedia(id);
        if (file) {
          storage?.removeItem(pendingKey(file));
          verdicts.set(file.id, media);
        }
        if (media.status === "rejected") throw new Error(`${media.rejection?.code}: ${media.rejection?.message}`);
        const location = media.url || `media:${id}`;
        return { url: xml(`<CompleteMultipartUploadResult><Location>${esc(location)}</Location><Key>${esc(req.key)}</Key></CompleteMultipartUploadResult>`) };
      }
      if (req.method === "DELETE") {
        const file = fileOfMedia(id);
        if (file) storage?.removeItem(pendingKey(file));
        await client.abortUpload(id);
        return { url: xml("<Aborted/>") };
      }
      throw new Error(`lambda-media cannot sign ${req.method} ${req.key}`);
    },
  };
}

/**
 * An Uppy uploader plugin: `uppy.use(LambdaMedia, { client, kind })`. Each file goes through
 * `client.uploadFiles` (kind checked first, single POST/PUT or parts `concurrency` at a time,
 * resumed from the API's part list when this browser began it before), and `upload-success`
 * fires once the API has judged the file, with the media as `response.body` and as the file's
 * `lambdaMedia` state (also `lambda-media:verdict`). A rejected file is an `upload-error` whose
 * error has the rejection's `code`. Pausing keeps the parts sent; removing a file, or cancelling
 * all, gives its upload back.
 */
export class LambdaMedia {
  static VERSION = "0.4.0";

  constructor(uppy, opts = {}) {
    if (!opts.client) throw new TypeError("LambdaMedia needs { client, kind }");
    this.uppy = uppy;
    this.opts = { method: "post", concurrency: 4, limit: 3, ...opts };
    this.id = this.opts.id || "LambdaMedia";
    this.type = "uploader";
    this.upload = this.upload.bind(this);
  }

  setOptions(next) {
    this.opts = { ...this.opts, ...next };
  }

  update() {}

  install() {
    const { capabilities } = this.uppy.getState();
    this.uppy.setState({ capabilities: { ...capabilities, resumableUploads: true } });
    this.uppy.addUploader(this.upload);
  }

  uninstall() {
    this.uppy.removeUploader(this.upload);
  }

  async upload(fileIDs) {
    const files = this.uppy.getFilesByIds(fileIDs).filter((f) => !f.error && !f.progress?.uploadComplete);
    this.uppy.emit("upload-start", files.filter((f) => !f.progress?.uploadStarted || !f.isRestored));
    // At most `limit` files at a time, each with up to `concurrency` parts in flight.
    const queue = [...files];
    const worker = async () => {
      while (queue.length) {
        const file = this.uppy.getFile(queue.shift().id);
        if (file) await this.#uploadFile(file);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.limit, queue.length) }, worker));
  }

  /** Uploads one file until it is judged, removed or fails; a pause waits for the resume. */
  async #uploadFile(file) {
    const { uppy } = this;
    const { client, kind, scope, method, multipartThreshold, concurrency, timeoutMs } = this.opts;
    let controller = null;
    let gone = false;
    let wake = null;
    const paused = () => Boolean(uppy.getFile(file.id)?.isPaused);
    const stop = () => controller?.abort();
    const leave = () => { gone = true; stop(); wake?.(); };
    const onRemoved = (f) => { if (f.id === file.id) leave(); };
    const onPause = (f, isPaused) => { if (f.id !== file.id) return; if (isPaused) stop(); else wake?.(); };
    const onPauseAll = () => stop();
    const onResumeAll = () => wake?.();
    const events = [["file-removed", onRemoved], ["cancel-all", leave], ["upload-pause", onPause], ["pause-all", onPauseAll], ["resume-all", onResumeAll]];
    for (const [e, fn] of events) uppy.on(e, fn);
    let mediaId = file.meta.media_id;
    try {
      for (;;) {
        if (gone) break;
        if (paused()) {
          await new Promise((resolve) => { wake = resolve; });
          wake = null;
          continue;
        }
        controller = new AbortController();
        const data = uppy.getFile(file.id)?.data;
        if (!data) break;
        const source = {
          name: file.name || "upload", size: file.size ?? data.size, type: file.type || "",
          // Uppy's file id (name, type, size, date) names the file across tabs, also when Golden
          // Retriever restores its bytes as a bare Blob without a date.
          key: file.id,
          read: (start, end) => data.slice(start, end),
        };
        const started = Date.now();
        const [result] = await client.uploadFiles([source], {
          kind, scope, method, multipartThreshold, concurrency, timeoutMs, signal: controller.signal,
          onSlot: (_, slot) => {
            mediaId = slot.media_id;
            if (uppy.getFile(file.id)) uppy.setFileMeta(file.id, { media_id: slot.media_id });
          },
          onPart: (_, n) => uppy.emit("lambda-media:part-uploaded", uppy.getFile(file.id) || file, n),
          onProgress: (_, bytesUploaded, bytesTotal) => {
            const now = uppy.getFile(file.id);
            if (now) uppy.emit("upload-progress", now, { uploadStarted: now.progress?.uploadStarted ?? started, bytesUploaded, bytesTotal });
          },
        }).catch((error) => [{ error }]);
        if (result.error?.code === "aborted") {
          if (gone || !paused()) break;
          continue;
        }
        const current = uppy.getFile(file.id) || file;
        if (result.error) {
          uppy.emit("upload-error", current, result.error);
          break;
        }
        const { media } = result;
        uppy.setFileState(file.id, { lambdaMedia: media });
        uppy.emit("lambda-media:verdict", uppy.getFile(file.id), media);
        if (media.status === "rejected") {
          const error = Object.assign(new Error(media.rejection?.message || "rejected"), { code: media.rejection?.code || "rejected", media });
          uppy.emit("upload-error", uppy.getFile(file.id), error);
        } else {
          uppy.emit("upload-success", uppy.getFile(file.id), { status: 200, body: media, uploadURL: media.url || undefined });
        }
        break;
      }
      // A file the user took away gives its upload back (its parts, or its slot).
      if (gone && mediaId) await client.abortUpload(mediaId).catch(() => {});
    } finally {
      for (const [e, fn] of events) uppy.off(e, fn);
    }
  }
}
