import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyze } from "../../src/app/analyze.js";
import { approve } from "../../src/app/approve.js";
import { openApp } from "../../src/app/context.js";
import type { Outcome } from "../../src/app/outcome.js";
import { simulateSli } from "../../src/app/simulate.js";
import { loadConfig } from "../../src/config.js";
import { POLICY_PATH } from "../../src/governance/policy.js";
import { SMALL_DEMO_END, SMALL_DEMO_STEP_SECONDS, storeSmallDemo } from "../helpers/demo-store.js";

/**
 * Records what the use cases return for the render snapshots: the small demo shop the analysis tests use
 * goes through the stream stage into an embedded app, then `analyze checkout`, `simulate` of the top
 * proposal at 99.9%, and `approve` of the top availability and latency proposals (a commit in a local
 * repository, with its blast radius). Recorded because the walk takes over a minute; run again with
 * `npx tsx test/app/record-render-fixtures.ts` when the shapes change, and review the snapshot diff.
 */

const OUT = join(import.meta.dirname, "../fixtures/render");
const STEP_SECONDS = SMALL_DEMO_STEP_SECONDS;
const END = SMALL_DEMO_END;

function value<T>(o: Outcome<T>): T {
  if (!o.ok) throw new Error(`${o.refusal.code}: ${o.refusal.reason} ${o.refusal.details?.join("; ") ?? ""}`);
  return o.value;
}

const POLICY = `allowedPaths: ["slos/**", "rules/**", "dashboards/**", "runbooks/**"]\n`;

const dir = mkdtempSync(join(tmpdir(), "slo-scout-render-fixtures-"));
/** Writes JSON with the temporary folder replaced, so a re-recording only differs where the data does. */
const write = (name: string, data: unknown) =>
  writeFileSync(join(OUT, name), `${JSON.stringify(data, null, 2).replaceAll(dir, "/home/team")}\n`);

const app = await openApp(
  loadConfig(
    {
      DATABASE_URL: "pglite://memory",
      BLOB_URL: `file://${dir}/blobs`,
      DATA_DIR: dir,
      SLO_SCOUT_REPO: join(dir, "repo"),
      LOG_LEVEL: "warn",
    },
    join(dir, "no-config.yml"),
  ),
  { now: () => END },
);
try {
  await storeSmallDemo(app.sql, `${dir}/blobs`);

  const analysis = value(
    await analyze(app, { service: "checkout", stepMs: STEP_SECONDS * 1000, llm: false }),
  );
  write("analysis.json", analysis);

  const top = analysis.proposals[0]!;
  // What `simulate <id> --target 99.9` returns, at the coarse step this small demo is sampled at.
  const { simulation } = value(
    await simulateSli(app, {
      service: top.service,
      sliId: top.sli.id,
      window: top.window,
      target: 99.9,
      stepMs: STEP_SECONDS * 1000,
    }),
  );
  write("simulation.json", { proposal: top, simulation });

  const ids = (["availability", "latency"] as const).map(
    (kind) => analysis.proposals.find((p) => p.sli.kind === kind)!.id,
  );
  const by = { login: "demo", source: "cli" } as const;
  // The team's repository first keeps its SLO files elsewhere than `approve` writes them: a real refusal.
  const repo = join(dir, "repo");
  mkdirSync(join(repo, ".slo-scout"), { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "team",
        GIT_AUTHOR_EMAIL: "team@example.com",
        GIT_COMMITTER_NAME: "team",
        GIT_COMMITTER_EMAIL: "team@example.com",
      },
    });
  const commitPolicy = (text: string) => {
    writeFileSync(join(repo, POLICY_PATH), text);
    git("add", POLICY_PATH);
    git("commit", "--quiet", "--no-gpg-sign", "-m", "SLO-Scout policy");
  };
  git("init", "--quiet", "-b", "main");
  commitPolicy("allowedPaths: ['monitoring/**']\n");
  const refused = await approve(app, ids, { by });
  if (refused.ok) throw new Error("expected the policy to refuse");
  write("refusal.json", { ...refused.refusal, correlationId: "req-7f3a9c" });

  // Then it allows them.
  commitPolicy(POLICY);
  const [change] = value(await approve(app, ids, { by }));
  write("change.json", {
    change: change!.change,
    blastRadius: change!.blastRadius,
    proposals: change!.proposals,
    notes: change!.notes,
  });
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
