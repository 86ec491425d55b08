import { describe, expect, it } from "vitest";
import { alertsOf, serviceOf } from "../../src/governance/rules.js";

const file = (content: string) => [{ path: "monitoring/slo/rules.yml", content }];

describe("the service an alert is about", () => {
  it("reads its labels first, then the matchers of its expression", () => {
    const [labelled, sloth] = alertsOf(
      file(`groups:
- name: g
  rules:
  - alert: A
    expr: up{service="x"} == 0
    labels: { service: cart }
  - alert: B
    expr: max(slo:sli_error:ratio_rate5m{sloth_id="checkout-a", sloth_service="checkout"} > 0.1) without (sloth_window)
`),
    );
    expect(serviceOf(labelled!)).toBe("cart");
    expect(serviceOf(sloth!)).toBe("checkout");
  });

  it("falls back to the labels of the recording rules the expression selects", () => {
    const [alert] = alertsOf(
      file(`groups:
- name: rec
  rules:
  - record: slo:sli_error:ratio_rate5m
    expr: vector(0)
    labels: { sloth_id: cart-a, sloth_service: cart }
  - record: slo:sli_error:ratio_rate5m
    expr: vector(0)
    labels: { sloth_id: checkout-a, sloth_service: checkout }
- name: alerts
  rules:
  - alert: Custom
    expr: slo:sli_error:ratio_rate5m{sloth_id="checkout-a"} > 0.1
`),
    );
    expect(serviceOf(alert!)).toBe("checkout");
  });

  it("names none when nothing in the rule names a service", () => {
    const [alert] = alertsOf(file("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n"));
    expect(serviceOf(alert!)).toBeUndefined();
  });
});
