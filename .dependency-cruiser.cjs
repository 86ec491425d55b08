/**
 * The layer rules of ARCHITECTURE.md, checked in CI by `npm run deps` (dependency-cruiser). Type-only
 * imports count too: a type taken from a higher layer ties the two layers together just the same.
 */

/** The layers below the application: pure logic, ports and adapters, reused by every face. */
const LOWER = "^src/(pipeline|store|promql|history|observability|analysis|generators|governance)/";
/** The application layer and the faces over it. */
const UPPER = "^src/(app/|bot/|commands/|server/|cli\\.ts$)";

module.exports = {
  forbidden: [
    {
      name: "core-imports-nothing",
      comment:
        "core holds the domain types, their schemas and their grammars; it depends on no other module of ours.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: "^src/core/" },
    },
    {
      name: "lower-layers-not-upward",
      comment:
        "pipeline, store, promql, history, observability, analysis, generators and governance take plain data and ports; they never reach up into the application, the commands, the server or the CLI.",
      severity: "error",
      from: { path: LOWER },
      to: { path: UPPER },
    },
    {
      name: "promql-only-parser-and-evaluator",
      comment:
        "promql is the parser and the evaluator over any sample source; sources that read the store or a Prometheus live in src/history, so promql imports nothing but itself and core (in particular not store).",
      severity: "error",
      from: { path: "^src/promql/" },
      to: { path: "^src/", pathNot: "^src/(promql|core)/" },
    },
    {
      name: "commands-not-cli",
      comment: "cli.ts dispatches to the commands; a command reaching back into it would make a cycle.",
      severity: "error",
      from: { path: "^src/commands/" },
      to: { path: "^src/cli\\.ts$" },
    },
    {
      name: "no-circular",
      comment: "A cycle makes two modules one: neither can be understood, tested or moved alone.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
