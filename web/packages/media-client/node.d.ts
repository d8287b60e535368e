export * from "./index.js";
import type { MediaClient, StateStore, UploadSource, Uploadable } from "./index.js";
import type { Readable } from "node:stream";

/** A file on disk: size and mtime from stat, bytes read range by range (never whole). */
export function fromPath(path: string, options?: { type?: string; name?: string }): Promise<UploadSource>;
/** A stream read forward only, part by part; its size must be given (the slot declares it). */
export function fromStream(stream: Readable | AsyncIterable<Uint8Array>, options: { size: number; name?: string; type?: string; lastModified?: number }): UploadSource;
/** Upload state in a JSON file, so a later process resumes a multipart upload. */
export function fileStateStore(path: string): StateStore;
/** As the browser entry's, with paths, `{path}` and `{stream, size, name}` accepted by uploadFiles. */
export function createMediaClient(options: Parameters<typeof import("./index.js").createMediaClient>[0]): MediaClient & {
  uploadFiles(files: Iterable<Uploadable | string | { path: string; name?: string; type?: string } | { stream: Readable; size: number; name?: string; type?: string }>, options: import("./index.js").UploadOptions): ReturnType<MediaClient["uploadFiles"]>;
};
