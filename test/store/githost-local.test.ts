import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { localGitHost } from "../../src/store/githost/local-git.js";
import {
  type ChangeFile,
  type GitHost,
  GitHostError,
  type OpenChangeRequest,
} from "../../src/store/ports.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "slo-scout-githost-"));
  dirs.push(d);
  return d;
}

/** git in `dir`, with the test runner's own GIT_* variables left out. */
function sh(dir: string, ...args: string[]): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_")));
  return execFileSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...env, GIT_AUTHOR_NAME: "Dev", GIT_AUTHOR_EMAIL: "dev@example.com", GIT_COMMITTER_NAME: "Dev" },
  }).trim();
}

const ALLOWED = ["slos/**", "rules/**", "dashboards/**", "runbooks/**"];

const FILES: ChangeFile[] = [
  { path: "slos/checkout.yml", content: "version: prometheus/v1\nservice: checkout\n" },
  { path: "rules/checkout.rules.yml", content: "groups: []\n" },
  { path: "rules/checkout.alerts.yml", content: "groups: []\n# alerts\n" },
  { path: "dashboards/checkout.json", content: '{"title":"checkout"}\n' },
  { path: "runbooks/checkout.md", content: "# Checkout runbook\n" },
];

function request(overrides: Partial<OpenChangeRequest> = {}): OpenChangeRequest {
  return {
    service: "checkout",
    title: "SLOs for checkout",
    body: "## Proposals\n\n- checkout availability 99.9%\n",
    files: FILES,
    allowedPaths: ALLOWED,
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>, code: string): Promise<GitHostError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${code} GitHostError`).toBeInstanceOf(GitHostError);
  expect((err as GitHostError).code).toBe(code);
  return err as GitHostError;
}

function fresh(): { dir: string; host: GitHost } {
  const dir = join(tempDir(), "repo");
  return { dir, host: localGitHost({ dir }) };
}

describe("the local repository", () => {
  it("is created on first use, with an empty first commit on main and a clean working tree", async () => {
    const dir = join(tempDir(), "nested", "slo-scout-repo");
    const host = localGitHost({ dir });
    expect(await host.readFile("slos/checkout.yml", "main")).toBeUndefined();
    expect(sh(dir, "symbolic-ref", "HEAD")).toBe("refs/heads/main");
    expect(sh(dir, "log", "--format=%s|%an <%ae>", "main")).toBe(
      "Initial commit|SLO-Scout <slo-scout@localhost>",
    );
    expect(sh(dir, "ls-tree", "-r", "main")).toBe("");
    expect(sh(dir, "status", "--porcelain")).toBe("");
  });

  it("is a new repository even inside another one, which it leaves alone", async () => {
    const outer = tempDir();
    sh(outer, "init", "--quiet", "--initial-branch=trunk");
    sh(outer, "commit", "--quiet", "--allow-empty", "-m", "outer");
    const before = sh(outer, "for-each-ref");
    const host = localGitHost({ dir: join(outer, "slo-scout-repo") });
    await host.openChange(request());
    expect(existsSync(join(outer, "slo-scout-repo", ".git"))).toBe(true);
    expect(sh(outer, "for-each-ref")).toBe(before);
    expect(sh(join(outer, "slo-scout-repo"), "branch", "--format=%(refname:short)")).toBe(
      "main\nslo-scout/checkout",
    );
  });

  it("keeps its state across instances", async () => {
    const { dir, host } = fresh();
    const opened = await host.openChange(request());
    expect(await localGitHost({ dir }).getChange(opened.id)).toEqual(opened);
  });
});

describe("openChange", () => {
  it("writes one commit holding every file on slo-scout/<service>, whose parent is main", async () => {
    const { dir, host } = fresh();
    const change = await host.openChange(request());
    const main = sh(dir, "rev-parse", "main");

    expect(change).toEqual({
      id: "1",
      branch: "slo-scout/checkout",
      url: expect.stringMatching(/^file:\/\/\/.*\/repo#slo-scout\/checkout$/),
      commit: sh(dir, "rev-parse", "slo-scout/checkout"),
      files: FILES.map((f) => f.path).sort(),
      title: "SLOs for checkout",
      body: "## Proposals\n\n- checkout availability 99.9%\n",
    });
    expect(sh(dir, "rev-list", "--count", "main..slo-scout/checkout")).toBe("1");
    expect(sh(dir, "rev-parse", "slo-scout/checkout^")).toBe(main);
    expect(sh(dir, "ls-tree", "-r", "--name-only", "slo-scout/checkout").split("\n")).toEqual(change.files);
    const stat = sh(dir, "show", "--stat", "--format=%an <%ae>|%cn <%ce>|%s", "slo-scout/checkout");
    expect(stat).toContain(
      "SLO-Scout <slo-scout@localhost>|SLO-Scout <slo-scout@localhost>|SLOs for checkout",
    );
    expect(stat).toContain("5 files changed");
    for (const f of FILES) expect(sh(dir, "show", `slo-scout/checkout:${f.path}`)).toBe(f.content.trimEnd());
  });

  it("keeps the body and record beside the change, not in the repository", async () => {
    const { dir, host } = fresh();
    const change = await host.openChange(request());
    const record = join(dir, ".git", "slo-scout", "changes", change.id);
    expect(readFileSync(join(record, "body.md"), "utf8")).toBe(change.body);
    expect(JSON.parse(readFileSync(join(record, "change.json"), "utf8"))).toMatchObject({
      id: "1",
      service: "checkout",
      branch: "slo-scout/checkout",
      baseCommit: sh(dir, "rev-parse", "main"),
      title: change.title,
    });
    expect(sh(dir, "status", "--porcelain")).toBe("");
  });

  it("opens a second change for the service on a suffixed branch, and other services on their own", async () => {
    const { dir, host } = fresh();
    const first = await host.openChange(request());
    const second = await host.openChange(request({ title: "SLOs for checkout, again" }));
    const third = await host.openChange(request({ service: "checkout" }));
    const payment = await host.openChange(
      request({ service: "payment", files: [{ path: "slos/payment.yml", content: "service: payment\n" }] }),
    );
    expect([first, second, third, payment].map((c) => [c.id, c.branch])).toEqual([
      ["1", "slo-scout/checkout"],
      ["2", "slo-scout/checkout-2"],
      ["3", "slo-scout/checkout-3"],
      ["4", "slo-scout/payment"],
    ]);
    expect(sh(dir, "rev-parse", "slo-scout/checkout-2^")).toBe(sh(dir, "rev-parse", "main"));
    expect(payment.files).toEqual(["slos/payment.yml"]);
  });

  it("never races itself for a branch name", async () => {
    const { host } = fresh();
    const changes = await Promise.all([host.openChange(request()), host.openChange(request())]);
    expect(changes.map((c) => c.branch).sort()).toEqual(["slo-scout/checkout", "slo-scout/checkout-2"]);
  });

  it("with update: true adds a commit to the open change instead of opening another", async () => {
    const { dir, host } = fresh();
    const first = await host.openChange(request());
    const spec = {
      path: "slos/checkout.yml",
      content: "version: prometheus/v1\nservice: checkout\n# two SLOs\n",
    };
    const again = await host.openChange(
      request({ title: "SLOs for checkout (2)", files: [spec], update: true }),
    );
    expect(again.id).toBe(first.id);
    expect(again.branch).toBe("slo-scout/checkout");
    expect(again.title).toBe("SLOs for checkout (2)");
    expect(sh(dir, "rev-parse", `${again.commit}^`)).toBe(first.commit);
    expect(again.files).toEqual(first.files);
    expect(await host.readFile(spec.path, again.branch)).toBe(spec.content);
    expect(sh(dir, "branch", "--list", "slo-scout/*")).not.toContain("checkout-2");
  });

  it("with update: true opens a change when none is open", async () => {
    const { host } = fresh();
    expect((await host.openChange(request({ update: true }))).branch).toBe("slo-scout/checkout");
  });

  it("starts from another base when asked", async () => {
    const { dir, host } = fresh();
    await host.readFile("x", "main");
    sh(dir, "branch", "release", "main");
    const change = await host.openChange(request({ baseRef: "release" }));
    expect(sh(dir, "rev-parse", `${change.branch}^`)).toBe(sh(dir, "rev-parse", "release"));
    await refusal(host.openChange(request({ baseRef: "no-such-branch" })), "unknown-ref");
  });

  it("refuses a change that changes nothing", async () => {
    const { host } = fresh();
    const change = await host.openChange(request());
    await refusal(host.openChange(request({ baseRef: change.branch })), "no-changes");
  });

  it("treats a deleted branch as a closed change and reuses its name", async () => {
    const { dir, host } = fresh();
    const first = await host.openChange(request());
    sh(dir, "branch", "-D", "slo-scout/checkout");
    expect(await host.getChange(first.id)).toBeUndefined();
    await refusal(host.listChangeFiles(first.id), "unknown-change");
    const next = await host.openChange(request({ update: true }));
    expect([next.id, next.branch]).toEqual(["2", "slo-scout/checkout"]);
  });

  it("uses a configured author", async () => {
    const dir = join(tempDir(), "repo");
    const host = localGitHost({ dir, author: { name: "Bot", email: "bot@example.com" } });
    const change = await host.openChange(request());
    expect(sh(dir, "show", "-s", "--format=%an <%ae> %cn <%ce>", change.commit)).toBe(
      "Bot <bot@example.com> Bot <bot@example.com>",
    );
  });

  it("refuses bad titles, bodies and service names", async () => {
    const { host } = fresh();
    await refusal(host.openChange(request({ title: "" })), "bad-request");
    await refusal(host.openChange(request({ title: "two\nlines" })), "bad-request");
    await refusal(host.openChange(request({ body: "x".repeat(65_537) })), "bad-request");
    for (const service of ["../x", "a/b", "-x", "", "a..b", "x.", "x.lock", "x y"]) {
      await refusal(host.openChange(request({ service })), "bad-request");
    }
  });
});

describe("updateChange", () => {
  it("writes the new files as one commit on top and keeps the others", async () => {
    const { dir, host } = fresh();
    const first = await host.openChange(request());
    const rules = { path: "rules/checkout.rules.yml", content: "groups:\n  - name: new\n" };
    const extra = { path: "runbooks/checkout-latency.md", content: "# Latency\n" };
    const updated = await host.updateChange(first.id, {
      files: [rules, extra],
      allowedPaths: ALLOWED,
      body: "new body",
      message: "Regenerate rules",
    });
    expect(updated).toMatchObject({
      id: first.id,
      branch: first.branch,
      title: first.title,
      body: "new body",
    });
    expect(sh(dir, "rev-parse", `${updated.commit}^`)).toBe(first.commit);
    expect(sh(dir, "log", "-1", "--format=%s", updated.commit)).toBe("Regenerate rules");
    expect(sh(dir, "show", "--stat", "--format=", updated.commit)).toContain("2 files changed");
    expect(updated.files).toEqual([...first.files, extra.path].sort());
    expect(await host.listChangeFiles(first.id)).toEqual(updated.files);
    expect(await host.readFile(rules.path, updated.branch)).toBe(rules.content);
    expect(await host.readFile(rules.path, first.commit)).toBe("groups: []\n");
    expect(await host.readFile("slos/checkout.yml", updated.branch)).toBe(FILES[0]!.content);
  });

  it("adds no commit when nothing changed, but still takes a new title", async () => {
    const { host } = fresh();
    const first = await host.openChange(request());
    const same = await host.updateChange(first.id, {
      files: [FILES[0]!],
      allowedPaths: ALLOWED,
      title: "Renamed",
    });
    expect(same.commit).toBe(first.commit);
    expect((await host.getChange(first.id))?.title).toBe("Renamed");
  });

  it("refuses unknown changes and a branch someone has checked out", async () => {
    const { dir, host } = fresh();
    await refusal(host.updateChange("7", { files: FILES, allowedPaths: ALLOWED }), "unknown-change");
    await refusal(host.updateChange("../1", { files: FILES, allowedPaths: ALLOWED }), "unknown-change");
    const change = await host.openChange(request());
    sh(dir, "checkout", "--quiet", change.branch);
    const changed = [{ path: "slos/checkout.yml", content: "changed\n" }];
    await refusal(host.updateChange(change.id, { files: changed, allowedPaths: ALLOWED }), "checked-out");
    expect(sh(dir, "rev-parse", "HEAD")).toBe(change.commit);
  });
});

describe("readFile", () => {
  it("reads a file at a branch, a commit or a tag, and nothing where there is none", async () => {
    const { dir, host } = fresh();
    const change = await host.openChange(request());
    sh(dir, "tag", "v1", change.commit);
    expect(await host.readFile("slos/checkout.yml", change.branch)).toBe(FILES[0]!.content);
    expect(await host.readFile("slos/checkout.yml", change.commit)).toBe(FILES[0]!.content);
    expect(await host.readFile("slos/checkout.yml", "v1")).toBe(FILES[0]!.content);
    expect(await host.readFile("slos/checkout.yml", "main")).toBeUndefined();
    expect(await host.readFile("slos", change.branch)).toBeUndefined();
    expect(await host.readFile("slos/missing.yml", change.branch)).toBeUndefined();
    const link = sh(dir, "hash-object", "-w", "--stdin");
    const tree = execFileSync("git", ["mktree"], { cwd: dir, input: `120000 blob ${link}\tlink\n` });
    const withLink = sh(dir, "commit-tree", tree.toString().trim(), "-m", "a symlink");
    expect(await host.readFile("link", withLink)).toBeUndefined();
  });

  it("refuses unknown refs and anything git could read as an option or a range", async () => {
    const { host } = fresh();
    for (const ref of ["nope", "--all", "-x", "main..HEAD", "main:slos", ""]) {
      await refusal(host.readFile("slos/checkout.yml", ref), "unknown-ref");
    }
  });
});

describe("comments", () => {
  it("are posted and edited as files beside the change", async () => {
    const { dir, host } = fresh();
    const change = await host.openChange(request());
    const first = await host.postComment(change.id, "analyzing…");
    const second = await host.postComment(change.id, "second");
    expect([first, second]).toEqual(["1-1", "1-2"]);
    const file = join(dir, ".git", "slo-scout", "changes", "1", "comments", "1.md");
    expect(readFileSync(file, "utf8")).toBe("analyzing…");
    await host.editComment(first, "done: 2 proposals");
    expect(readFileSync(file, "utf8")).toBe("done: 2 proposals");
    expect(sh(dir, "status", "--porcelain")).toBe("");
  });

  it("refuses unknown changes and comments", async () => {
    const { host } = fresh();
    await refusal(host.postComment("1", "x"), "unknown-change");
    const change = await host.openChange(request());
    await refusal(host.editComment(`${change.id}-9`, "x"), "unknown-comment");
    await refusal(host.editComment("../../x", "x"), "unknown-comment");
    await refusal(host.postComment(change.id, "x".repeat(65_537)), "bad-request");
  });
});

describe("paths", () => {
  it.each([
    "../outside.yml",
    "/etc/passwd",
    "slos/../../outside.yml",
    "slos/./checkout.yml",
    "slos//checkout.yml",
    "slos/",
    ".git/hooks/pre-commit",
    "slos/.GIT/config",
    "slos/git~1/config",
    "slos\\checkout.yml",
    "slos/check out.yml",
    "slos/checkout.yml\n",
    "slos/checkout\u0000.yml",
    "README.md",
    "slosx/checkout.yml",
    "",
  ])("refuses to write %j and writes nothing", async (path) => {
    const { dir, host } = fresh();
    await refusal(host.openChange(request({ files: [{ path, content: "x" }] })), "bad-path");
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses duplicate paths, no files and no allowed paths", async () => {
    const { host } = fresh();
    await refusal(host.openChange(request({ files: [FILES[0]!, FILES[0]!] })), "bad-request");
    await refusal(host.openChange(request({ files: [] })), "bad-request");
    await refusal(host.openChange(request({ allowedPaths: [] })), "bad-path");
  });

  it("refuses to read outside the repository", async () => {
    const { host } = fresh();
    for (const path of ["../x", "/etc/passwd", ".git/config", "a/../../x"]) {
      await refusal(host.readFile(path, "main"), "bad-path");
    }
  });
});

describe("someone else's repository", () => {
  it("leaves its working tree, index and HEAD as they were", async () => {
    const dir = tempDir();
    sh(dir, "init", "--quiet", "--initial-branch=main");
    mkdirSync(join(dir, "slos"));
    writeFileSync(join(dir, "slos", "checkout.yml"), "mine\n");
    sh(dir, "add", ".");
    sh(dir, "commit", "--quiet", "-m", "theirs");
    sh(dir, "checkout", "--quiet", "-b", "feature");
    writeFileSync(join(dir, "slos", "checkout.yml"), "edited, not staged\n");
    writeFileSync(join(dir, "staged.txt"), "staged\n");
    sh(dir, "add", "staged.txt");
    const status = sh(dir, "status", "--porcelain");
    const head = sh(dir, "rev-parse", "HEAD");

    const host = localGitHost({ dir });
    const change = await host.openChange(request());
    expect(sh(dir, "rev-parse", `${change.branch}^`)).toBe(sh(dir, "rev-parse", "main"));
    expect(change.files).toContain("slos/checkout.yml");
    expect(await host.readFile("slos/checkout.yml", "main")).toBe("mine\n");
    expect(sh(dir, "status", "--porcelain")).toBe(status);
    expect(sh(dir, "symbolic-ref", "HEAD")).toBe("refs/heads/feature");
    expect(sh(dir, "rev-parse", "HEAD")).toBe(head);
    expect(readFileSync(join(dir, "slos", "checkout.yml"), "utf8")).toBe("edited, not staged\n");
    expect(sh(dir, "log", "--format=%s", "main")).toBe("theirs");
  });
});
