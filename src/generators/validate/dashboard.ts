import { readFileSync } from "node:fs";
import type { Dashboard } from "@grafana/schema";
import { Ajv, type ValidateFunction } from "ajv";
import { dashboardQueries } from "../grafana.js";
import { promqlErrors } from "./promql.js";
import type { ArtifactValidator } from "./validator.js";

/**
 * Dashboards are checked against Grafana's dashboard JSON schema — generated from the `Dashboard` type of
 * `@grafana/schema` (Grafana's own types, produced from its CUE kinds) by `npm run schema:grafana` — and
 * every panel query must parse as PromQL once the template variables are filled in.
 */
const SCHEMA_FILE = new URL("../../../schemas/grafana-dashboard.schema.json", import.meta.url);

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(
    JSON.parse(readFileSync(SCHEMA_FILE, "utf8")),
  );
  return validator;
}

/** Template variables replaced by plausible values, so the query can be parsed. */
const fillVariables = (expr: string) =>
  expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) =>
    ["__interval", "__rate_interval", "__range"].includes(a ?? b ?? "") ? "5m" : "x",
  );

export function dashboardErrors(json: string, display: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    return [`${display}:1: not valid JSON (${(err as Error).message})`];
  }
  const out: string[] = [];
  const validate = schemaValidator();
  if (!validate(doc)) {
    for (const e of (validate.errors ?? []).slice(0, 10)) {
      out.push(`${display}:1: dashboard schema: ${e.instancePath || "/"} ${e.message}`);
    }
  }
  for (const expr of dashboardQueries(doc as Dashboard)) {
    for (const e of promqlErrors(fillVariables(expr)))
      out.push(`${display}:1: panel query ${JSON.stringify(expr)}: ${e.message}`);
  }
  return out;
}

export const dashboardValidator: ArtifactValidator = {
  kind: "dashboard",
  matches: (f) => /\.json$/i.test(f.path) && /"panels"\s*:/.test(f.text),
  async validate(files) {
    return files.flatMap((f) => dashboardErrors(f.text, f.display));
  },
};
