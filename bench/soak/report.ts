import type { Stored } from "./stored.js";
import { type Done, RECEIVERS, type Receiver, type Tick, UNITS } from "./tally.js";

/** The figures of one soak configuration, as report.json holds them and report.md and the plot show them. */

export interface Fault {
  label: string;
  startS: number;
  endS: number;
  detail: string;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ReceiverFigures {
  unit: string;
  target: number;
  offered: number;
  acked: number;
  failed: number;
  refused: number;
  /** The refused answers by status code or error name. */
  codes: Record<string, number>;
  ackedPerSecond: number;
  /** Median of the 5-second acknowledged rates outside the faults. */
  steadyPerSecond: number;
  latency: Percentiles;
  latencyOutsideFaults: Percentiles;
  notes: string[];
}

export interface Check {
  what: string;
  acknowledged: number;
  stored: number;
  equal: boolean;
}

export interface RunReport {
  config: "A" | "B";
  title: string;
  startedAt: string;
  minutes: number;
  machine: { cpus: number; node: string; loadBefore: number[]; loadAfter: number[]; loadMean: number };
  receivers: Record<Receiver, ReceiverFigures>;
  faults: Fault[];
  /**
   * True when the receivers (with the API) and the worker ran as two processes (A with --split on): then
   * `rssMiB`/`cpuPercent` are the receivers' process and `workerRssMiB`/`workerCpuPercent` the worker's.
   */
  split: boolean;
  /**
   * Every SAMPLE_EVERY_MS: each server process's resident memory and CPU (absent while it is down), the load
   * average, and on Kafka the backlog the receivers measured (slo_scout_pipeline_backlog_messages).
   */
  samples: {
    t: number;
    rssMiB?: number;
    cpuPercent?: number;
    workerRssMiB?: number;
    workerCpuPercent?: number;
    backlog?: number;
    load1: number;
  }[];
  /**
   * Where the machine's CPU went during the load: every process's busy seconds (/proc/stat) and each load
   * generator's own; absent in reports written before it was measured.
   */
  cpu?: { machineBusySeconds: number; generatorSeconds: Partial<Record<Receiver, number>> };
  /** Acknowledged records per second per receiver, in BIN_S bins from the start. */
  throughput: { t: number; rates: Partial<Record<Receiver, number>> }[];
  loadEndS: number;
  drainMs: number;
  stops: { code: number | null; ms: number }[];
  stored: Stored;
  /** The server's own count of accepted records per `receiver/signal`, read before each stop. */
  acceptedByServer: Record<string, number>;
  /** Messages still on the Kafka topic, not stored, when the drain gave up (--drain-minutes); 0 when drained. */
  undrained: number;
  checks: Check[];
  allEqual: boolean;
}

const BIN_S = 5;
/** Answers up to this long after a fault ended still count as the fault's (clients retrying, backlog). */
const AFTER_FAULT_S = 30;

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : Number.NaN;
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), max: s.at(-1) ?? Number.NaN };
}

const median = (values: number[]) => percentiles(values).p50;

export function summarize(input: {
  config: "A" | "B";
  title: string;
  split: boolean;
  minutes: number;
  targets: Record<Receiver, number>;
  machine: { cpus: number; node: string; loadBefore: number[]; loadAfter: number[] };
  ticks: Tick[];
  done: Done[];
  samples: RunReport["samples"];
  cpu: NonNullable<RunReport["cpu"]>;
  faults: Fault[];
  loadEndS: number;
  drainMs: number;
  stops: { code: number | null; ms: number }[];
  stored: Stored;
  accepted: Record<string, number>;
  undrained: number;
  t0: number;
}): RunReport {
  const { ticks, faults, t0 } = input;
  const inFault = (t: number) => faults.some((f) => t >= f.startS && t <= f.endS + AFTER_FAULT_S);
  const loadS = input.minutes * 60;
  const bins = Math.ceil(input.loadEndS / BIN_S);
  const throughput = Array.from({ length: bins }, (_, i) => ({
    t: i * BIN_S,
    rates: {} as Partial<Record<Receiver, number>>,
  }));
  for (const tick of ticks) {
    const bin = throughput[Math.min(bins - 1, Math.floor((tick.at - t0) / 1000 / BIN_S))];
    if (bin) bin.rates[tick.receiver] = (bin.rates[tick.receiver] ?? 0) + tick.acked / BIN_S;
  }
  const receivers = {} as Record<Receiver, ReceiverFigures>;
  for (const r of RECEIVERS) {
    const mine = ticks.filter((t) => t.receiver === r);
    const d = input.done.find((x) => x.receiver === r);
    const steady = throughput
      .filter((b) => b.t >= BIN_S && b.t + BIN_S <= loadS && !inFault(b.t) && !inFault(b.t + BIN_S))
      .map((b) => b.rates[r] ?? 0);
    const acked = mine.reduce((n, t) => n + t.acked, 0);
    receivers[r] = {
      unit: UNITS[r],
      target: input.targets[r],
      offered: d?.offered ?? 0,
      acked,
      failed: mine.reduce((n, t) => n + t.failed, 0),
      refused: mine.reduce((n, t) => n + t.refused, 0),
      codes: mine.reduce<Record<string, number>>((acc, t) => {
        for (const [k, v] of Object.entries(t.codes)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {}),
      ackedPerSecond: acked / loadS,
      steadyPerSecond: median(steady),
      latency: percentiles(mine.flatMap((t) => t.latencies)),
      latencyOutsideFaults: percentiles(
        mine.filter((t) => !inFault((t.at - t0) / 1000)).flatMap((t) => t.latencies),
      ),
      notes: d?.notes ?? [],
    };
  }
  const expected: Record<string, number> = {};
  for (const d of input.done)
    for (const [k, v] of Object.entries(d.expected)) expected[k] = (expected[k] ?? 0) + v;
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(input.stored.counts)])].sort();
  const checks: Check[] = keys.map((what) => {
    const acknowledged = expected[what] ?? 0;
    const stored = input.stored.counts[what] ?? 0;
    return { what, acknowledged, stored, equal: acknowledged === stored };
  });
  const traces = expected.traces ?? 0;
  checks.push({
    what: "routeRequests (one per trace)",
    acknowledged: traces,
    stored: input.stored.routeRequests,
    equal: traces === input.stored.routeRequests,
  });
  const loads = input.samples.map((s) => s.load1);
  return {
    config: input.config,
    title: input.title,
    split: input.split,
    startedAt: new Date(t0).toISOString(),
    minutes: input.minutes,
    machine: { ...input.machine, loadMean: loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length) },
    receivers,
    faults,
    samples: input.samples,
    cpu: input.cpu,
    throughput,
    loadEndS: input.loadEndS,
    drainMs: input.drainMs,
    stops: input.stops,
    stored: input.stored,
    acceptedByServer: input.accepted,
    undrained: input.undrained,
    checks,
    allEqual: checks.every((c) => c.equal),
  };
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)}` : "–");
const lat = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)} ms`;

/** Which process's figures: the server (or, split, the receivers + API process), or the split worker. */
export type Proc = "server" | "worker";
const rssOf = (s: RunReport["samples"][number], p: Proc) => (p === "worker" ? s.workerRssMiB : s.rssMiB);
const cpuOf = (s: RunReport["samples"][number], p: Proc) =>
  p === "worker" ? s.workerCpuPercent : s.cpuPercent;

export function memorySummary(
  r: RunReport,
  p: Proc = "server",
): {
  start: number;
  peak: number;
  end: number;
  firstThirdPeak: number;
  lastThirdPeak: number;
} {
  const rss = r.samples
    .filter((s) => rssOf(s, p) !== undefined && s.t <= r.loadEndS)
    .map((s) => ({ t: s.t, rssMiB: rssOf(s, p)! }));
  const peakOf = (xs: { rssMiB: number }[]) => xs.reduce((m, s) => Math.max(m, s.rssMiB), 0);
  const third = r.loadEndS / 3;
  return {
    start: rss[0]?.rssMiB ?? Number.NaN,
    peak: peakOf(rss),
    end: rss.at(-1)?.rssMiB ?? Number.NaN,
    firstThirdPeak: peakOf(rss.filter((s) => s.t < third)),
    lastThirdPeak: peakOf(rss.filter((s) => s.t >= 2 * third)),
  };
}

/**
 * The server's CPU over the load (the 2 s samples' CPU share times their spacing; a restart's missing
 * samples count nothing) and per acknowledged record: the figure that changes with the code, where rates
 * also change with what else runs on the machine.
 */
export function cpuSummary(
  r: RunReport,
  p: Proc = "server",
): { cpuSeconds: number; meanCores: number; usPerRecord: number } {
  const loaded = r.samples.filter((s) => s.t <= r.loadEndS);
  let cpuSeconds = 0;
  for (let i = 1; i < loaded.length; i++) {
    const pct = cpuOf(loaded[i]!, p);
    if (pct !== undefined) cpuSeconds += (pct / 100) * (loaded[i]!.t - loaded[i - 1]!.t);
  }
  const acked = RECEIVERS.reduce((n, rec) => n + r.receivers[rec].acked, 0);
  return {
    cpuSeconds,
    meanCores: r.loadEndS > 0 ? cpuSeconds / r.loadEndS : Number.NaN,
    usPerRecord: acked > 0 ? (cpuSeconds / acked) * 1e6 : Number.NaN,
  };
}

export function renderMarkdown(reports: RunReport[]): string {
  const lines: string[] = ["# bench:soak", ""];
  for (const r of reports) {
    const m = r.machine;
    // Reports written before the split existed have no `split`.
    const procs: [Proc, string][] = r.split
      ? [
          ["server", "Receivers + API process"],
          ["worker", "Worker process"],
        ]
      : [["server", "Server"]];
    lines.push(
      `## ${r.config}: ${r.title}`,
      "",
      `Started ${r.startedAt}, ${r.minutes} min of load; ${m.cpus} cores, Node ${m.node}; load average before ` +
        `${m.loadBefore.map((l) => l.toFixed(2)).join(" ")}, mean of the 1-minute figure during the run ` +
        `${m.loadMean.toFixed(2)}, after ${m.loadAfter.map((l) => l.toFixed(2)).join(" ")}.`,
      "",
      "| Receiver | Target/s | Acknowledged/s (whole run) | Steady/s (median outside faults) | Ack p50 / p95 / p99 (all) | Outside faults | Not 2xx answers | Given up |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const rec of RECEIVERS) {
      const f = r.receivers[rec];
      if (f.target === 0) continue;
      lines.push(
        `| ${rec} (${f.unit}) | ${int(f.target)} | ${int(f.ackedPerSecond)} | ${int(f.steadyPerSecond)} | ${lat(f.latency)} | ${lat(f.latencyOutsideFaults)} | ${int(f.refused)} | ${int(f.failed)} |`,
      );
    }
    lines.push("");
    for (const rec of RECEIVERS) {
      const codes = Object.entries(r.receivers[rec].codes);
      if (codes.length)
        lines.push(`- ${rec} answers not 2xx: ${codes.map(([c, n]) => `${c} × ${int(n)}`).join(", ")}`);
    }
    lines.push(
      `- records the server counted as accepted (its /metrics, read before each stop): ${Object.entries(
        r.acceptedByServer,
      )
        .map(([k, v]) => `${k} ${int(v)}`)
        .join(", ")}`,
    );
    lines.push("", "Faults:", "");
    for (const f of r.faults)
      lines.push(`- ${f.label} at ${f.startS.toFixed(0)}–${f.endS.toFixed(0)} s: ${f.detail}`);
    lines.push(
      "",
      `Drain after the load: ${(r.drainMs / 1000).toFixed(1)} s${r.undrained ? ` (gave up with ${int(r.undrained)} messages still on the topic)` : ""}; server stops: ${r.stops.map((s) => `exit ${s.code} in ${(s.ms / 1000).toFixed(1)} s`).join(", ")}.`,
      "",
      "| Acknowledged vs stored | Acknowledged | Stored | |",
      "|---|---:|---:|---|",
    );
    for (const c of r.checks)
      lines.push(
        `| ${c.what} | ${int(c.acknowledged)} | ${int(c.stored)} | ${c.equal ? "equal" : "**DIFFERENT**"} |`,
      );
    lines.push(
      "",
      `Edge calls stored: ${int(r.stored.edgeCalls)}; late events dropped ${r.stored.late.dropped}, corrected ${r.stored.late.corrected}.`,
      "",
    );
    for (const [p, name] of procs) {
      const mem = memorySummary(r, p);
      const cpu = cpuSummary(r, p);
      lines.push(
        `${name} RSS: ${int(mem.start)} MiB at the first sample, peak ${int(mem.peak)} MiB, ${int(mem.end)} MiB at the end of the load; ` +
          `peak in the first third ${int(mem.firstThirdPeak)} MiB, in the last third ${int(mem.lastThirdPeak)} MiB.`,
        "",
        `${name} CPU during the load: ${cpu.cpuSeconds.toFixed(0)} CPU-s (${cpu.meanCores.toFixed(2)} cores on average), ` +
          `${cpu.usPerRecord.toFixed(1)} µs per acknowledged record.`,
        "",
      );
    }
    if (r.cpu) {
      const cores = (seconds: number) => (r.loadEndS > 0 ? seconds / r.loadEndS : Number.NaN).toFixed(2);
      const servers = cpuSummary(r, "server").cpuSeconds + (r.split ? cpuSummary(r, "worker").cpuSeconds : 0);
      const gens = Object.entries(r.cpu.generatorSeconds) as [Receiver, number][];
      const generators = gens.reduce((n, [, v]) => n + v, 0);
      lines.push(
        `Where the machine's ${m.cpus} cores went during the load (mean cores busy): all processes ${cores(r.cpu.machineBusySeconds)}; ` +
          `SLO-Scout ${cores(servers)}; the load generators ${cores(generators)} (${gens.map(([g, v]) => `${g} ${cores(v)}`).join(", ")}); ` +
          `the rest (${r.config === "A" ? "Kafka, Postgres, " : ""}the harness, the OS) ${cores(r.cpu.machineBusySeconds - servers - generators)}.`,
        "",
      );
    }
    const backlogs = r.samples.flatMap((s) => (s.backlog === undefined ? [] : [s.backlog]));
    if (backlogs.length > 0) {
      const peak = r.samples.reduce((m, s) => ((s.backlog ?? -1) > (m.backlog ?? -1) ? s : m));
      lines.push(
        `Pipeline backlog (as the receivers measured it, sampled every 2 s): peak ${int(peak.backlog!)} messages at ${peak.t.toFixed(0)} s, ${int(backlogs.at(-1)!)} at the last sample.`,
        "",
      );
    }
    for (const rec of RECEIVERS) for (const note of r.receivers[rec].notes) lines.push(`- ${rec}: ${note}`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
