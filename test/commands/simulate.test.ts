import { describe, expect, it } from "vitest";
import { simulate } from "../../src/analysis/simulate.js";
import { rumCandidate } from "../../src/analysis/sli.js";
import { renderSimulation } from "../../src/commands/simulate.js";
import type { Sli } from "../../src/core/slo.js";
import { synthHistory } from "../analysis/synthetic.js";

const sim = simulate(synthHistory({ days: 28, perStep: 100, errorRate: 0.001 }), { target: 99.5 });
const header = (service: string, sli: Sli) => renderSimulation(service, sli, sim).split("\n")[0];

describe("simulate's text", () => {
  const availability: Sli = {
    id: "sli-0123456789ab",
    journey: "checkout POST /checkout",
    kind: "availability",
    source: "metrics",
    promql: { errorRatio: "x" },
  };

  it("names the service once, and a journey passing through it after the service", () => {
    expect(header("checkout", availability)).toBe(
      "checkout POST /checkout availability (sli-0123456789ab) at 99.5% over 28d",
    );
    expect(header("checkout", { ...availability, journey: "frontend POST /api/checkout" })).toMatch(
      /^checkout: frontend POST \/api\/checkout availability/,
    );
  });

  it("names the web vital of a browser SLI, and its error budget without float noise", () => {
    const lcp = rumCandidate("frontend GET /", "web-browser", "/", "LCP", "2500").sli;
    expect(header("frontend", lcp)).toMatch(/^frontend GET \/ LCP \(sli-\w+\) at 99\.5% over 28d$/);
    expect(renderSimulation("frontend", lcp, sim)).toMatch(/\n {2}error budget 0\.5% of events\n/);
    expect(sim.errorBudget).toBe(0.005);
  });
});
