// Bundled by uppy.test.mjs (esbuild) into web/.build/: @uppy/core and @uppy/aws-s3 from npm,
// configured only with the client package's adapter.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";
import { createMediaClient } from "../packages/media-client/index.js";
import { lambdaMediaS3Options } from "../packages/media-client/uppy.js";

window.runUppy = async ({ apiUrl, token, kind, multipartThreshold }) => {
  const client = createMediaClient({ baseUrl: apiUrl, getToken: () => token });
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(AwsS3, await lambdaMediaS3Options({ client, uppy, kind, multipartThreshold }));
  const parts = [];
  uppy.on("s3-multipart:part-uploaded", (file, part) => parts.push([file.name, part.PartNumber]));
  for (const f of document.querySelector("#files").files) uppy.addFile({ name: f.name, type: f.type, data: f });
  const result = await uppy.upload();
  const out = { failed: result.failed.map((f) => [f.name, String(f.error)]), parts, media: [] };
  for (const f of result.successful) {
    const id = uppy.getFile(f.id).meta.media_id;
    // Single PUTs are verified by the S3 event; ask for the verdict now (multipart ones already have it).
    out.media.push(await client.completeMedia(id));
  }
  return out;
};
