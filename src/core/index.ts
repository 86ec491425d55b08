export * from "./aggregates.js";
export * from "./capsule.js";
export * from "./evidence.js";
export * from "./history.js";
export * from "./journey.js";
export * from "./proposal.js";
export * from "./slo.js";
export * from "./telemetry.js";
