// lambda-media browser client: a dependency-free ES module.
// Creates upload slots, uploads files straight to S3 (presigned POST or PUT) with progress and
// cancellation, then waits until each media is ready or rejected.

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
  }
}

/** The caller aborted through its AbortSignal. */
export class AbortError extends Error {
  constructor() {
    super("aborted");
    this.name = "AbortError";
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(t); reject(new AbortError()); }, { once: true });
  });

function s3Error(status, text) {
  const code = /<Code>([^<]*)<\/Code>/.exec(text || "")?.[1] || `HTTP${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text || "")?.[1] || code;
  return new S3UploadError(status, code, message);
}

/**
 * @param {{baseUrl: string, getToken: () => string | Promise<string>, fetch?: typeof fetch}} options
 */
export function createMediaClient({ baseUrl, getToken, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
  const base = baseUrl.replace(/\/+$/, "");

  async function api(method, path, body, signal) {
    const headers = { authorization: `Bearer ${await getToken()}` };
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

  /** Sends one file to its slot with XMLHttpRequest, for upload progress events. */
  function uploadToSlot(slot, file, { onProgress, signal } = {}) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError());
      const xhr = new XMLHttpRequest();
      xhr.open(slot.method, slot.url);
      let body;
      if (slot.method === "POST") {
        body = new FormData();
        // Every policy field first, in order; the file must be the last field.
        for (const [k, v] of Object.entries(slot.fields)) body.append(k, v);
        body.append("file", file);
      } else {
        for (const [k, v] of Object.entries(slot.headers)) {
          // Browsers set Content-Length themselves (from the body), and refuse to be told.
          if (k.toLowerCase() !== "content-length") xhr.setRequestHeader(k, v);
        }
        body = file;
      }
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress?.(e.loaded, e.total); };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress?.(file.size, file.size);
          resolve();
        } else reject(s3Error(xhr.status, xhr.responseText));
      };
      xhr.onerror = () => reject(new NetworkError("upload to storage failed (network or CORS)"));
      xhr.onabort = () => reject(new AbortError());
      signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(body);
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

  /**
   * Uploads files: slots for all of them in one request, then every file in parallel.
   * Resolves to one result per file, in order: {file, media} or {file, error}.
   */
  async function uploadFiles(files, { kind, scope, method = "post", onProgress, onSlot, signal, wait = true, timeoutMs } = {}) {
    const list = Array.from(files);
    const request = {
      kind,
      method,
      files: list.map((f) => ({ filename: f.name || "upload", content_type: f.type || "application/octet-stream", size_bytes: f.size })),
    };
    if (scope) request.scope = scope;
    const { uploads } = await api("POST", "/v1/uploads", request, signal);
    return Promise.all(
      list.map(async (file, i) => {
        const slot = uploads[i];
        onSlot?.(i, slot);
        try {
          await uploadToSlot(slot, file, { signal, onProgress: (loaded, total) => onProgress?.(i, loaded, total) });
          const media = wait ? await waitForMedia(slot.media_id, { signal, timeoutMs }) : null;
          return { file, mediaId: slot.media_id, media };
        } catch (error) {
          return { file, mediaId: slot.media_id, error };
        }
      }),
    );
  }

  return {
    createUploads: (request, signal) => api("POST", "/v1/uploads", request, signal),
    uploadToSlot,
    uploadFiles,
    waitForMedia,
    getMedia: (id, signal) => api("GET", `/v1/media/${encodeURIComponent(id)}`, undefined, signal),
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
