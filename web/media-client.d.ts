export * from "./packages/media-client/index.js";
