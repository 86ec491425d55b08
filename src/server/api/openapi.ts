import { z } from "zod";
import { Capsule } from "../../core/capsule.js";
import { EvidencePointer, InstrumentationRecommendation } from "../../core/evidence.js";
import { Journey, JourneyEdge } from "../../core/journey.js";
import { Proposal, TargetRung } from "../../core/proposal.js";
import { Confidence, Sli } from "../../core/slo.js";
import { OPERATIONS, type Operation } from "./operations.js";
import * as S from "./schemas.js";

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the operation table and its zod schemas (never
 * kept by hand): named schemas become components, query and path parameters are listed one by one.
 */

type Json = Record<string, unknown>;

const ERROR_STATUSES: Record<number, string> = {
  202: "Recorded, not done yet: the policy asks for a second approver, whose approval opens the change",
  400: "The request does not match its schema, or a value is out of range",
  401: "No bearer token, or one that does not verify",
  403: "The token lacks the scope (or, without JWT configuration, the caller is not on loopback)",
  404: "No such resource",
  409: "The proposal was decided already",
  422: "Refused: not enough history, validation failed, or the policy says no",
  503: "A backend (the key set, the job queue, the database) is unavailable; retry after Retry-After",
};

/** Named schemas of the document; query objects are left out (their fields become parameters). */
function components(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>([
    [Proposal, "Proposal"],
    [TargetRung, "TargetRung"],
    [Journey, "Journey"],
    [JourneyEdge, "JourneyEdge"],
    [Capsule, "Capsule"],
    [Sli, "Sli"],
    [Confidence, "Confidence"],
    [EvidencePointer, "EvidencePointer"],
    [InstrumentationRecommendation, "InstrumentationRecommendation"],
  ]);
  for (const [name, schema] of Object.entries(S)) {
    if (schema instanceof z.ZodType && !name.endsWith("Query")) names.set(schema, name);
  }
  return names;
}

const clean = (schema: Json): Json => {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
};

function parameters(op: Operation): Json[] {
  const out: Json[] = [];
  const add = (where: "path" | "query", shape: Record<string, z.ZodType>) => {
    for (const [name, field] of Object.entries(shape)) {
      const schema = clean(z.toJSONSchema(field, { io: "input", unrepresentable: "any" }) as Json);
      const { description, ...rest } = schema;
      out.push({
        name,
        in: where,
        required: where === "path" || !field.safeParse(undefined).success,
        schema: rest,
        ...(typeof description === "string" ? { description } : {}),
      });
    }
  };
  if (op.params) add("path", op.params.shape as Record<string, z.ZodType>);
  if (op.query) add("query", (op.query as z.ZodObject).shape as Record<string, z.ZodType>);
  return out;
}

const jsonContent = (ref: Json) => ({ "application/json": { schema: ref } });

let cached: Json | undefined;

export function openApiDocument(): Json {
  if (cached) return cached;
  const names = components();
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of names) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  }) as { schemas: Record<string, Json> };
  const schemas = Object.fromEntries(Object.entries(generated.schemas).map(([k, v]) => [k, clean(v)]));
  const ref = (schema: z.ZodType): Json => {
    const name = names.get(schema);
    if (!name) throw new Error("every request and response schema of the API has a name in schemas.ts");
    return { $ref: `#/components/schemas/${name}` };
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const op of OPERATIONS) {
    const responses: Record<string, Json> = {
      [String(op.status)]: { description: op.summary, content: jsonContent(ref(op.response)) },
    };
    const statuses = new Set([400, 401, 403, 503, ...(op.errors ?? [])]);
    for (const s of [...statuses].sort((a, b) => a - b))
      responses[String(s)] = { $ref: `#/components/responses/E${s}` };
    paths[op.path] ??= {};
    const path = paths[op.path]!;
    path[op.method.toLowerCase()] = {
      operationId: op.id,
      summary: op.summary,
      security: [{ bearer: [] }],
      "x-scope": op.scopeFor ? `${op.scope} (approve for analyze, approve and reject)` : op.scope,
      parameters: parameters(op),
      ...(op.body ? { requestBody: { required: true, content: jsonContent(ref(op.body)) } } : {}),
      responses,
    };
  }

  cached = {
    openapi: "3.1.0",
    info: {
      title: "SLO-Scout API",
      version: "1.0.0",
      description:
        "Analyses, journeys, proposals (simulate, approve, reject), changes, reviews, capsules and fingerprints. " +
        "Bearer JWT with scopes read, approve, admin in the scope claim; every error is {error:{code,message}}.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      responses: Object.fromEntries(
        Object.entries(ERROR_STATUSES).map(([s, description]) => [
          `E${s}`,
          { description, content: jsonContent({ $ref: "#/components/schemas/ErrorBody" }) },
        ]),
      ),
    },
  };
  return cached;
}
