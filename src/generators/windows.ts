import { parseDocument } from "yaml";
import type { AlertWindow, AlertWindows } from "../core/alert-windows.js";
import { WindowsError } from "../core/alert-windows.js";
import { parseDuration } from "../core/duration.js";

/**
 * Parses one Sloth AlertWindows document (`apiVersion: sloth.slok.dev/v1`, `kind: AlertWindows`) or the
 * older `version: alertWindows/v1` form. Errors name the field and the source.
 */
export function parseAlertWindows(text: string, source = "<windows>"): AlertWindows {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new WindowsError(`${source}: invalid YAML: ${doc.errors[0]!.message}`);
  const root = doc.toJS() as Record<string, unknown> | null;
  if (!root || typeof root !== "object") throw new WindowsError(`${source}: empty AlertWindows document`);
  let spec: Record<string, unknown>;
  if (root.apiVersion === "sloth.slok.dev/v1" && root.kind === "AlertWindows") {
    spec = (root.spec ?? {}) as Record<string, unknown>;
  } else if (root.version === "alertWindows/v1") {
    spec = root;
  } else {
    throw new WindowsError(
      `${source}: not an AlertWindows spec (expected apiVersion: sloth.slok.dev/v1 and kind: AlertWindows)`,
    );
  }
  const duration = (path: string, v: unknown): number => {
    const ms = typeof v === "string" ? parseDuration(v) : undefined;
    if (ms === undefined || ms <= 0) {
      throw new WindowsError(
        `${source}: ${path} must be a Prometheus duration such as 5m or 30d (got ${JSON.stringify(v)})`,
      );
    }
    return ms;
  };
  const window = (path: string, v: unknown): AlertWindow => {
    const o = (v ?? {}) as Record<string, unknown>;
    const pct = o.errorBudgetPercent;
    if (typeof pct !== "number" || !(pct > 0) || pct > 100) {
      throw new WindowsError(
        `${source}: ${path}.errorBudgetPercent must be a number in (0, 100] (got ${JSON.stringify(pct)})`,
      );
    }
    const shortWindowMs = duration(`${path}.shortWindow`, o.shortWindow);
    const longWindowMs = duration(`${path}.longWindow`, o.longWindow);
    if (shortWindowMs >= longWindowMs) {
      throw new WindowsError(`${source}: ${path}.shortWindow must be shorter than ${path}.longWindow`);
    }
    return { errorBudgetPercent: pct, shortWindowMs, longWindowMs };
  };
  const prefix = root.version === "alertWindows/v1" ? "" : "spec.";
  const page = (spec.page ?? {}) as Record<string, unknown>;
  const ticket = (spec.ticket ?? {}) as Record<string, unknown>;
  return {
    periodMs: duration(`${prefix}sloPeriod`, spec.sloPeriod),
    page: { quick: window(`${prefix}page.quick`, page.quick), slow: window(`${prefix}page.slow`, page.slow) },
    ticket: {
      quick: window(`${prefix}ticket.quick`, ticket.quick),
      slow: window(`${prefix}ticket.slow`, ticket.slow),
    },
  };
}
