/**
 * Sampled traces (`kind:"span"`), built per hour: each entry journey is head-sampled with one probability
 * (so span metrics stay unbiased), and a sampled request's outcome is drawn from the plan's counts for its
 * step — so error traces appear in proportion to errors, and during the payment incident most of them end in
 * the PSP. Span trees follow the topology; a few traces lose their browser root or the gateway's spans
 * (partial traces), and inventory's tracing never sets http.route for GET /products/{id} (raw paths).
 */

import type { Attributes, Span, TelemetryEvent } from "../core/telemetry.js";
import {
  BROWSER_AGENTS,
  BROWSER_INFO,
  type ExceptionDef,
  GRPC_STATUS,
  INCIDENT_EXCEPTION,
  MOBILE_AGENTS,
  OWN_EXCEPTIONS,
  PAYMENT_FAILED_EXCEPTION,
} from "./catalog.js";
import type { DemoContext } from "./context.js";
import { clientErrorMs, type StepLatency } from "./latency.js";
import type { Customer } from "./pii.js";
import { CAT_STATUS, CATS, type OpPlan } from "./plan.js";
import { type Rng, rngFor } from "./rng.js";
import { HOUR_MS, stepAt } from "./timeline.js";
import { type OpDef, SHOP_HOST, serviceByName } from "./topology.js";

/** A server span that answered 5xx; logs.ts writes one correlated error line for each. */
export interface ErrorSite {
  opIndex: number;
  /** "own", or the key of the callee whose failure this is. */
  source: string;
  cat: number;
  step: number;
  time: number;
  traceId: string;
  spanId: string;
  customer: Customer;
  orderId: string;
  exception?: ExceptionDef;
}

export interface HourTraces {
  spans: TelemetryEvent[];
  sites: ErrorSite[];
  traces: number;
}

type Outcome = { kind: "ok" } | { kind: "client" } | { kind: "server"; cat: number };

const BROWSER_DROP = 0.04;
const GATEWAY_DROP = 0.02;

function spanStatus(kind: Span["kind"], httpStatus: number): Span["status"] {
  if (httpStatus >= 500) return "error";
  if (kind === "client" && httpStatus >= 400) return "error";
  return "unset";
}

function fillPath(template: string, productId: string): string {
  return template.replace("{id}", productId);
}

function exceptionEvent(time: number, ex: ExceptionDef): Span["events"][number] {
  return {
    name: "exception",
    time,
    attributes: { "exception.type": ex.type, "exception.message": ex.message, "exception.escaped": false },
  };
}

class TraceBuilder {
  readonly spans: TelemetryEvent[] = [];
  readonly sites: ErrorSite[] = [];
  readonly traceId: string;
  readonly productId: string;
  readonly orderId: string;

  constructor(
    private readonly ctx: DemoContext,
    private readonly rng: Rng,
    private readonly step: number,
    private readonly lat: StepLatency,
    readonly customer: Customer,
    private readonly dropped: ReadonlySet<string>,
  ) {
    this.traceId = rng.hex(32);
    this.productId = String(rng.int(1000, 99_999));
    this.orderId = `ord_${rng.alnum(12)}`;
  }

  emit(service: string, span: Span): void {
    if (this.dropped.has(service)) return;
    if (span.parentSpanId === undefined) delete span.parentSpanId;
    if (span.statusMessage === undefined) delete span.statusMessage;
    this.spans.push({
      schemaVersion: 1,
      kind: "span",
      service,
      time: span.startTime,
      attributes: this.ctx.resource(service, span.startTime),
      span,
    });
  }

  newSpanId(): string {
    return this.rng.hex(16);
  }

  /** Draws where a 5xx of category `cat` at op p started: "own" or a callee key. */
  private errorSource(p: OpPlan, cat: number): string {
    const keys = ["own", ...p.prop.keys()];
    const weights = [p.own[cat]![this.step]!, ...[...p.prop.values()].map((a) => a[cat]![this.step]!)];
    const k = this.rng.weighted(weights);
    return k < 0 ? "own" : keys[k]!;
  }

  private exceptionFor(op: OpDef, cat: number): ExceptionDef {
    if (cat === 2) return INCIDENT_EXCEPTION;
    return this.rng.pick(OWN_EXCEPTIONS[op.service] ?? [{ type: "Error", message: "internal error" }]);
  }

  /** Outcome of a request to p at this step, drawn from the plan's counts. */
  drawOutcome(p: OpPlan): Outcome {
    const n = p.n[this.step]!;
    if (n === 0) return { kind: "ok" };
    let x = this.rng.next() * n;
    x -= p.c4[this.step]!;
    if (x < 0) return { kind: "client" };
    for (let cat = 0; cat < CATS; cat++) {
      x -= p.err[cat]![this.step]!;
      if (x < 0) return { kind: "server", cat };
    }
    return { kind: "ok" };
  }

  /** One request handled by op p (server or consumer span and everything under it); returns its end time. */
  serve(
    p: OpPlan,
    parentSpanId: string | undefined,
    start: number,
    outcome: Outcome,
    rootAttrs?: Attributes,
  ): number {
    const op = p.op;
    const service = serviceByName(op.service);
    const spanId = this.newSpanId();
    const rng = this.rng;
    const self = rng.lognormal(this.lat.selfMs[p.index]!, op.sigma * 0.6);
    const events: Span["events"] = [];
    let cursor = start + self * 0.4;
    let status = op.successStatus;
    let failed = false;
    let source: string | undefined;
    let exception: ExceptionDef | undefined;

    if (outcome.kind === "client") {
      status = op.clientErrorStatus ?? 400;
      cursor = start + rng.lognormal(clientErrorMs(p, this.lat), 0.4);
    } else {
      let failAt = -1;
      if (outcome.kind === "server") {
        status = CAT_STATUS[outcome.cat]!;
        source = this.errorSource(p, outcome.cat);
        if (source === "own") {
          exception = this.exceptionFor(op, outcome.cat);
          const external = op.steps.findIndex((s) => "external" in s);
          failAt = outcome.cat === 2 && external >= 0 ? external : rng.int(0, op.steps.length + 1);
        }
      }
      for (let s = 0; s < op.steps.length; s++) {
        const step = op.steps[s]!;
        const stepMedian = this.lat.stepMs[p.index]![s]!;
        if (s === failAt) {
          if ("db" in step || "external" in step) {
            cursor = this.auxSpan(p, step, spanId, cursor, stepMedian, exception);
          }
          failed = true;
          break;
        }
        if ("call" in step) {
          const child = this.ctx.plan.byKey.get(step.call)!;
          const childOutcome: Outcome =
            outcome.kind === "server" && source === step.call
              ? { kind: "server", cat: outcome.cat }
              : { kind: "ok" };
          cursor = this.call(p, child, spanId, cursor, childOutcome);
          if (childOutcome.kind === "server") {
            failed = true;
            if (step.call === "payment POST /v1/charges") exception = PAYMENT_FAILED_EXCEPTION;
            break;
          }
        } else if ("publish" in step) {
          cursor = this.publish(p, step.publish, step.consumer, spanId, cursor);
        } else {
          cursor = this.auxSpan(p, step, spanId, cursor, stepMedian, undefined);
        }
      }
      if (outcome.kind === "server" && !failed) failed = true;
    }
    const end = cursor + self * 0.6;
    if (exception) events.push(exceptionEvent(end - self * 0.3, exception));

    const kind: Span["kind"] = op.protocol === "messaging" ? "consumer" : "server";
    const attributes: Attributes = { ...rootAttrs };
    let name: string;
    const path = fillPath(op.pathTemplate, this.productId);
    if (op.protocol === "http") {
      name = op.routeInTraces ? `${op.method} ${op.route}` : op.method;
      attributes["http.request.method"] = op.method;
      if (op.routeInTraces) attributes["http.route"] = op.route;
      attributes["url.path"] = path;
      attributes["url.scheme"] = "http";
      attributes["server.address"] = op.service === "frontend" ? SHOP_HOST : service.host!;
      attributes["server.port"] = service.port!;
      attributes["network.protocol.version"] = "1.1";
      attributes["http.response.status_code"] = status;
      if (status >= 500) attributes["error.type"] = String(status);
    } else if (op.protocol === "grpc") {
      name = `${op.route}/${op.method}`;
      attributes["rpc.system"] = "grpc";
      attributes["rpc.service"] = op.route;
      attributes["rpc.method"] = op.method;
      attributes["rpc.grpc.status_code"] = grpcCode(status);
      attributes["server.address"] = service.host!;
      attributes["server.port"] = service.port!;
      if (status >= 500) attributes["error.type"] = String(grpcCode(status));
    } else {
      name = `process ${op.route}`;
      attributes["messaging.system"] = "kafka";
      attributes["messaging.destination.name"] = op.route;
      attributes["messaging.operation.type"] = "process";
      attributes["messaging.operation.name"] = "process";
      attributes["messaging.consumer.group.name"] = op.service;
      attributes["messaging.destination.partition.id"] = String(rng.int(0, 6));
      attributes["messaging.kafka.offset"] = rng.int(100_000, 9_000_000);
      attributes["messaging.kafka.message.key"] = this.orderId;
      if (failed) attributes["error.type"] = exception?.type ?? "_OTHER";
    }
    const spanStatusValue =
      op.protocol === "messaging" ? (failed ? "error" : "unset") : spanStatus(kind, status);
    this.emit(op.service, {
      traceId: this.traceId,
      spanId,
      parentSpanId,
      name,
      kind,
      startTime: start,
      endTime: end,
      status: spanStatusValue,
      statusMessage: exception ? `${exception.type}: ${exception.message}` : undefined,
      attributes,
      events,
    });
    if (spanStatusValue === "error" && outcome.kind === "server") {
      this.sites.push({
        opIndex: p.index,
        source: source ?? "own",
        cat: outcome.cat,
        step: this.step,
        time: end,
        traceId: this.traceId,
        spanId,
        customer: this.customer,
        orderId: this.orderId,
        exception,
      });
    }
    return end;
  }

  /** Client span from p to child, then the child's server span under it. */
  private call(p: OpPlan, child: OpPlan, parentSpanId: string, start: number, outcome: Outcome): number {
    const clientId = this.newSpanId();
    const net = () => this.rng.lognormal(0.5, 0.5);
    const serverStart = start + net();
    const childEnd = this.serve(child, clientId, serverStart, outcome);
    const end = childEnd + net();
    const c = child.op;
    const svc = serviceByName(c.service);
    const status = outcome.kind === "server" ? CAT_STATUS[outcome.cat]! : c.successStatus;
    const attributes: Attributes = { "server.address": svc.host!, "server.port": svc.port! };
    let name: string;
    if (c.protocol === "grpc") {
      name = `${c.route}/${c.method}`;
      attributes["rpc.system"] = "grpc";
      attributes["rpc.service"] = c.route;
      attributes["rpc.method"] = c.method;
      attributes["rpc.grpc.status_code"] = grpcCode(status);
    } else {
      name = `${c.method} ${c.route}`;
      attributes["http.request.method"] = c.method;
      attributes["url.full"] = `http://${svc.host}:${svc.port}${fillPath(c.pathTemplate, this.productId)}`;
      attributes["url.template"] = c.route;
      attributes["http.response.status_code"] = status;
    }
    if (status >= 500)
      attributes["error.type"] = c.protocol === "grpc" ? String(grpcCode(status)) : String(status);
    this.emit(p.op.service, {
      traceId: this.traceId,
      spanId: clientId,
      parentSpanId,
      name,
      kind: "client",
      startTime: start,
      endTime: end,
      status: spanStatus("client", status),
      attributes,
      events: [],
    });
    return end;
  }

  /** A database or external-API client span of p. */
  private auxSpan(
    p: OpPlan,
    step: OpDef["steps"][number],
    parentSpanId: string,
    start: number,
    median: number,
    failure: ExceptionDef | undefined,
  ): number {
    const attributes: Attributes = {};
    let name: string;
    let duration: number;
    let failed = failure !== undefined;
    if ("db" in step) {
      const pg = serviceByName("postgresql");
      name = `${step.db} ${step.table}`;
      duration = this.rng.lognormal(median, 0.5);
      Object.assign(attributes, {
        "db.system": "postgresql",
        "db.system.name": "postgresql",
        "db.namespace": "shop",
        "db.operation.name": step.db,
        "db.collection.name": step.table,
        "db.query.text": step.query,
        "server.address": pg.host!,
        "server.port": pg.port!,
      });
      if (failed) attributes["error.type"] = failure!.type;
    } else if ("external" in step) {
      const ext = serviceByName(step.external);
      const incident = failure === INCIDENT_EXCEPTION;
      const status = incident ? 503 : 201;
      const inc = this.ctx.plan.incidents.find((x) => x.opIndex === p.index);
      duration = incident
        ? this.rng.lognormal(inc?.def.errorMedianMs ?? 3000, 0.25)
        : this.rng.lognormal(median, 0.35);
      name = step.method;
      failed = incident;
      Object.assign(attributes, {
        "http.request.method": step.method,
        "url.full": `https://${ext.host}${step.path}`,
        "server.address": ext.host!,
        "server.port": ext.port!,
        "http.response.status_code": status,
        "peer.service": step.external,
      });
      if (incident) attributes["error.type"] = "503";
    } else {
      throw new Error("auxSpan: not a db or external step");
    }
    const end = start + duration;
    this.emit(p.op.service, {
      traceId: this.traceId,
      spanId: this.newSpanId(),
      parentSpanId,
      name,
      kind: "client",
      startTime: start,
      endTime: end,
      status: failed ? "error" : "unset",
      attributes,
      events: failed && failure && "db" in step ? [exceptionEvent(end, failure)] : [],
    });
    return end;
  }

  /** Producer span of p, and the consumer's processing span (asynchronous: p does not wait for it). */
  private publish(
    p: OpPlan,
    destination: string,
    consumerKey: string,
    parentSpanId: string,
    start: number,
  ): number {
    const producerId = this.newSpanId();
    const end = start + this.rng.lognormal(2, 0.4);
    const kafka = serviceByName("kafka");
    this.emit(p.op.service, {
      traceId: this.traceId,
      spanId: producerId,
      parentSpanId,
      name: `publish ${destination}`,
      kind: "producer",
      startTime: start,
      endTime: end,
      status: "unset",
      attributes: {
        "messaging.system": "kafka",
        "messaging.destination.name": destination,
        "messaging.operation.type": "publish",
        "messaging.operation.name": "send",
        "messaging.kafka.message.key": this.orderId,
        "messaging.message.id": this.rng.hex(16),
        "server.address": kafka.host!,
        "server.port": kafka.port!,
      },
      events: [],
    });
    const consumer = this.ctx.plan.byKey.get(consumerKey)!;
    const lag = this.rng.lognormal(150, 0.8);
    this.serve(consumer, producerId, end + lag, this.drawOutcome(consumer));
    return end;
  }
}

function grpcCode(httpStatus: number): number {
  if (httpStatus === 503) return GRPC_STATUS.UNAVAILABLE;
  if (httpStatus >= 500) return GRPC_STATUS.INTERNAL;
  return GRPC_STATUS.OK;
}

/** Every sampled trace whose root starts in hour h. */
export function tracesForHour(ctx: DemoContext, h: number): HourTraces {
  const { plan, pool } = ctx;
  const tl = plan.timeline;
  const hourStart = ctx.hourStart(h);
  const first = h * tl.stepsPerHour;
  const out: HourTraces = { spans: [], sites: [], traces: 0 };
  plan.entries.forEach((entry, j) => {
    let hourCount = 0;
    for (let i = first; i < first + tl.stepsPerHour; i++) hourCount += entry.n[i]!;
    const pick = rngFor(plan.seed, "sample", h, j);
    const k = Math.floor(hourCount * ctx.traceRatio[j]! + pick.next());
    const root = plan.byKey.get(entry.def.op)!;
    for (let t = 0; t < k; t++) {
      const rng = rngFor(plan.seed, "trace", h, j, t);
      const start = hourStart + 1 + Math.floor(rng.next() * (HOUR_MS - 2));
      const step = stepAt(tl, start);
      const customer = rng.pick(pool.customers);
      const browserIdx = rng.int(0, BROWSER_AGENTS.length);
      const dropped = new Set<string>();
      if (entry.def.client === "browser") {
        if (rng.chance(BROWSER_DROP)) dropped.add("web-browser");
        if (rng.chance(GATEWAY_DROP)) dropped.add("api-gateway");
      }
      const b = new TraceBuilder(ctx, rng, step, ctx.latency(step), customer, dropped);
      const outcome = b.drawOutcome(root);
      if (entry.def.client === "browser") {
        const browserSpan = b.newSpanId();
        const serverStart = start + rng.lognormal(25, 0.5);
        const ua = BROWSER_AGENTS[browserIdx]!;
        const serverEnd = b.serve(root, browserSpan, serverStart, outcome, {
          "client.address": customer.ip,
          "user_agent.original": ua,
        });
        const end = serverEnd + rng.lognormal(20, 0.5);
        const status =
          outcome.kind === "client"
            ? (root.op.clientErrorStatus ?? 400)
            : outcome.kind === "server"
              ? CAT_STATUS[outcome.cat]!
              : root.op.successStatus;
        const path = fillPath(root.op.pathTemplate, b.productId);
        const info = BROWSER_INFO[browserIdx]!;
        if (!dropped.has("web-browser")) {
          out.spans.push({
            schemaVersion: 1,
            kind: "span",
            service: "web-browser",
            time: start,
            attributes: {
              ...ctx.resource("web-browser", start),
              "browser.name": info.name,
              "browser.version": info.version,
              "browser.platform": info.os,
              "browser.mobile": info.mobile,
              "user_agent.original": ua,
            },
            span: {
              traceId: b.traceId,
              spanId: browserSpan,
              name: root.op.method,
              kind: "client",
              startTime: start,
              endTime: end,
              status: spanStatus("client", status),
              attributes: {
                "http.request.method": root.op.method,
                "url.full": `https://${SHOP_HOST}${path}`,
                "server.address": SHOP_HOST,
                "server.port": 443,
                "http.response.status_code": status,
                "user_agent.original": ua,
                "session.id": rng.hex(16),
                ...(entry.def.page ? { "page.route": entry.def.page } : {}),
              },
              events: [],
            },
          });
        }
      } else {
        b.serve(root, undefined, start, outcome, {
          "client.address": customer.ip,
          "user_agent.original": rng.pick(MOBILE_AGENTS),
        });
      }
      out.spans.push(...b.spans);
      out.sites.push(...b.sites);
      out.traces++;
    }
  });
  return out;
}
