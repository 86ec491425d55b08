import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local, stateful stand-in for the parts of GitHub's REST and GraphQL APIs the App calls, served the way
 * GitHub Enterprise Server serves them (`<base>/api/v3/…` and `<base>/api/graphql`, so the App reaches it
 * with GHE_HOST=127.0.0.1:<port> and GHE_PROTOCOL=http). It holds one repository's state — commits with
 * their whole trees, branches, issue comments and their edits, reactions, pull requests, labels, check runs,
 * collaborator permissions — and answers with the status codes GitHub documents (404 for what does not
 * exist, 422 for a branch that does). `createCommitOnBranch` applies every addition and deletion in one
 * commit on top of the branch's head, and only when `expectedHeadOid` is that head, as GitHub does.
 */

export interface Commit {
  sha: string;
  parents: string[];
  message: string;
  /** The whole tree: path → content. */
  files: Map<string, string>;
}

export interface IssueComment {
  id: number;
  issue: number;
  body: string;
  user: { login: string; type: "User" | "Bot" };
  /** Every body it had before the current one, oldest first. */
  edits: string[];
}

export interface PullRequest {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  head: string;
  base: string;
  labels: string[];
}

export interface CheckRun {
  name: string;
  head_sha: string;
  status: string;
  conclusion?: string;
  output?: { title?: string; summary?: string };
}

export interface Call {
  method: string;
  /** The path after `/api/v3` (or `/api/graphql`), query string included, decoded. */
  path: string;
}

export interface GitHubStandIn {
  /** For GHE_HOST. */
  host: string;
  owner: string;
  repo: string;
  commits: Map<string, Commit>;
  branches: Map<string, string>;
  comments: IssueComment[];
  reactions: { commentId: number; content: string }[];
  pulls: PullRequest[];
  checkRuns: CheckRun[];
  /** login → admin | maintain | write | triage | read; anyone else is no collaborator (404). */
  permissions: Map<string, string>;
  calls: Call[];
  /** Commits `files` (content, or null to delete) on a branch, as a push would. Returns the commit's sha. */
  push(branch: string, files: Record<string, string | null>, message?: string): string;
  /** The files a commit adds, changes or deletes against its first parent (deleted: null). */
  diff(sha: string): Map<string, string | null>;
  /** Resolves once `predicate` holds after some request, or rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const BOT = { login: "slo-scout[bot]", type: "Bot" as const };

const shaOf = (value: unknown) => createHash("sha1").update(JSON.stringify(value)).digest("hex");

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startGitHubStandIn(
  opts: { owner?: string; repo?: string; files?: Record<string, string> } = {},
): Promise<GitHubStandIn> {
  const owner = opts.owner ?? "Codertocat";
  const repo = opts.repo ?? "Hello-World";
  const commits = new Map<string, Commit>();
  const branches = new Map<string, string>();
  const comments: IssueComment[] = [];
  const reactions: { commentId: number; content: string }[] = [];
  const pulls: PullRequest[] = [];
  const checkRuns: CheckRun[] = [];
  const permissions = new Map<string, string>();
  const calls: Call[] = [];
  let waiters: (() => void)[] = [];
  let nextComment = 10_000;
  let nextPull = 100;

  function addCommit(parent: string | undefined, files: Map<string, string>, message: string): string {
    const sha = shaOf({ parent, files: [...files], message, n: commits.size });
    commits.set(sha, { sha, parents: parent ? [parent] : [], message, files });
    return sha;
  }
  const root = addCommit(
    undefined,
    new Map(Object.entries(opts.files ?? { "README.md": "# Hello\n" })),
    "init",
  );
  branches.set("main", root);

  function push(branch: string, files: Record<string, string | null>, message = "push"): string {
    const head = branches.get(branch);
    const tree = new Map(head ? commits.get(head)!.files : []);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    const sha = addCommit(head, tree, message);
    branches.set(branch, sha);
    return sha;
  }

  function diff(sha: string): Map<string, string | null> {
    const commit = commits.get(sha)!;
    const before = commit.parents[0] ? commits.get(commit.parents[0])!.files : new Map<string, string>();
    const out = new Map<string, string | null>();
    for (const [path, content] of commit.files) if (before.get(path) !== content) out.set(path, content);
    for (const path of before.keys()) if (!commit.files.has(path)) out.set(path, null);
    return out;
  }

  /** A branch name or a commit sha, as the REST API's `ref` parameters take them. */
  const resolveRef = (ref: string) =>
    branches.get(ref.replace(/^(refs\/)?heads\//, "")) ?? (commits.has(ref) ? ref : undefined);

  const pullJson = (p: PullRequest) => ({
    number: p.number,
    html_url: `https://github.com/${owner}/${repo}/pull/${p.number}`,
    title: p.title,
    body: p.body,
    state: p.state,
    head: { ref: p.head, sha: branches.get(p.head) ?? "" },
    base: { ref: p.base },
    labels: p.labels.map((name) => ({ name })),
  });
  const commentJson = (c: IssueComment) => ({
    id: c.id,
    body: c.body,
    user: c.user,
    html_url: `https://github.com/${owner}/${repo}/issues/${c.issue}#issuecomment-${c.id}`,
  });

  function graphql(body: { query: string; variables?: Record<string, unknown> }): [number, unknown] {
    if (!body.query.includes("createCommitOnBranch"))
      return [200, { errors: [{ message: "the stand-in answers createCommitOnBranch only" }] }];
    const input = body.variables?.input as {
      branch: { repositoryNameWithOwner: string; branchName: string };
      message: { headline: string; body?: string };
      expectedHeadOid: string;
      fileChanges?: {
        additions?: { path: string; contents: string }[];
        deletions?: { path: string }[];
      };
    };
    const fail = (message: string) =>
      [200, { data: null, errors: [{ type: "UNPROCESSABLE", message }] }] as [number, unknown];
    if (input.branch.repositoryNameWithOwner !== `${owner}/${repo}`)
      return fail(
        `Could not resolve to a Repository with the name '${input.branch.repositoryNameWithOwner}'.`,
      );
    const head = branches.get(input.branch.branchName);
    if (!head) return fail(`A ref named "refs/heads/${input.branch.branchName}" does not exist.`);
    if (input.expectedHeadOid !== head)
      return fail(
        `Expected branch to point to "${input.expectedHeadOid}" but it did not. Pull and try again.`,
      );
    const tree = new Map(commits.get(head)!.files);
    for (const d of input.fileChanges?.deletions ?? []) {
      if (!tree.has(d.path)) return fail(`The path '${d.path}' does not exist.`);
      tree.delete(d.path);
    }
    for (const a of input.fileChanges?.additions ?? [])
      tree.set(a.path, Buffer.from(a.contents, "base64").toString("utf8"));
    const message = [input.message.headline, input.message.body].filter(Boolean).join("\n\n");
    const sha = addCommit(head, tree, message);
    branches.set(input.branch.branchName, sha);
    return [
      200,
      {
        data: {
          createCommitOnBranch: {
            commit: { oid: sha, url: `https://github.com/${owner}/${repo}/commit/${sha}` },
          },
        },
      },
    ];
  }

  function rest(method: string, url: URL, body: Record<string, unknown>): [number, unknown, string?] {
    const path = url.pathname;
    const q = url.searchParams;
    if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path))
      return [201, { token: "ghs_standin", expires_at: "2099-01-01T00:00:00Z", permissions: {} }];
    const prefix = `/repos/${owner}/${repo}`;
    if (!path.startsWith(prefix)) return [404, { message: "Not Found" }];
    const p = path.slice(prefix.length);
    /** The route's captures when the request is `verb` (any verb when undefined) on `pattern`. */
    const on = (verb: string | undefined, pattern: RegExp) =>
      verb === undefined || verb === method ? pattern.exec(p) : null;
    let m: RegExpExecArray | null;

    if (method === "GET" && p === "")
      return [
        200,
        { name: repo, full_name: `${owner}/${repo}`, default_branch: "main", owner: { login: owner } },
      ];

    m = on("GET", /^\/contents\/(.+)$/);
    if (m) {
      const sha = resolveRef(q.get("ref") ?? "main");
      const file = m[1]!;
      const content = sha ? commits.get(sha)!.files.get(file) : undefined;
      if (content !== undefined) return [200, content, "text/plain; charset=utf-8"];
      const listing = sha ? [...commits.get(sha)!.files.keys()].filter((f) => f.startsWith(`${file}/`)) : [];
      if (listing.length > 0)
        return [200, listing.map((f) => ({ type: "file", path: f, name: f.split("/").pop() }))];
      return [404, { message: "Not Found" }];
    }

    m = on("GET", /^\/git\/ref\/heads\/(.+)$/);
    if (m) {
      const sha = branches.get(m[1]!);
      return sha
        ? [200, { ref: `refs/heads/${m[1]}`, object: { sha, type: "commit" } }]
        : [404, { message: "Not Found" }];
    }
    m = on("GET", /^\/commits\/(.+)$/);
    if (m) {
      const sha = resolveRef(m[1]!);
      if (!sha) return [422, { message: `No commit found for SHA: ${m[1]}` }];
      return [200, sha, "application/vnd.github.sha; charset=utf-8"];
    }
    if (method === "POST" && p === "/git/refs") {
      const ref = String(body.ref).replace(/^refs\/heads\//, "");
      if (branches.has(ref)) return [422, { message: "Reference already exists" }];
      if (!commits.has(String(body.sha))) return [422, { message: "Object does not exist" }];
      branches.set(ref, String(body.sha));
      return [201, { ref: `refs/heads/${ref}`, object: { sha: body.sha, type: "commit" } }];
    }
    m = on("PATCH", /^\/git\/refs\/heads\/(.+)$/);
    if (m) {
      if (!branches.has(m[1]!)) return [422, { message: "Reference does not exist" }];
      branches.set(m[1]!, String(body.sha));
      return [200, { ref: `refs/heads/${m[1]}`, object: { sha: body.sha } }];
    }

    if (method === "GET" && p === "/pulls") {
      const head = q.get("head")?.replace(`${owner}:`, "");
      const state = q.get("state") ?? "open";
      const found = pulls.filter(
        (pr) => (!head || pr.head === head) && (state === "all" || pr.state === state),
      );
      return [200, found.map(pullJson)];
    }
    if (method === "POST" && p === "/pulls") {
      const head = String(body.head);
      if (!branches.has(head)) return [422, { message: "Validation Failed", errors: [{ field: "head" }] }];
      if (pulls.some((pr) => pr.head === head && pr.state === "open"))
        return [422, { message: `A pull request already exists for ${owner}:${head}.` }];
      const pr: PullRequest = {
        number: nextPull++,
        title: String(body.title),
        body: String(body.body ?? ""),
        state: "open",
        head,
        base: String(body.base),
        labels: [],
      };
      pulls.push(pr);
      return [201, pullJson(pr)];
    }
    m = on(undefined, /^\/pulls\/(\d+)(\/files)?$/);
    if (m) {
      const pr = pulls.find((x) => x.number === Number(m?.[1]));
      if (!pr) return [404, { message: "Not Found" }];
      if (method === "GET" && m[2]) {
        const head = commits.get(branches.get(pr.head)!)!.files;
        const base = commits.get(branches.get(pr.base)!)!.files;
        const names = [...new Set([...head.keys(), ...base.keys()])].filter(
          (f) => head.get(f) !== base.get(f),
        );
        const page = Number(q.get("page") ?? 1);
        const per = Number(q.get("per_page") ?? 30);
        return [
          200,
          names
            .sort()
            .slice((page - 1) * per, page * per)
            .map((filename) => ({ filename })),
        ];
      }
      if (method === "GET") return [200, pullJson(pr)];
      if (method === "PATCH") {
        if (typeof body.title === "string") pr.title = body.title;
        if (typeof body.body === "string") pr.body = body.body;
        if (body.state === "closed" || body.state === "open") pr.state = body.state;
        return [200, pullJson(pr)];
      }
    }

    m = on("POST", /^\/issues\/(\d+)\/labels$/);
    if (m) {
      const pr = pulls.find((x) => x.number === Number(m?.[1]));
      if (pr) pr.labels = [...new Set([...pr.labels, ...(body.labels as string[])])];
      return [200, (pr?.labels ?? []).map((name) => ({ name }))];
    }
    m = on(undefined, /^\/issues\/(\d+)\/comments$/);
    if (m) {
      const issue = Number(m[1]);
      if (method === "GET") {
        const page = Number(q.get("page") ?? 1);
        const per = Number(q.get("per_page") ?? 30);
        const all = comments.filter((c) => c.issue === issue);
        return [200, all.slice((page - 1) * per, page * per).map(commentJson)];
      }
      if (method === "POST") {
        const c: IssueComment = { id: nextComment++, issue, body: String(body.body), user: BOT, edits: [] };
        comments.push(c);
        return [201, commentJson(c)];
      }
    }
    m = on(undefined, /^\/issues\/comments\/(\d+)(\/reactions)?$/);
    if (m) {
      const id = Number(m[1]);
      if (method === "POST" && m[2]) {
        reactions.push({ commentId: id, content: String(body.content) });
        return [201, { id: reactions.length, content: body.content }];
      }
      const c = comments.find((x) => x.id === id);
      if (!c) return [404, { message: "Not Found" }];
      if (method === "PATCH") {
        c.edits.push(c.body);
        c.body = String(body.body);
        return [200, commentJson(c)];
      }
    }
    m = on("GET", /^\/collaborators\/([^/]+)\/permission$/);
    if (m) {
      const permission = permissions.get(m[1]!);
      return permission
        ? [200, { permission, user: { login: m[1] } }]
        : [404, { message: `${m[1]} is not a user` }];
    }
    if (method === "POST" && p === "/check-runs") {
      checkRuns.push(body as unknown as CheckRun);
      return [201, { id: checkRuns.length, ...body }];
    }
    return [404, { message: "Not Found" }];
  }

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const raw = await read(req);
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const method = req.method ?? "GET";
    let answer: [number, unknown, string?];
    if (url.pathname === "/api/graphql" && method === "POST") {
      calls.push({ method, path: "/api/graphql" });
      answer = graphql(body as { query: string; variables?: Record<string, unknown> });
    } else if (url.pathname.startsWith("/api/v3/")) {
      const decoded = new URL(decodeURIComponent(url.pathname.slice("/api/v3".length)) + url.search, url);
      calls.push({ method, path: decoded.pathname + decoded.search });
      answer = rest(method, decoded, body);
    } else {
      answer = [404, { message: "Not Found" }];
    }
    const [status, payload, type] = answer;
    res.writeHead(status, { "content-type": type ?? "application/json; charset=utf-8" });
    res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");

  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    owner,
    repo,
    commits,
    branches,
    comments,
    reactions,
    pulls,
    checkRuns,
    permissions,
    calls,
    push,
    diff,
    async until(predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error("the stand-in did not reach the expected state in time");
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
    },
    async close() {
      server.close();
      server.closeAllConnections();
      await once(server, "close");
    },
  };
}
