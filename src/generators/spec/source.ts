import { type Document, isMap, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import { Slo } from "../../core/slo.js";
import { type SloIssue, validateSlo } from "../validate/slo.js";

/** Reading spec files: multi-document YAML with line numbers, so every complaint names file, line and field. */

export type Path = (string | number)[];

export interface SpecIssue {
  file: string;
  line?: number;
  /** The field in the user's spec, dotted (`slos[1].objective`). */
  field?: string;
  message: string;
}

export function formatIssue(i: SpecIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}` : i.file;
  return `${where}: ${i.field ? `${i.field}: ` : ""}${i.message}`;
}

export class SpecError extends Error {
  override name = "SpecError";
  constructor(readonly issues: SpecIssue[]) {
    super(issues.map(formatIssue).join("\n"));
  }
}

export interface SpecDoc {
  file: string;
  /** Position of the document in the file, from 0. */
  index: number;
  doc: Document;
  lines: LineCounter;
  data: unknown;
}

export function pathString(path: Path): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out;
}

/** Splits a YAML stream into documents; syntax errors come back as issues with their line. */
export function parseSpecDocuments(text: string, file: string): { docs: SpecDoc[]; issues: SpecIssue[] } {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  const docs: SpecDoc[] = [];
  const issues: SpecIssue[] = [];
  const list = Array.isArray(parsed) ? parsed : [];
  list.forEach((doc, index) => {
    for (const e of doc.errors) {
      issues.push({ file, line: e.linePos?.[0]?.line, message: `invalid YAML: ${e.message.split("\n")[0]}` });
    }
    if (doc.errors.length > 0) return;
    const data = doc.toJS();
    if (data === null || data === undefined) return;
    docs.push({ file, index, doc, lines, data });
  });
  return { docs, issues };
}

/** Line of the deepest node that exists along the path (the field itself, or its nearest parent). */
export function lineAt(sd: SpecDoc, path: Path): number | undefined {
  let node: unknown = sd.doc.contents;
  let best: Node | undefined = node as Node | undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown })?.value === key);
      if (!pair) break;
      node = pair.value ?? pair.key;
      best = (pair.value ?? pair.key) as Node;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      if (!node) break;
      best = node as Node;
    } else break;
  }
  const offset = best?.range?.[0];
  return offset === undefined ? undefined : sd.lines.linePos(offset).line;
}

/** A typed view of one spec document that records issues against paths as it reads. */
export class Reader {
  readonly issues: SpecIssue[] = [];
  constructor(readonly sd: SpecDoc) {}

  issue(path: Path, message: string) {
    this.issues.push({ file: this.sd.file, line: lineAt(this.sd, path), field: pathString(path), message });
  }

  /** The first of `keys` present in the object (specs accept both snake_case and camelCase, as Sloth does). */
  pick(obj: unknown, path: Path, keys: string[]): { value: unknown; path: Path } {
    if (obj && typeof obj === "object" && !Array.isArray(obj)) {
      for (const k of keys) {
        if (k in (obj as Record<string, unknown>))
          return { value: (obj as Record<string, unknown>)[k], path: [...path, k] };
      }
    }
    return { value: undefined, path: [...path, keys[0]!] };
  }

  string(obj: unknown, path: Path, keys: string[], required = false): string | undefined {
    const { value, path: p } = this.pick(obj, path, keys);
    if (value === undefined || value === null) {
      if (required) this.issue(p, "is required");
      return undefined;
    }
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    this.issue(p, `must be a string, got ${Array.isArray(value) ? "a list" : typeof value}`);
    return undefined;
  }

  number(obj: unknown, path: Path, keys: string[]): number | undefined {
    const { value, path: p } = this.pick(obj, path, keys);
    if (value === undefined || value === null) return undefined;
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
      return Number(value);
    this.issue(p, `must be a number, got ${JSON.stringify(value)}`);
    return undefined;
  }

  bool(obj: unknown, path: Path, keys: string[]): boolean {
    const { value, path: p } = this.pick(obj, path, keys);
    if (value === undefined || value === null) return false;
    if (typeof value === "boolean") return value;
    this.issue(p, `must be true or false, got ${JSON.stringify(value)}`);
    return false;
  }

  object(
    obj: unknown,
    path: Path,
    keys: string[],
  ): { value: Record<string, unknown> | undefined; path: Path } {
    const { value, path: p } = this.pick(obj, path, keys);
    if (value === undefined || value === null) return { value: undefined, path: p };
    if (typeof value === "object" && !Array.isArray(value))
      return { value: value as Record<string, unknown>, path: p };
    this.issue(p, "must be a mapping");
    return { value: undefined, path: p };
  }

  list(obj: unknown, path: Path, keys: string[]): { value: unknown[]; path: Path } {
    const { value, path: p } = this.pick(obj, path, keys);
    if (value === undefined || value === null) return { value: [], path: p };
    if (Array.isArray(value)) return { value, path: p };
    this.issue(p, "must be a list");
    return { value: [], path: p };
  }

  /** A string map (labels, annotations); scalar values are taken as strings, as Go's YAML does. */
  stringMap(obj: unknown, path: Path, keys: string[]): Record<string, string> {
    const { value, path: p } = this.object(obj, path, keys);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value ?? {})) {
      if (typeof v === "string") out[k] = v;
      else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
      else if (v === null) out[k] = "";
      else this.issue([...p, k], "must be a string");
    }
    return out;
  }
}

/**
 * Builds and checks SLOs: the zod contract first, then Sloth's semantic checks; each issue is mapped from
 * the model field back to the spec path through `locate`.
 */
export function finishSlo(r: Reader, candidate: Slo, locate: (field: string) => Path): Slo | undefined {
  const issues: SloIssue[] = validateSlo(candidate);
  if (issues.length === 0) {
    const parsed = Slo.safeParse(candidate);
    if (parsed.success) return parsed.data;
    for (const i of parsed.error.issues) issues.push({ field: i.path.join("."), message: i.message });
  }
  for (const i of issues) r.issue(locate(i.field), i.message);
  return undefined;
}
