import type { MediaClient } from "./index.js";

/** Options for `uppy.use(AwsS3, await lambdaMediaS3Options(...))` (@uppy/aws-s3 6.x). */
export function lambdaMediaS3Options(options: {
  client: MediaClient;
  /** The Uppy instance the plugin is added to. */
  uppy: {
    getFile(id: string): any; getFiles(): any[]; setFileMeta(id: string, meta: Record<string, unknown>): void;
    setFileState(id: string, state: Record<string, unknown>): void; on(event: string, fn: (...args: any[]) => void): unknown; emit(event: string, ...args: any[]): void;
  };
  kind: string;
  scope?: string;
  /** Single-request uploads: presigned PUT (default) or POST form. */
  method?: "put" | "post";
  /** Files above this go in parts (default 16 MiB). */
  multipartThreshold?: number;
  /** Where a file's unfinished multipart upload is remembered, to give it back when Uppy starts the file again (default localStorage). */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
}): Promise<{
  shouldUseMultipart: (file: { size: number | null }) => boolean;
  getChunkSize: (file: { size: number }) => number;
  generateObjectKey: (file: { id: string }) => string;
  signRequest: (request: { method: string; key: string; uploadId?: string; partNumber?: number; contentType?: string }) => Promise<{ url: string; headers?: Record<string, string>; fields?: Record<string, string>; key?: string }>;
}>;

/**
 * Emitted on the Uppy instance after each `upload-success`, once the API has judged the file:
 * `uppy.on("lambda-media:verdict", (file, media) => …)`; the media is also
 * `uppy.getFile(file.id).lambdaMedia`. `lambda-media:verdict-error` (file, error) if asking failed.
 */
export type VerdictEvent = "lambda-media:verdict";

/**
 * Uppy uploader plugin over the client: `uppy.use(LambdaMedia, { client, kind })`. Parts go
 * `concurrency` at a time; an upload this browser began is resumed from the API's part list;
 * `upload-success` carries the judged media as `response.body` (also the file's `lambdaMedia`
 * state and `lambda-media:verdict`); a rejected file is an `upload-error` with the rejection's
 * `code`; `lambda-media:part-uploaded` (file, partNumber) after each part.
 */
export class LambdaMedia {
  static VERSION: string;
  constructor(uppy: any, options: {
    client: MediaClient;
    kind: string;
    scope?: string;
    /** Single-request uploads: presigned POST form (default) or PUT. */
    method?: "post" | "put";
    /** Files above this go in parts (the client's default, 16 MiB). */
    multipartThreshold?: number;
    /** Parts in flight per file (default 4). */
    concurrency?: number;
    /** Files in flight (default 3). */
    limit?: number;
    /** How long to wait for a single upload's verdict (ms). */
    timeoutMs?: number;
    id?: string;
  });
  id: string;
  type: "uploader";
  install(): void;
  uninstall(): void;
  upload(fileIDs: string[]): Promise<void>;
}
