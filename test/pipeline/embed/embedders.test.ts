import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { HashingEmbedder } from "../../../src/pipeline/embed/hashing.js";
import { OpenAiEmbedder } from "../../../src/pipeline/embed/openai.js";

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe("HashingEmbedder", () => {
  it("is deterministic, 384-dim and unit length", async () => {
    const e = new HashingEmbedder();
    const [a, b] = await e.embed(["payment declined for order <*>", "payment declined for order <*>"]);
    expect(a).toEqual(b);
    expect(a).toHaveLength(384);
    expect(cosine(a!, a!)).toBeCloseTo(1, 9);
  });

  it("puts templates that share words closer than unrelated ones", () => {
    const e = new HashingEmbedder();
    const base = e.embedOne("Payment gateway timeout after <*> ms");
    const near = e.embedOne("payment gateway timeout while charging card");
    const far = e.embedOne("inventory cache warmed with <*> items");
    expect(cosine(base, near)).toBeGreaterThan(cosine(base, far) + 0.3);
  });

  it("gives an all-zero vector for text with no words rather than NaN", () => {
    expect(new HashingEmbedder(8).embedOne("<*> 123 <*>")).toEqual(new Array(8).fill(0));
  });
});

describe("OpenAiEmbedder", () => {
  afterEach(() => nock.cleanAll());
  const api = "http://embeddings.test/v1";
  const reply = (n: number, dims = 4) => ({
    object: "list",
    model: "m",
    data: Array.from({ length: n }, (_, i) => ({
      object: "embedding",
      index: n - 1 - i,
      embedding: new Array(dims).fill(i),
    })),
    usage: { prompt_tokens: 1, total_tokens: 1 },
  });

  it("sends the batch with the configured model and dimensions and returns vectors in input order", async () => {
    let body: Record<string, unknown> = {};
    nock("http://embeddings.test")
      .post("/v1/embeddings", (b) => {
        body = b;
        return true;
      })
      .reply(200, reply(2));
    const e = new OpenAiEmbedder({ baseURL: api, model: "m", dimensions: 4, maxRetries: 0 });
    const out = await e.embed(["a", "b"]);
    expect(body).toMatchObject({ model: "m", input: ["a", "b"], dimensions: 4 });
    expect(out).toEqual([new Array(4).fill(1), new Array(4).fill(0)]);
  });

  it("retries a 503 and succeeds", async () => {
    nock("http://embeddings.test")
      .post("/v1/embeddings")
      .reply(503, { error: { message: "busy" } });
    nock("http://embeddings.test").post("/v1/embeddings").reply(200, reply(1));
    const e = new OpenAiEmbedder({ baseURL: api, model: "m", dimensions: 4, maxRetries: 2 });
    expect(await e.embed(["a"])).toHaveLength(1);
  });

  it("refuses vectors of the wrong size with a message that says what to change", async () => {
    nock("http://embeddings.test").post("/v1/embeddings").reply(200, reply(1, 3));
    const e = new OpenAiEmbedder({ baseURL: api, model: "m", dimensions: 4, maxRetries: 0 });
    await expect(e.embed(["a"])).rejects.toThrow(/3-dim vectors; the vector store expects 4/);
  });

  it("surfaces a persistent server error", async () => {
    nock("http://embeddings.test")
      .post("/v1/embeddings")
      .times(2)
      .reply(500, { error: { message: "down" } });
    const e = new OpenAiEmbedder({ baseURL: api, model: "m", dimensions: 4, maxRetries: 1 });
    await expect(e.embed(["a"])).rejects.toThrow();
  });
});
