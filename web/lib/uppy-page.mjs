// Bundled by uppy.test.mjs (esbuild) into web/.build/: @uppy/core, @uppy/aws-s3 and
// @uppy/golden-retriever from npm, configured only with the client package's plugin
// (`LambdaMedia`) or its options for Uppy's S3 plugin, used the way docs/CLIENT.md says.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";
import GoldenRetriever from "@uppy/golden-retriever";
import { createMediaClient } from "../packages/media-client/index.js";
import { LambdaMedia, lambdaMediaS3Options } from "../packages/media-client/uppy.js";

const until = async (what, ok, ms = 30_000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await ok();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function makeUppy({ apiUrl, token, kind, multipartThreshold, resumable, uploader = "aws-s3", concurrency }) {
  const client = createMediaClient({ baseUrl: apiUrl, getToken: () => token });
  // One id across tabs: Golden Retriever keys what it keeps by it.
  const uppy = new Uppy({ id: "lambda-media-test", autoProceed: false });
  let restored = null;
  if (resumable) {
    restored = new Promise((resolve) => uppy.once("restored", resolve));
    // Files up to 64 MiB are kept in IndexedDB (Golden Retriever's default is 10 MiB).
    uppy.use(GoldenRetriever, { indexedDB: { maxFileSize: 64 * 1024 * 1024, maxTotalSize: 256 * 1024 * 1024 } });
  }
  if (uploader === "plugin") uppy.use(LambdaMedia, { client, kind, multipartThreshold, concurrency });
  else uppy.use(AwsS3, await lambdaMediaS3Options({ client, uppy, kind, multipartThreshold }));
  const parts = [];
  const verdicts = [];
  uppy.on("s3-multipart:part-uploaded", (file, part) => parts.push([file.name, part.PartNumber]));
  uppy.on("lambda-media:part-uploaded", (file, n) => parts.push([file.name, n]));
  uppy.on("lambda-media:verdict", (file, media) => verdicts.push(media));
  return { uppy, client, parts, verdicts, restored };
}

window.runUppy = async (args) => {
  const { uppy, client, parts, verdicts } = await makeUppy(args);
  for (const f of document.querySelector("#files").files) uppy.addFile({ name: f.name, type: f.type, data: f });
  const result = await uppy.upload();
  await until("every verdict", () => verdicts.length === result.successful.length);
  const ids = result.successful.map((f) => uppy.getFile(f.id).meta.media_id);
  const state = result.successful.map((f) => uppy.getFile(f.id).lambdaMedia?.id);
  const pending = (await client.listMedia({ status: "pending" })).items.map((m) => m.id);
  return { failed: result.failed.map((f) => [f.name, String(f.error)]), parts, ids, state, pending, media: verdicts.sort((a, b) => a.filename.localeCompare(b.filename)) };
};

// Tab one: start a multipart upload, pause after two parts, and (with Golden Retriever) wait
// until it has the file and its upload id in IndexedDB; then the test closes the tab.
window.startResumable = async (args) => {
  const resumable = args.resumable ?? true;
  const { uppy, parts } = await makeUppy({ ...args, resumable });
  const [f] = document.querySelector("#files").files;
  const id = uppy.addFile({ name: f.name, type: f.type, data: f });
  const pauseAtTwo = () => { if (parts.length === 2) uppy.pauseResume(id); };
  uppy.on("s3-multipart:part-uploaded", pauseAtTwo);
  uppy.on("lambda-media:part-uploaded", pauseAtTwo);
  uppy.upload().catch(() => {});
  await until("two parts", () => parts.length >= 2);
  const uploadId = args.uploader === "plugin" ? null : await until("the upload id", () => uppy.getFile(id).s3Multipart?.uploadId);
  if (resumable) await until("Golden Retriever's copy", () => new Promise((resolve) => {
    const open = indexedDB.open("uppy-blobs");
    open.onerror = () => resolve(false);
    open.onsuccess = () => {
      const db = open.result;
      if (![...db.objectStoreNames].includes("files") || ![...db.objectStoreNames].includes("metadata")) return resolve(false);
      const tx = db.transaction(["files", "metadata"]);
      const blobs = tx.objectStore("files").count();
      const meta = tx.objectStore("metadata").getAll();
      tx.oncomplete = () => resolve(blobs.result > 0 && JSON.stringify(meta.result).includes(uploadId ?? uppy.getFile(id).meta.media_id));
      tx.onerror = () => resolve(false);
    };
  }));
  const mediaId = uppy.getFile(id).meta.media_id;
  // Or the user takes the paused file away: its upload is given back.
  if (args.remove) uppy.removeFile(id);
  return { parts: parts.map(([, n]) => n), mediaId };
};

// Tab two: Golden Retriever restores the file; confirming the restore resumes the upload.
window.resumeResumable = async (args) => {
  const { uppy, parts, verdicts, restored } = await makeUppy({ ...args, resumable: true });
  await restored;
  uppy.emit("restore-confirmed");
  const [media] = await until("the verdict", () => verdicts.length && verdicts, 60_000);
  return { parts: parts.map(([, n]) => n), media };
};
