#!/usr/bin/env node
// The package ships TypeScript sources; tsx's loader runs them without a build step so that
// `npm ci && npm start` works on a fresh machine.
import { register } from "tsx/esm/api";

// Every command loads the configuration (src/cli.ts imports it), hence zod and yaml. They are plain
// JavaScript, so they are loaded before the loader: on Node 20 its hooks run on a thread of their own,
// a round trip per module, which cost 0.1 CPU s of each start for zod's 95 modules.
await Promise.all([import("zod"), import("yaml")]);
register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
