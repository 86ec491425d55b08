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
