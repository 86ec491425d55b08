import type { Policy } from "../core/proposal.js";

/**
 * The ports between SLO-Scout and the systems outside it. Each has an embedded default and a production
 * adapter; `src/store/open.ts` picks one from the config.
 */

/** SQL on PGlite or Postgres: one dialect, the same migrations on both. */
export interface Sql {
  query<T = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: T[]; rowCount: number }>;
  /** Runs one or more parameterless statements (migrations, DDL). */
  exec(text: string): Promise<void>;
  /** Runs `fn` in one transaction; a throw rolls back. A nested call joins the outer transaction. */
  transaction<R>(fn: (tx: Sql) => Promise<R>): Promise<R>;
  readonly engine: "pglite" | "postgres";
  close(): Promise<void>;
}

export interface BlobStore {
  put(key: string, body: Buffer, contentType?: string): Promise<void>;
  /** Undefined when the key does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface VectorItem {
  id: string;
  vector: number[];
  metadata: { service: string; windowStart: number; fingerprint: string; template: string };
}

export interface VectorHit extends VectorItem {
  /** Cosine similarity in [-1, 1]; higher is closer. */
  score: number;
}

export interface VectorFilter {
  service?: string;
  since?: number;
  until?: number;
}

export interface VectorStore {
  upsert(items: VectorItem[]): Promise<void>;
  search(vector: number[], k: number, filter?: VectorFilter): Promise<VectorHit[]>;
  get(id: string): Promise<VectorItem | undefined>;
  /** Removes the items with these ids; ids the store does not hold are ignored. */
  delete(ids: string[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface JobOptions {
  /** Jobs with the same id are de-duplicated while one is waiting or running. */
  jobId?: string;
  attempts?: number;
  backoffMs?: number;
}

export interface JobInfo<T = unknown> {
  id: string;
  name: string;
  data: T;
  attemptsMade: number;
}

export interface JobQueue {
  add<T>(name: string, data: T, options?: JobOptions): Promise<string>;
  /** Registers the worker for `name`; at most `concurrency` jobs run at once. */
  process<T, R>(name: string, handler: (job: JobInfo<T>) => Promise<R>, concurrency?: number): void;
  /** Resolves with the job's result once it completes, rejects when it failed its last attempt. */
  result<R>(jobId: string, timeoutMs?: number): Promise<R>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Embedder {
  readonly dimensions: number;
  embed(texts: string[]): Promise<number[][]>;
}

/** One file of a change: a repository-relative path and its full new content. */
export interface ChangeFile {
  path: string;
  content: string;
}

/**
 * A proposed change to the team's repository: a pull request on GitHub, a merge request on GitLab, a branch
 * with its record beside it in the local repository.
 */
export interface Change {
  /** The host's id: the PR/MR number on a forge, a sequence number in the local repository. */
  id: string;
  /** `slo-scout/<service>`, or `slo-scout/<service>-2`, … when that name is taken. */
  branch: string;
  url: string;
  /** The branch head. */
  commit: string;
  /** Every path the change touches relative to its base, sorted. */
  files: string[];
  title: string;
  body: string;
}

export interface OpenChangeRequest {
  service: string;
  title: string;
  body: string;
  files: ChangeFile[];
  /** Globs (picomatch, like the policy's `allowedPaths`) every file must match; anything else is refused. */
  allowedPaths: string[];
  /** Branch or commit the change starts from; the host's default branch when absent. */
  baseRef?: string;
  /**
   * When a change for the service is already open: true updates it with a new commit, false (the default)
   * opens another one on a suffixed branch.
   */
  update?: boolean;
}

export interface UpdateChangeRequest {
  /** Written on top of the change's head as one new commit; files not named keep their content. */
  files: ChangeFile[];
  allowedPaths: string[];
  title?: string;
  body?: string;
  /** Commit message of the new commit; a default naming the change when absent. */
  message?: string;
}

/**
 * Where approved artifacts go. Host-neutral: the local repository, GitHub and GitLab adapters all take
 * repository-relative paths and return the same `Change`. Bad input (a path outside `allowedPaths`, an
 * unknown change) throws a `GitHostError`.
 */
export interface GitHost {
  /**
   * The file's content at a branch, tag or commit (the default branch when no ref is given); undefined
   * when the file does not exist there.
   */
  readFile(path: string, ref?: string): Promise<string | undefined>;
  /** One commit holding every file, on a new branch from the base. */
  openChange(request: OpenChangeRequest): Promise<Change>;
  updateChange(changeId: string, request: UpdateChangeRequest): Promise<Change>;
  /** Undefined when there is no such change. */
  getChange(changeId: string): Promise<Change | undefined>;
  listChangeFiles(changeId: string): Promise<string[]>;
  /** Returns the comment's id, for `editComment` (the "analyzing…" reply that is edited when done). */
  postComment(changeId: string, body: string): Promise<string>;
  editComment(commentId: string, body: string): Promise<void>;
  /**
   * The repository's policy when the host carries it in a config of its own (the GitHub App's
   * `.github/slo-scout.yml`); absent or undefined means the policy file in the repository decides.
   */
  policy?(): Promise<{ policy: Policy; source: string } | undefined>;
  close(): Promise<void>;
}

export type GitHostErrorCode =
  | "bad-path"
  | "bad-request"
  | "unknown-ref"
  | "unknown-change"
  | "unknown-comment"
  | "no-changes"
  | "checked-out";

/** A request the git host refuses; the app layer validates first, so reaching this means a caller bug. */
export class GitHostError extends Error {
  override name = "GitHostError";
  constructor(
    readonly code: GitHostErrorCode,
    message: string,
  ) {
    super(message);
  }
}
