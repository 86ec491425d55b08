import { z } from "zod";
import { Capsule } from "../../core/capsule.js";
import { InstrumentationRecommendation } from "../../core/evidence.js";
import { Journey } from "../../core/journey.js";
import { Proposal, ProposalSummary as StoredSummary } from "../../core/proposal.js";
import { Sli } from "../../core/slo.js";

/**
 * The REST API's request and response schemas, defined once: requests are parsed with them and the OpenAPI
 * document (src/server/api/openapi.ts) is generated from them. Domain shapes come from src/core.
 */

// --- identifiers and parameters -------------------------------------------------------------------

/** Service names come from telemetry; anything printable without spaces, bounded. */
export const ServiceName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s\p{Cc}]+$/u, { message: "a service name has no spaces or control characters" });
export const ProposalId = z
  .string()
  .regex(/^prop-[0-9a-f]{12}$/, { message: "a proposal id looks like prop-1a2b3c4d5e6f" });
export const AnalysisId = z
  .string()
  .regex(/^ana-[0-9a-f]{16}$/, { message: "an analysis id looks like ana-0123456789abcdef" });
export const ChangeId = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$/, { message: "a change id is a short word" });
export const CapsuleId = z
  .string()
  .regex(/^[0-9a-f]{64}:\d{1,15}$/, { message: "a capsule id is <sha256 fingerprint>:<window start ms>" });
/** Percent, between 0 and 100 exclusive. */
export const Target = z.number().gt(0).lt(100);
export const Window = z
  .string()
  .regex(/^\d{1,3}[dw]$/, { message: "a window is days or weeks, e.g. 28d or 4w" })
  .describe("SLO window, e.g. 28d");
const Duration = z.string().regex(/^\d{1,6}[smhd]$/, { message: "a duration like 5m or 1h" });
/** Query values arrive as text. */
const EpochMs = z
  .string()
  .regex(/^\d{1,15}$/, { message: "epoch milliseconds" })
  .transform(Number)
  .describe("epoch milliseconds");

export const PageQuery = z.object({
  cursor: z
    .string()
    .max(200)
    .optional()
    .describe("the nextCursor of the previous page; absent for the first page"),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { message: "a whole number 1..500" })
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional()
    .describe("items per page, 1..500 (default 50)"),
});

const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().optional().describe("pass as ?cursor= for the next page; absent on the last"),
  });

// --- errors -----------------------------------------------------------------------------------------

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.string()).optional(),
  }),
});

// --- services, journeys, capsules -------------------------------------------------------------------

export const ServiceStatus = z.object({
  name: z.string(),
  signals: z.array(z.string()),
  firstSeen: z.number().optional(),
  lastSeen: z.number().optional(),
  historyDays: z.number(),
  journeys: z.number().int(),
  proposals: z.record(z.string(), z.number().int()),
});
export const ServicePage = page(ServiceStatus);
export const JourneyPage = page(Journey);
export const CapsuleView = Capsule.omit({ embedding: true });
export const CapsulePage = page(CapsuleView);
export const CapsuleQuery = PageQuery.extend({
  service: ServiceName.optional(),
  since: EpochMs.optional().describe("windows starting at or after (epoch ms)"),
  until: EpochMs.optional().describe("windows starting before (epoch ms)"),
});

// --- analyses ---------------------------------------------------------------------------------------

export const AnalysisRequest = z
  .object({
    service: ServiceName,
    window: Window.optional(),
    journey: z.string().min(1).max(300).optional().describe("only proposals for this journey key"),
    end: z.number().int().nonnegative().optional().describe("end of the analysed history (epoch ms)"),
    step: Duration.optional().describe("history resolution; must divide a day (default 5m)"),
    quantile: z.number().gt(0).lt(1).optional().describe("latency threshold quantile (default 0.95)"),
    maxJourneys: z.number().int().min(1).max(50).optional(),
    llm: z.boolean().optional().describe("refine names and rationale with the configured LLM (default true)"),
    save: z.boolean().optional().describe("store the journeys and proposals (default true)"),
  })
  .strict();

export const AnalysisResult = z.object({
  service: z.string(),
  window: z.string(),
  range: z.object({ start: z.number(), end: z.number(), stepMs: z.number() }),
  journeys: z.array(Journey),
  proposals: z.array(Proposal),
  recommendations: z.array(InstrumentationRecommendation),
  skipped: z.array(z.object({ journey: z.string(), kind: z.string(), reason: z.string() })),
  warnings: z.array(z.string()),
});

export const Refusal = z.object({
  code: z.string(),
  reason: z.string(),
  details: z.array(z.string()).optional(),
});

export const AnalysisJob = z.object({
  id: z.string(),
  service: z.string(),
  status: z.enum(["queued", "running", "done", "refused", "failed"]),
  createdAt: z.number(),
  updatedAt: z.number(),
  result: AnalysisResult.optional().describe("when done: the shape of slo-scout analyze --json"),
  refusal: Refusal.optional().describe("when refused or failed"),
});

// --- proposals --------------------------------------------------------------------------------------

export const ProposalQuery = PageQuery.extend({
  service: ServiceName.optional(),
  status: z.enum(["proposed", "approved", "rejected", "committed"]).optional(),
});
export const ProposalSummary = StoredSummary.extend({
  links: z
    .object({
      self: z.string().describe("the whole proposal: GET it for the ladder, confidence parts and evidence"),
      html: z.string().describe("the proposal's page in the web console"),
    })
    .describe("paths on this server"),
}).describe("A proposal as lists show it; GET links.self for the whole proposal");
export const ProposalPage = page(ProposalSummary);
export const ProposalPatch = z
  .object({
    target: Target.optional().describe("recommended target in percent, e.g. 99.9"),
    note: z.string().max(2000).optional(),
  })
  .strict()
  .refine((p) => p.target !== undefined || p.note !== undefined, { message: "give a target or a note" });
export const SimulateRequest = z.object({ target: Target }).strict();
export const ApproveRequest = z.object({ target: Target.optional() }).strict();
export const RejectRequest = z.object({ reason: z.string().max(2000).optional() }).strict();

const SimulationPoint = z.object({ t: z.number() }).catchall(z.unknown());
export const Simulation = z.object({
  target: z.number(),
  windowDays: z.number(),
  errorBudget: z.number(),
  burnRateWindows: z.array(z.record(z.string(), z.unknown())),
  points: z.array(SimulationPoint),
  breaches: z.array(z.object({ start: z.number(), end: z.number(), minBudgetRemaining: z.number() })),
  alerts: z.array(
    z.object({
      severity: z.string(),
      start: z.number(),
      end: z.number(),
      peakBurnRate: z.number(),
      windows: z.array(z.string()),
    }),
  ),
  summary: z.object({
    attainment: z.number(),
    pages: z.number(),
    tickets: z.number(),
    breachMs: z.number(),
    minBudgetRemaining: z.number(),
    finalBudgetRemaining: z.number(),
  }),
  warnings: z.array(z.string()),
});
export const SliSimulation = z.object({
  service: z.string(),
  sli: Sli,
  window: z.string(),
  simulation: Simulation,
});

export const SimulationRequest = z
  .object({
    service: ServiceName,
    sli: z.string().regex(/^sli-[0-9a-f]{6,32}$/, { message: "an SLI id looks like sli-3f2a9c0d1b2e" }),
    target: Target,
    window: Window.optional(),
    end: z.number().int().nonnegative().optional(),
    step: Duration.optional(),
    every: Duration.optional().describe("spacing of the budget curve (default 1h)"),
  })
  .strict();

// --- changes, reviews -------------------------------------------------------------------------------

export const ChangeFile = z.object({
  path: z
    .string()
    .min(1)
    .max(300)
    .regex(/^\.?[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/\.?[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/, {
      message: "a repository-relative path (no leading /, no . or .. segments)",
    }),
  content: z.string().max(2_000_000),
});
export const Change = z.object({
  id: z.string(),
  branch: z.string(),
  url: z.string(),
  commit: z.string(),
  files: z.array(z.string()),
  title: z.string(),
  body: z.string(),
});
const BlastRadius = z.object({
  files: z.array(z.object({ path: z.string(), status: z.string() })),
  services: z.array(z.string()),
  journeys: z.array(z.string()),
  dependents: z.array(z.string()),
  alerts: z.object({
    added: z.array(z.record(z.string(), z.unknown())),
    changed: z.array(z.record(z.string(), z.unknown())),
    removed: z.array(z.record(z.string(), z.unknown())),
    unchanged: z.number(),
  }),
  pagesPerMonth: z.number().optional(),
  pagesPerMonthByService: z.record(z.string(), z.number()).optional(),
  routes: z.array(z.object({ receiver: z.string(), via: z.string(), alerts: z.array(z.string()) })),
});
export const ApprovedChange = z.object({
  service: z.string(),
  change: Change,
  proposals: z.array(Proposal),
  files: z.array(z.string()),
  blastRadius: BlastRadius,
  notes: z.array(z.string()),
});
export const Approval = z.object({ changes: z.array(ApprovedChange) });
export const ChangeRecord = z.object({
  id: z.string(),
  service: z.string(),
  branch: z.string(),
  url: z.string(),
  commit: z.string().describe("the commit the (latest) approval wrote"),
  files: z.array(z.string()),
  proposals: z.array(z.string()),
  at: z.number().describe("epoch ms of the approval"),
  by: z.string().describe("<source>:<login> of who approved"),
});
export const ChangeQuery = PageQuery.extend({ service: ServiceName.optional() });
export const ChangePage = page(ChangeRecord);
export const ChangeDetails = z.object({ change: Change, approvals: z.array(ChangeRecord) });

export const ReviewRequest = z
  .object({
    files: z.array(ChangeFile).min(1).max(50),
    baseRef: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/, { message: "a branch, tag or commit" })
      .optional(),
  })
  .strict();
export const Review = z.object({
  ok: z.boolean(),
  regeneration: z.array(
    z.object({
      spec: z.string(),
      service: z.string(),
      period: z.string(),
      files: z.array(z.object({ path: z.string(), status: z.enum(["current", "stale", "missing"]) })),
    }),
  ),
  assessment: z.object({
    validation: z
      .object({ ok: z.boolean(), messages: z.array(z.string()), notes: z.array(z.string()) })
      .catchall(z.unknown()),
    violations: z.array(z.object({ rule: z.string(), message: z.string() }).catchall(z.unknown())),
    blastRadius: BlastRadius,
    policySource: z.string(),
  }),
});

// --- fingerprint, conversations ---------------------------------------------------------------------

export const FingerprintRequest = z
  .object({
    lines: z.array(z.string().max(65_536)).min(1).max(10_000),
    service: ServiceName.optional(),
    raw: z.boolean().optional().describe("strip a syslog/log4j-style header before mining"),
  })
  .strict();
export const FingerprintResult = z.object({
  lines: z.array(z.object({ fingerprint: z.string(), template: z.string(), message: z.string() })),
});

export const ConversationRequest = z
  .object({
    text: z.string().min(1).max(1000).describe('one command of the chat language, e.g. "analyze checkout"'),
  })
  .strict();
export const ConversationReply = z.object({
  ok: z.boolean(),
  correlationId: z.string(),
  markdown: z.string().describe("the reply the bots would post"),
});
