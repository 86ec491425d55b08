import { readFileSync } from "node:fs";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type LlmSettings,
  llmSettingsFromConfig,
  refineProposals,
} from "../../../src/analysis/llm/refine.js";
import { capsules, INJECTION, journey, makeProposals, numbersOf } from "./fixtures.js";

const BASE = "http://llm.test";
const settings: LlmSettings = {
  baseUrl: `${BASE}/v1`,
  apiKey: "sk-test",
  model: "gpt-4o-mini",
  timeoutMs: 2000,
};
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/analysis/llm/${name}.json`, import.meta.url), "utf8"));

interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
  response_format: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
}

/** Answers the next chat completion with a recorded reply and captures what was sent. */
function reply(name: string, delayMs = 0) {
  const seen: { body?: ChatBody } = {};
  nock(BASE)
    .post("/v1/chat/completions", (body) => {
      seen.body = body as ChatBody;
      return true;
    })
    .delay(delayMs)
    .reply(200, fixture(name));
  return seen;
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("LLM refinement", () => {
  const proposals = makeProposals();
  const find = async () => capsules();

  it("applies names, descriptions, rationale and order from a valid reply; numbers stay", async () => {
    const seen = reply("valid");
    const out = await refineProposals(journey, proposals, { settings, findSimilarCapsules: find });
    expect(out.llm).toEqual({ used: true, model: "gpt-4o-mini" });
    expect(out.proposals.map((p) => p.id)).toEqual(["checkout-latency", "checkout-availability"]);
    const avail = out.proposals.find((p) => p.id === "checkout-availability")!;
    expect(avail.name).toBe("Checkout availability");
    expect(avail.rationale).toMatch(/payment gateway timeouts/);
    expect(avail.sli.description).toMatch(/without a server error/);
    expect(avail.llm?.used).toBe(true);
    expect(out.journey?.name).toBe("Checkout");
    for (const p of proposals)
      expect(numbersOf(out.proposals.find((x) => x.id === p.id)!)).toEqual(numbersOf(p));

    const body = seen.body!;
    expect(body.model).toBe("gpt-4o-mini");
    expect(body.response_format.type).toBe("json_schema");
    expect(body.response_format.json_schema.strict).toBe(true);
    expect(body.messages[0]!.role).toBe("system");
    expect(body.messages[0]!.content).toMatch(/untrusted/i);
    // Few-shot: an example exchange precedes the real request.
    expect(body.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
  });

  it("keeps the deterministic proposals when the reply is not JSON", async () => {
    reply("invalid-json");
    const out = await refineProposals(journey, proposals, { settings, findSimilarCapsules: find });
    expect(out.llm.used).toBe(false);
    expect(out.llm.reason).toMatch(/not valid JSON.*deterministic proposals stand/);
    expect(out.proposals.map((p) => p.id)).toEqual(proposals.map((p) => p.id));
    expect(out.proposals.every((p) => p.name === undefined && p.llm?.reason === out.llm.reason)).toBe(true);
  });

  it("times out and keeps the deterministic proposals", async () => {
    reply("valid", 1500);
    const started = Date.now();
    const out = await refineProposals(journey, proposals, { settings: { ...settings, timeoutMs: 200 } });
    expect(Date.now() - started).toBeLessThan(1400);
    expect(out.llm.used).toBe(false);
    expect(out.llm.reason).toBe("LLM timed out after 200 ms; deterministic proposals stand");
    expect(out.proposals.map(numbersOf)).toEqual(proposals.map(numbersOf));
  });

  it("records a server error as the reason", async () => {
    nock(BASE)
      .post("/v1/chat/completions")
      .reply(500, { error: { message: "model overloaded" } });
    const out = await refineProposals(journey, proposals, { settings });
    expect(out.llm.used).toBe(false);
    expect(out.llm.reason).toMatch(/^LLM request failed: 500/);
  });

  it("ignores a reply that tries to change a target and says so", async () => {
    reply("change-target");
    const out = await refineProposals(journey, proposals, { settings });
    expect(out.llm.used).toBe(false);
    expect(out.llm.reason).toMatch(
      new RegExp(
        `tried to change target of checkout-availability to 99\\.99 \\(deterministic ${proposals[0]!.target.recommended}%\\).*reply ignored`,
      ),
    );
    expect(out.proposals.map(numbersOf)).toEqual(proposals.map(numbersOf));
    expect(out.proposals[0]!.name).toBeUndefined();
  });

  it("sends a prompt-injection capsule only inside the data block, and targets never move", async () => {
    const seen = reply("valid");
    const out = await refineProposals(journey, proposals, { settings, findSimilarCapsules: find });
    const body = seen.body!;
    const last = body.messages.at(-1)!.content;
    const begin = last.match(/<<<BEGIN UNTRUSTED-LOG-DATA-[0-9a-f]+>>>/)![0];
    const end = begin.replace("BEGIN", "END");
    const inside = last.slice(last.indexOf(begin), last.indexOf(end));
    const outside = last.slice(0, last.indexOf(begin)) + last.slice(last.indexOf(end));
    expect(inside).toContain(INJECTION);
    expect(outside).not.toContain("IGNORE ALL PREVIOUS INSTRUCTIONS");
    // Nowhere else in the request: not in the system prompt, not in the few-shot turns.
    const occurrences = JSON.stringify(body).split("IGNORE ALL PREVIOUS INSTRUCTIONS").length - 1;
    expect(occurrences).toBe(1);
    for (const p of proposals)
      expect(numbersOf(out.proposals.find((x) => x.id === p.id)!)).toEqual(numbersOf(p));

    // A model that obeys the injected line is caught: its reply is ignored and the numbers stand.
    reply("injection-obeyed");
    const obeyed = await refineProposals(journey, proposals, { settings, findSimilarCapsules: find });
    expect(obeyed.llm.used).toBe(false);
    expect(obeyed.llm.reason).toMatch(/rationale of checkout-availability states 99\.999%.*reply ignored/);
    expect(obeyed.proposals.map(numbersOf)).toEqual(proposals.map(numbersOf));
    expect(obeyed.proposals.some((p) => p.name === "pwned")).toBe(false);
  });

  it("still refines when capsule retrieval fails, and says so", async () => {
    reply("valid");
    const out = await refineProposals(journey, proposals, {
      settings,
      findSimilarCapsules: async () => {
        throw new Error("vector store down");
      },
    });
    expect(out.llm.used).toBe(true);
    expect(out.llm.reason).toMatch(/capsule retrieval failed \(vector store down\)/);
  });

  it("does nothing without an LLM configured", async () => {
    const out = await refineProposals(journey, proposals, {});
    expect(out.llm).toEqual({ used: false, reason: "no LLM configured; deterministic proposals" });
    expect(
      llmSettingsFromConfig({
        LLM_MODEL: "m",
        LLM_TIMEOUT_MS: 1,
        OPENAI_BASE_URL: undefined,
        OPENAI_API_KEY: undefined,
      }),
    ).toBeUndefined();
    expect(
      llmSettingsFromConfig({
        LLM_MODEL: "m",
        LLM_TIMEOUT_MS: 5,
        OPENAI_BASE_URL: "http://x/v1",
        OPENAI_API_KEY: undefined,
      }),
    ).toEqual({ baseUrl: "http://x/v1", apiKey: undefined, model: "m", timeoutMs: 5 });
  });
});
