import { fingerprintOf } from "./fingerprint.js";
import { maskMessage } from "./mask.js";
import { type MinerOptions, type MinerState, TemplateMiner } from "./miner.js";

/**
 * The streaming fingerprinter: one template miner per service, fed one message at a time.
 *
 * A line's fingerprint is the hash of its template *as it stands when the line arrives*. When a later
 * variant generalises a template (`user root` then `user admin` → `user <*>`), the lines already emitted
 * keep their old fingerprint; the change is reported as aliases (old → new) on the result and kept in
 * `aliasOf`, so an aggregate keyed by the old fingerprint can be folded into the new one. Nothing is
 * renumbered on restart: `toJSON()`/`fromJSON()` carry the miners, the fingerprints each template has
 * emitted and the alias map, and a restored fingerprinter continues exactly as an uninterrupted one.
 * (The batch CLI instead mines the whole input first and labels every line with its final template.)
 */

export interface FingerprintResult {
  service: string;
  fingerprint: string;
  template: string;
  /** Fingerprints this line's template replaced (they now resolve to `fingerprint`). Usually empty. */
  aliases: string[];
}

export interface FingerprinterState {
  version: 1;
  miners: Record<string, MinerState>;
  /** Per service and cluster id: the fingerprints emitted since the template last changed. */
  emitted: Record<string, Record<string, string[]>>;
  aliases: Record<string, string>;
}

const MAX_ALIASES = 100_000;

export class Fingerprinter {
  private readonly miners = new Map<string, TemplateMiner>();
  private readonly emitted = new Map<string, Map<number, string[]>>();
  private readonly aliasMap = new Map<string, string>();
  private readonly hashes = new Map<string, string>();

  constructor(private readonly options: Partial<MinerOptions> = {}) {}

  process(service: string, message: string): FingerprintResult {
    let miner = this.miners.get(service);
    if (!miner) {
      miner = new TemplateMiner(this.options);
      this.miners.set(service, miner);
    }
    const tokens = maskMessage(message);
    const { cluster, changed } = miner.add(tokens);
    const template = miner.templateFor(cluster, tokens).join(" ");
    const fingerprint = this.hash(service, template);
    let perService = this.emitted.get(service);
    if (!perService) {
      perService = new Map();
      this.emitted.set(service, perService);
    }
    const before = perService.get(cluster.id);
    let aliases: string[] = [];
    if (!before) perService.set(cluster.id, [fingerprint]);
    else if (changed) {
      aliases = before.filter((f) => f !== fingerprint);
      for (const old of aliases) this.setAlias(old, fingerprint);
      perService.set(cluster.id, [fingerprint]);
    } else if (!before.includes(fingerprint)) before.push(fingerprint);
    return { service, fingerprint, template, aliases };
  }

  /** The fingerprint a (possibly superseded) fingerprint now stands for. */
  aliasOf(fingerprint: string): string {
    let f = fingerprint;
    for (let hops = 0; hops < 64; hops++) {
      const next = this.aliasMap.get(f);
      if (next === undefined || next === f) return f;
      f = next;
    }
    return f;
  }

  private setAlias(from: string, to: string): void {
    if (this.aliasMap.size >= MAX_ALIASES) this.aliasMap.delete(this.aliasMap.keys().next().value!);
    this.aliasMap.set(from, to);
  }

  private hash(service: string, template: string): string {
    const key = `${service}\n${template}`;
    let h = this.hashes.get(key);
    if (h === undefined) {
      if (this.hashes.size > 50_000) this.hashes.clear();
      h = fingerprintOf(service, template);
      this.hashes.set(key, h);
    }
    return h;
  }

  toJSON(): FingerprinterState {
    const miners: Record<string, MinerState> = {};
    for (const [service, miner] of this.miners) miners[service] = miner.toJSON();
    const emitted: Record<string, Record<string, string[]>> = {};
    for (const [service, m] of this.emitted) {
      emitted[service] = Object.fromEntries([...m].map(([id, fps]) => [String(id), [...fps]]));
    }
    return { version: 1, miners, emitted, aliases: Object.fromEntries(this.aliasMap) };
  }

  static fromJSON(state: FingerprinterState, options: Partial<MinerOptions> = {}): Fingerprinter {
    if (state?.version !== 1 || typeof state.miners !== "object") {
      throw new Error("fingerprinter state: unsupported or malformed (expected version 1 with miners)");
    }
    const f = new Fingerprinter(options);
    for (const [service, miner] of Object.entries(state.miners)) {
      f.miners.set(service, TemplateMiner.fromJSON(miner));
    }
    for (const [service, m] of Object.entries(state.emitted ?? {})) {
      f.emitted.set(service, new Map(Object.entries(m).map(([id, fps]) => [Number(id), [...fps]])));
    }
    for (const [from, to] of Object.entries(state.aliases ?? {})) f.aliasMap.set(from, to);
    return f;
  }
}
