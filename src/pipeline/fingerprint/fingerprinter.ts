import { fingerprintOf } from "./fingerprint.js";
import { maskMessage } from "./mask.js";
import { type Cluster, type MinerOptions, type MinerState, TemplateMiner } from "./miner.js";

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
  /** Per service and cluster id: the fingerprints (→ template) the cluster emits now. */
  emitted: Record<string, Record<string, Record<string, string>>>;
  aliases: Record<string, string>;
}

const MAX_ALIASES = 100_000;
const NO_ALIASES: string[] = [];

interface ClusterCache {
  /** The fingerprints (→ template text) the cluster currently emits. */
  emitted: Map<string, string>;
  /** Template and fingerprint per combination of enumeration words ("" when there are none). */
  labels: Map<string, { template: string; fingerprint: string }>;
}

export class Fingerprinter {
  private readonly miners = new Map<string, TemplateMiner>();
  private readonly aliasMap = new Map<string, string>();
  private readonly hashes = new Map<string, Map<string, string>>();
  private readonly caches = new WeakMap<Cluster, ClusterCache>();
  private lastService: string | undefined;
  private lastMiner: TemplateMiner | undefined;

  constructor(private readonly options: Partial<MinerOptions> = {}) {}

  private minerFor(service: string): TemplateMiner {
    if (service === this.lastService) return this.lastMiner!;
    let miner = this.miners.get(service);
    if (!miner) {
      miner = new TemplateMiner(this.options);
      this.miners.set(service, miner);
    }
    this.lastService = service;
    this.lastMiner = miner;
    return miner;
  }

  private cacheOf(cluster: Cluster): ClusterCache {
    let c = this.caches.get(cluster);
    if (!c) {
      c = { emitted: new Map(), labels: new Map() };
      this.caches.set(cluster, c);
    }
    return c;
  }

  process(service: string, message: string): FingerprintResult {
    const miner = this.minerFor(service);
    const tokens = maskMessage(message);
    const { cluster, changed } = miner.add(tokens);
    const cache = this.cacheOf(cluster);
    if (changed) cache.labels.clear();
    const key = miner.enumerationKey(cluster, tokens);
    let label = cache.labels.get(key);
    if (!label) {
      const template = miner.templateFor(cluster, tokens).join(" ");
      label = { template, fingerprint: this.hash(service, template) };
      cache.labels.set(key, label);
    }
    const { template, fingerprint } = label;
    let aliases: string[] = NO_ALIASES;
    if (changed && cache.emitted.size > 0) {
      // fingerprints this cluster can no longer produce now stand for the line's new one
      for (const [old, oldTemplate] of cache.emitted) {
        if (old === fingerprint || miner.produces(cluster, oldTemplate.split(" "))) continue;
        if (aliases === NO_ALIASES) aliases = [];
        aliases.push(old);
        this.setAlias(old, fingerprint);
        cache.emitted.delete(old);
      }
    }
    if (!cache.emitted.has(fingerprint)) cache.emitted.set(fingerprint, template);
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
    let byTemplate = this.hashes.get(service);
    if (!byTemplate) {
      byTemplate = new Map();
      this.hashes.set(service, byTemplate);
    }
    let h = byTemplate.get(template);
    if (h === undefined) {
      if (byTemplate.size > 50_000) byTemplate.clear();
      h = fingerprintOf(service, template);
      byTemplate.set(template, h);
    }
    return h;
  }

  toJSON(): FingerprinterState {
    const miners: Record<string, MinerState> = {};
    for (const [service, miner] of this.miners) miners[service] = miner.toJSON();
    const emitted: FingerprinterState["emitted"] = {};
    for (const [service, miner] of this.miners) {
      const perCluster: Record<string, Record<string, string>> = {};
      for (const c of miner.clusters) {
        const e = this.caches.get(c)?.emitted;
        if (e?.size) perCluster[String(c.id)] = Object.fromEntries(e);
      }
      emitted[service] = perCluster;
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
      const miner = f.miners.get(service);
      for (const [id, fps] of Object.entries(m)) {
        const cluster = miner?.cluster(Number(id));
        if (cluster) f.cacheOf(cluster).emitted = new Map(Object.entries(fps));
      }
    }
    for (const [from, to] of Object.entries(state.aliases ?? {})) f.aliasMap.set(from, to);
    return f;
  }
}
