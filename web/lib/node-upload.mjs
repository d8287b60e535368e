// A Node process that uploads one file by path through @lambda-media/client/node, keeping its
// upload state in a file: `node node-upload.mjs <file> <state.json> [--die-after-parts N]`.
// The node client test runs it to crash mid-upload (exit 3 after N parts) and to resume; it
// prints one JSON line: the result and the part numbers it sent to S3.
import { createMediaClient, fileStateStore } from "../packages/media-client/node.js";
import { stackEnv, devToken } from "./test-env.mjs";

const [file, statePath, flag, n] = process.argv.slice(2);
const dieAfter = flag === "--die-after-parts" ? Number(n) : 0;
const env = stackEnv();
const token = await devToken(env, "node-client-resume");
const sent = [];
const counting = (url, init) => {
  const part = /[?&]partNumber=(\d+)/.exec(String(url));
  if (part && init?.method === "PUT") sent.push(Number(part[1]));
  return fetch(url, init);
};
const client = createMediaClient({ baseUrl: env.API_URL, getToken: () => token, fetch: counting, stateStore: fileStateStore(statePath) });
let done = 0;
const [result] = await client.uploadFiles([file], {
  kind: "video",
  multipartThreshold: 16 * 1024 * 1024,
  // One part at a time before a crash, so exactly N parts are in S3 when the process dies.
  concurrency: dieAfter ? 1 : 4,
  onPart: () => {
    if (dieAfter && ++done === dieAfter) process.exit(3);
  },
});
console.log(JSON.stringify({ mediaId: result.mediaId, status: result.media?.status, code: result.error?.code, sent }));
