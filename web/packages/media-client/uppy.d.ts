import type { MediaClient } from "./index.js";

/** Options for `uppy.use(AwsS3, await lambdaMediaS3Options(...))` (@uppy/aws-s3 6.x). */
export function lambdaMediaS3Options(options: {
  client: MediaClient;
  /** The Uppy instance the plugin is added to. */
  uppy: { getFile(id: string): { id: string; name?: string; type?: string; size: number | null } | undefined; setFileMeta(id: string, meta: Record<string, unknown>): void };
  kind: string;
  scope?: string;
  /** Single-request uploads: presigned PUT (default) or POST form. */
  method?: "put" | "post";
  /** Files above this go in parts (default 16 MiB). */
  multipartThreshold?: number;
}): Promise<{
  shouldUseMultipart: (file: { size: number | null }) => boolean;
  getChunkSize: (file: { size: number }) => number;
  generateObjectKey: (file: { id: string }) => string;
  signRequest: (request: { method: string; key: string; uploadId?: string; partNumber?: number; contentType?: string }) => Promise<{ url: string; headers?: Record<string, string>; fields?: Record<string, string>; key?: string }>;
}>;
