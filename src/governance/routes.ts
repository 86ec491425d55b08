import { parse as parseYaml } from "yaml";

/**
 * Alertmanager's routing tree, enough to say which receiver an alert's labels reach: `matchers`
 * (`a="b"`, `a!="b"`, `a=~"re"`, `a!~"re"`), the older `match`/`match_re`, `continue`, and receivers
 * inherited from the parent route — the same walk Alertmanager does.
 */
interface Route {
  receiver?: string;
  matchers?: string[];
  match?: Record<string, string>;
  match_re?: Record<string, string>;
  continue?: boolean;
  routes?: Route[];
}

type Matcher = (labels: Record<string, string>) => boolean;

function parseMatcher(text: string): Matcher {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(\S*))\s*$/.exec(text);
  if (!m) throw new Error(`alertmanager: cannot read matcher ${JSON.stringify(text)}`);
  const [, name, op, quoted, bare] = m as unknown as [
    string,
    string,
    string,
    string | undefined,
    string | undefined,
  ];
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "");
  const re = op === "=~" || op === "!~" ? new RegExp(`^(?:${value})$`) : undefined;
  return (labels) => {
    const v = labels[name] ?? "";
    if (op === "=") return v === value;
    if (op === "!=") return v !== value;
    if (op === "=~") return re!.test(v);
    return !re!.test(v);
  };
}

function matchersOf(r: Route): Matcher[] {
  const out = (r.matchers ?? []).map(parseMatcher);
  for (const [k, v] of Object.entries(r.match ?? {})) out.push((l) => (l[k] ?? "") === String(v));
  for (const [k, v] of Object.entries(r.match_re ?? {})) {
    const re = new RegExp(`^(?:${v})$`);
    out.push((l) => re.test(l[k] ?? ""));
  }
  return out;
}

export interface RouteMatch {
  receiver: string;
  /** The matchers on the path from the root to the route, as written. */
  path: string[];
}

export interface Router {
  route(labels: Record<string, string>): RouteMatch[];
}

export function parseAlertmanagerConfig(text: string): Router {
  const doc = parseYaml(text) as { route?: Route } | null;
  if (!doc?.route) throw new Error("alertmanager config has no route");
  const root = doc.route;
  const walk = (r: Route, labels: Record<string, string>, receiver: string, path: string[]): RouteMatch[] => {
    const own = r.receiver ?? receiver;
    const here = [
      ...path,
      ...(r.matchers ?? []),
      ...Object.entries(r.match ?? {}).map(([k, v]) => `${k}="${v}"`),
    ];
    const found: RouteMatch[] = [];
    for (const child of r.routes ?? []) {
      if (!matchersOf(child).every((m) => m(labels))) continue;
      found.push(...walk(child, labels, own, here));
      if (!child.continue) break;
    }
    return found.length > 0 ? found : [{ receiver: own, path: here }];
  };
  return { route: (labels) => walk(root, labels, root.receiver ?? "(none)", []) };
}
