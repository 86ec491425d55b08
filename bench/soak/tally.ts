/**
 * What a load generator reports to the soak run, once a second and at its end: records acknowledged
 * (a 2xx for the request that carried them), records given up on, refused answers and each request's
 * acknowledgement latency. Sent over the child process's IPC channel.
 */

export type Receiver = "otlp-logs" | "otlp-spans" | "fluentbit" | "remote-write" | "faro";

export const RECEIVERS: readonly Receiver[] = [
  "otlp-logs",
  "otlp-spans",
  "fluentbit",
  "remote-write",
  "faro",
];

/** What each receiver's records are, for the report. */
export const UNITS: Record<Receiver, string> = {
  "otlp-logs": "log lines",
  "otlp-spans": "spans",
  fluentbit: "log lines",
  "remote-write": "samples",
  faro: "RUM items",
};

export interface GeneratorArgs {
  receiver: Receiver;
  url: string;
  /** Records per second to offer. */
  rate: number;
  /** Requests (or exporters) in flight at most. */
  concurrency: number;
  /** Distinguishes the generators of one receiver (series, ids). */
  index: number;
}

export interface Tick {
  type: "tick";
  receiver: Receiver;
  /** Epoch ms at the end of the interval. */
  at: number;
  /** Records acknowledged in the interval. */
  acked: number;
  /** Records whose request finally failed (given up after the client's retries). */
  failed: number;
  /** Answers that were not 2xx (503s, 5xx) and network errors, retried or not. */
  refused: number;
  /** The refused answers by status code or error name. */
  codes: Record<string, number>;
  /** Acknowledgement latency (ms) of each request that got a 2xx in the interval. */
  latencies: number[];
}

export interface Done {
  type: "done";
  receiver: Receiver;
  /** Records the generator created (the SDKs may drop some from their queue before sending). */
  offered: number;
  /** What the store must hold, by the names of bench/soak/stored.ts. */
  expected: Record<string, number>;
  notes: string[];
}

export type GeneratorMessage = Tick | Done;

/** Collects a generator's figures between ticks. */
export class Tally {
  private acked = 0;
  /** Records acknowledged since the start. */
  ackedTotal = 0;
  failed = 0;
  private codes: Record<string, number> = {};
  latencies: number[] = [];
  offered = 0;

  constructor(private readonly receiver: Receiver) {}

  ack(records: number, latencyMs: number): void {
    this.acked += records;
    this.ackedTotal += records;
    this.latencies.push(latencyMs);
  }

  /** A request that was not answered 2xx: `code` is the status, or the error's name. */
  refuse(code: string | number): void {
    this.codes[code] = (this.codes[code] ?? 0) + 1;
  }

  take(): Tick {
    const tick: Tick = {
      type: "tick",
      receiver: this.receiver,
      at: Date.now(),
      acked: this.acked,
      failed: this.failed,
      refused: Object.values(this.codes).reduce((a, b) => a + b, 0),
      codes: this.codes,
      latencies: this.latencies,
    };
    this.acked = 0;
    this.failed = 0;
    this.codes = {};
    this.latencies = [];
    return tick;
  }
}

/**
 * Paces an open-loop offer of `rate` records per second: `owed()` is how many records are due now.
 * A sender that falls behind (slow answers, full queues) may owe at most one second of records; the rest
 * is never offered, so the achieved rate shows what the server took.
 */
export class Pacer {
  private readonly started = performance.now();
  private given = 0;

  constructor(private readonly rate: number) {}

  owed(): number {
    const due = Math.floor(((performance.now() - this.started) / 1000) * this.rate);
    if (due - this.given > this.rate) this.given = due - this.rate;
    return due - this.given;
  }

  take(n: number): void {
    this.given += n;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
