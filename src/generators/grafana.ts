import { createHash } from "node:crypto";
import type { Dashboard, Panel, RowPanel, VariableModel } from "@grafana/schema";
import { formatDuration } from "../core/duration.js";
import { LABEL, METRIC, type SloRules, sliErrorMetric } from "./model.js";

/**
 * One Grafana dashboard per service: per SLO a row with the SLI over the period, the error budget left,
 * the burn rate in every alert window and the alerts' state. It reads only the recording rules the
 * generators write (Sloth's names), with `$datasource` and `$service` variables.
 */

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const DS = { type: "prometheus", uid: "${datasource}" };

const sel = (slo: SloRules) => `{${LABEL.service}="$service", ${LABEL.id}="${slo.slo.id}"}`;

let nextId = 1;

function stat(
  title: string,
  expr: string,
  unit: string,
  x: number,
  y: number,
  thresholds: [string, number | null][],
): Panel {
  return {
    id: nextId++,
    type: "stat",
    title,
    datasource: DS,
    gridPos: { h: 5, w: 6, x, y },
    targets: [{ refId: "A", datasource: DS, expr, instant: true } as never],
    fieldConfig: {
      defaults: {
        unit,
        decimals: 3,
        thresholds: {
          mode: "absolute" as never,
          steps: thresholds.map(([color, value]) => ({ color, value })),
        },
      },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "value" },
  };
}

function timeseries(
  title: string,
  targets: { expr: string; legend: string }[],
  unit: string,
  x: number,
  y: number,
  w: number,
): Panel {
  return {
    id: nextId++,
    type: "timeseries",
    title,
    datasource: DS,
    gridPos: { h: 8, w, x, y },
    targets: targets.map(
      (t, i) =>
        ({
          refId: String.fromCharCode(65 + i),
          datasource: DS,
          expr: t.expr,
          legendFormat: t.legend,
        }) as never,
    ),
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: { legend: { displayMode: "table", placement: "right", calcs: ["lastNotNull", "max"] } },
  };
}

/** Every PromQL expression a dashboard's panels run, for validation. */
export function dashboardQueries(d: Dashboard): string[] {
  const out: string[] = [];
  const visit = (p: Panel | RowPanel) => {
    for (const t of ((p as Panel).targets ?? []) as { expr?: string }[]) if (t.expr) out.push(t.expr);
    for (const inner of (p as RowPanel).panels ?? []) visit(inner as Panel);
  };
  for (const p of d.panels ?? []) visit(p);
  return out;
}

export function buildDashboard(service: string, slos: SloRules[]): Dashboard {
  nextId = 1;
  const panels: (Panel | RowPanel)[] = [];
  let y = 0;
  for (const rules of slos) {
    const s = rules.slo;
    const q = sel(rules);
    const period = formatDuration(rules.windows.periodMs);
    panels.push({
      id: nextId++,
      type: "row",
      title: `${s.name} — objective ${s.objective}% over ${period}`,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    const objective = s.objective / 100;
    panels.push(
      stat(`SLI (${period})`, `1 - max(${sliErrorMetric(rules.windows.periodMs)}${q})`, "percentunit", 0, y, [
        ["red", null],
        ["green", objective],
      ]),
      stat("Error budget remaining", `max(${METRIC.periodBudgetRemaining}${q})`, "percentunit", 6, y, [
        ["red", null],
        ["orange", 0],
        ["green", 0.25],
      ]),
      stat("Current burn rate", `max(${METRIC.currentBurnRate}${q})`, "none", 12, y, [
        ["green", null],
        ["orange", 1],
        ["red", rules.windows.pageSlow.factor],
      ]),
      stat(
        "Alerts firing",
        `count(ALERTS{${LABEL.id}="${s.id}", alertstate="firing"}) or vector(0)`,
        "none",
        18,
        y,
        [
          ["green", null],
          ["red", 1],
        ],
      ),
    );
    y += 5;
    const windows = [
      ...new Set(
        [
          rules.windows.pageQuick,
          rules.windows.pageSlow,
          rules.windows.ticketQuick,
          rules.windows.ticketSlow,
        ].flatMap((w) => [w.shortWindowMs, w.longWindowMs]),
      ),
    ].sort((a, b) => a - b);
    panels.push(
      timeseries(
        "Burn rate per window (1 = spending exactly the budget over the period)",
        windows.map((ms) => ({
          expr: `max(${sliErrorMetric(ms)}${q}) / on() group_left() max(${METRIC.errorBudget}${q})`,
          legend: formatDuration(ms),
        })),
        "none",
        0,
        y,
        16,
      ),
      timeseries(
        "Alert state",
        [
          {
            expr: `sum by (alertname, ${LABEL.severity}) (ALERTS{${LABEL.id}="${s.id}", alertstate="firing"})`,
            legend: `{{alertname}} {{${LABEL.severity}}}`,
          },
        ],
        "none",
        16,
        y,
        8,
      ),
    );
    y += 8;
  }
  const variable = (v: VariableModel) => v;
  const uid = createHash("sha256").update(`slo-scout:${service}`).digest("hex").slice(0, 12);
  return {
    uid: `slo-${uid}`,
    title: `SLOs / ${service}`,
    description: `Service level objectives of ${service}, generated by SLO-Scout from its recording rules.`,
    tags: ["slo", "slo-scout", service],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: "1m",
    time: { from: "now-7d", to: "now" },
    timezone: "browser",
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        variable({
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
        } as VariableModel),
        variable({
          name: "service",
          label: "Service",
          type: "query",
          datasource: DS,
          query: `label_values(${METRIC.objective}, ${LABEL.service})`,
          current: { text: service, value: service },
          refresh: 1,
        } as VariableModel),
      ],
    },
    panels,
  };
}
