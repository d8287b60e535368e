// Types for media-client.js. The shapes follow openapi.yaml.

export type MediaStatus = "pending" | "ready" | "rejected";
export type UploadMethod = "post" | "put" | "multipart";

export interface Variant { url: string; width: number; height: number; size_bytes: number }
export interface Rejection {
  code: "too_large" | "type_mismatch" | "not_an_image" | "corrupt_image" | "dimensions_too_large" | "processing_limit" | "size_mismatch" | "kind_not_configured"
    | "not_a_video" | "truncated_video" | "corrupt_video" | "no_video_track";
  message: string;
}
export interface Media {
  id: string; kind: string; scope: string | null; owner: string; status: MediaStatus;
  filename: string; content_type: string; size_bytes: number | null;
  width: number | null; height: number | null;
  /** Images: SHA-256 of the stored bytes; videos: null (verified without reading them whole). */
  sha256: string | null;
  /** Videos only. */
  duration_ms?: number; codecs?: string[];
  title: string | null; description: string | null; tags: string[]; attached_to: string | null;
  created_at: string; updated_at: string; rejection: Rejection | null;
  url: string | null; url_expires_at: string | null; variants: Record<string, Variant>;
  /** What to paint before a thumbnail loads; null until ready. */
  placeholder: { thumbhash: string; blurhash: string; dominant_color: string; has_alpha: boolean } | null;
  /** Images: where `fit=cover` transforms centre (0..1 each way). */
  focal_point?: { x: number; y: number };
}
export interface UploadSlot {
  media_id: string; method: "POST" | "PUT" | "MULTIPART"; url: string;
  fields: Record<string, string>; headers: Record<string, string>;
  key: string; expires_at: string; expires_in: number; max_bytes: number; public_url: string | null;
  /** MULTIPART only: every part but the last is exactly part_size bytes. */
  upload_id?: string; part_size?: number; part_count?: number;
}
export interface KindSpec { content_types: string[]; max_bytes: number; thumbnail_sizes: number[]; visibility: "public" | "private"; max_parts: number }
export interface SignedPart { part_number: number; url: string; headers: Record<string, string> }
export interface StoredPart { part_number: number; size: number; etag: string }
/** A multipart upload this browser started and can resume (kept in localStorage by media id). */
export interface PendingUpload {
  mediaId: string; fingerprint: string; filename: string; size: number; kind: string;
  part_size: number; part_count: number; expires_at: string; started_at: string;
}
export interface UploadRequest {
  kind: string; scope?: string; method?: UploadMethod;
  files: { filename: string; content_type: string; size_bytes: number }[];
}
/** What the client uploads: `read` gives bytes `start..end` (a Blob or bytes, or a promise of one). */
export interface UploadSource {
  name: string; size: number; type: string; lastModified?: number;
  /** Names the same file across runs where no `lastModified` is kept (used for resuming instead of the date). */
  key?: string;
  read(start: number, end: number): Blob | Uint8Array | Promise<Blob | Uint8Array>;
}
/** What `uploadFiles` takes: a Blob/File, bytes (alone or named), or a source. */
export type Uploadable = Blob | Uint8Array | { data: Uint8Array; name?: string; type?: string } | UploadSource;
/** Where multipart state is kept for resuming (each method may be async). */
export interface StateStore {
  get(key: string): string | null | Promise<string | null>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
  keys(): string[] | Promise<string[]>;
}
export interface UploadResult { file: Uploadable; mediaId?: string; media?: Media | null; error?: Error & { code: string } }

export class MediaApiError extends Error { status: number; code: string }
export class S3UploadError extends Error { status: number; code: string }
export class NetworkError extends Error { code: "network_error" }
export class AbortError extends Error { code: "aborted" }
/** The file was not sent (checked before any slot): wrong type, too large, or unreadable. */
export class FileRejectedError extends Error { code: "unsupported_content_type" | "too_large" | "invalid_request" | "unsupported_source" | "unreadable_file" }

/** Files above this (16 MiB) are sent as multipart uploads. */
export const DEFAULT_MULTIPART_THRESHOLD: number;
/** Multipart uploads this browser started (localStorage); `client.pendingUploads()` reads the client's own store. */
export function pendingUploads(): PendingUpload[];
export function toSource(item: Uploadable): UploadSource | null;
/** What identifies "the same file" for resuming: kind, name, size, modification time, type. */
export function fingerprint(file: { name: string; size: number; lastModified?: number; key?: string; type: string }, kind: string): string;
export function localStorageStateStore(): StateStore | null;
export function memoryStateStore(): StateStore;
/** "15.6 MiB", "512 KiB", "300 bytes". */
export function formatBytes(bytes: number): string;
/** The part plan the API chooses for a file (8 MiB parts, grown to fit the kind's max_parts). */
export function partPlan(size: number, maxParts: number): { part_size: number; part_count: number };
export function checkFile(kind: KindSpec | null, file: { name: string; size: number; type: string }): FileRejectedError | null;
/** The content type to declare for a file: its own, else the one its extension names (heic, avif, mov, ...). */
export function typeOf(file: { type?: string; name?: string }): string;

export interface UploadOptions {
  kind: string; scope?: string; method?: "post" | "put";
  /** Files larger than this go in parts (default 16 MiB). */
  multipartThreshold?: number;
  /** Parts in flight per file (default 4). */
  concurrency?: number;
  onProgress?: (index: number, loaded: number, total: number) => void;
  onSlot?: (index: number, slot: UploadSlot | { media_id: string; method: "MULTIPART"; resumed: true }) => void;
  onPart?: (index: number, partNumber: number) => void;
  signal?: AbortSignal; wait?: boolean; timeoutMs?: number;
}

/** An image on demand (docs/API.md, "GET /v1/media/{id}/image"): sizes, fits, formats and qualities from fixed lists. */
export interface TransformParams {
  w?: 64 | 128 | 256 | 320 | 360 | 480 | 512 | 640 | 720 | 768 | 1024 | 1280 | 1600 | 1920 | 2560;
  h?: TransformParams["w"];
  fit?: "inside" | "contain" | "cover";
  format?: "auto" | "avif" | "webp" | "jpeg" | "png";
  q?: 50 | 65 | 80 | 90;
  preset?: "avatar" | "avatar-2x" | "card" | "card-2x" | "feed" | "hero";
  expires_in?: number;
}

export interface MediaClient {
  createUploads(request: UploadRequest, signal?: AbortSignal): Promise<{ uploads: UploadSlot[] }>;
  getKinds(signal?: AbortSignal): Promise<{ kinds: Record<string, KindSpec> }>;
  uploadToSlot(slot: UploadSlot, file: Uploadable, options?: { onProgress?: (loaded: number, total: number) => void; signal?: AbortSignal }): Promise<string | null>;
  uploadMultipart(mediaId: string, plan: { part_size: number; part_count: number }, file: Uploadable, options?: {
    concurrency?: number; retries?: number; signal?: AbortSignal;
    onProgress?: (loaded: number, total: number) => void; onPart?: (partNumber: number) => void;
  }): Promise<Media>;
  abortUpload(mediaId: string, signal?: AbortSignal): Promise<null>;
  listParts(mediaId: string, signal?: AbortSignal): Promise<{ parts: StoredPart[] }>;
  signParts(mediaId: string, partNumbers: number[], signal?: AbortSignal): Promise<{ parts: SignedPart[] }>;
  completeUpload(mediaId: string, signal?: AbortSignal): Promise<Media>;
  uploadFiles(files: Iterable<Uploadable> | ArrayLike<Uploadable>, options: UploadOptions): Promise<UploadResult[]>;
  pendingUploads(): Promise<PendingUpload[]>;
  waitForMedia(id: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<Media>;
  getMedia(id: string, signal?: AbortSignal): Promise<Media>;
  listMedia(params?: { scope?: string; kind?: string; status?: MediaStatus; limit?: number; cursor?: string }, signal?: AbortSignal): Promise<{ items: Media[]; next_cursor: string | null }>;
  /** The original or a thumbnail; or, with transform parameters, the (signed, for private media) URL of `GET /v1/media/{id}/image`. */
  mediaUrl(id: string, params?: { variant?: string; expires_in?: number; download?: boolean } | TransformParams, signal?: AbortSignal): Promise<{ url: string; expires_in: number | null; expires_at: string | null }>;
  updateMedia(id: string, patch: { title?: string | null; description?: string | null; tags?: string[]; focal_point?: { x: number; y: number } | null }, signal?: AbortSignal): Promise<Media>;
  attachMedia(id: string, ref: string, expectKind?: string, signal?: AbortSignal): Promise<Media>;
  detachMedia(id: string, signal?: AbortSignal): Promise<Media>;
  deleteMedia(id: string, signal?: AbortSignal): Promise<null>;
  completeMedia(id: string, signal?: AbortSignal): Promise<Media>;
}

export function createMediaClient(options: {
  baseUrl: string;
  getToken: () => string | Promise<string>;
  /** For the API and, where XMLHttpRequest is absent or `transport` is "fetch", for S3 too. */
  fetch?: typeof fetch;
  /** Default: localStorage in browsers, memory elsewhere; `null` keeps no state. */
  stateStore?: StateStore | null;
  /** Default: "xhr" where XMLHttpRequest exists (upload progress), else "fetch". */
  transport?: "xhr" | "fetch";
  toSource?: (item: any) => UploadSource | null | Promise<UploadSource | null>;
}): MediaClient;

/** Decodes `placeholder.thumbhash` into a small RGBA image (about 32 px on the long side). */
export function thumbHashToRGBA(thumbhash: string): { width: number; height: number; rgba: Uint8ClampedArray } | null;
/** The placeholder as a PNG data URL for an `<img>` or a CSS background (browsers only). */
export function thumbHashToDataURL(thumbhash: string, doc?: Document): string | null;
