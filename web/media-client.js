// The demo page imports the client package from here (kept for existing imports).
export * from "./packages/media-client/index.js";
