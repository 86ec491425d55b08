export type * from "./ast.js";
export { walk } from "./ast.js";
export { bucketQuantile, Evaluator, queryRange } from "./evaluate.js";
export { PromqlError, parsePromql } from "./parse.js";
export { CachingSource, MemorySource, OverlaySource } from "./sources.js";
export * from "./types.js";
