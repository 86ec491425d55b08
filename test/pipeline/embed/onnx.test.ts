import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { locateOnnxModel, OnnxEmbedder, onnxRuntimeInstalled } from "../../../src/pipeline/embed/onnx.js";
import { openEmbedder } from "../../../src/pipeline/embed/open.js";
import { basicTokenize, WordPieceTokenizer } from "../../../src/pipeline/embed/wordpiece.js";
import { writeTinyOnnxModel } from "../../fixtures/embed/tiny-onnx.js";
import { skipping } from "../../helpers/services.js";

const fixtures = join(import.meta.dirname, "../../fixtures/embed");
const vocabText = readFileSync(join(fixtures, "vocab.txt"), "utf8");
const vocab = vocabText.trim().split("\n");
const tokenizer = WordPieceTokenizer.fromVocabText(vocabText);
const tmp = mkdtempSync(join(tmpdir(), "slo-onnx-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config = (dir: string) => ({
  EMBEDDINGS_URL: `onnx://${dir}`,
  EMBEDDINGS_MODEL: "unused",
  OPENAI_API_KEY: undefined,
});

describe("WordPiece tokenizer", () => {
  // Cases from google-research/bert tokenization_test.py, whose test vocabulary is part of the fixture.
  it("matches BERT's uncased tokenizations", () => {
    expect(tokenizer.tokenize("UNwant\u00E9d,running")).toEqual([
      "un",
      "##want",
      "##ed",
      ",",
      "runn",
      "##ing",
    ]);
    expect(tokenizer.tokenize(" \tHeLLo!how  \n Are yoU?  ")).toEqual([
      "hello",
      "!",
      "how",
      "are",
      "you",
      "?",
    ]);
    expect(tokenizer.tokenize("ah\u535A\u63A8zz")).toEqual(["ah", "\u535A", "\u63A8", "zz"]);
    expect(tokenizer.tokenize("unwantedX running")).toEqual(["[UNK]", "runn", "##ing"]);
    expect(tokenizer.tokenize("")).toEqual([]);
  });

  it("splits log text on punctuation and strips accents and control characters", () => {
    expect(tokenizer.tokenize("GET /api/v1/checkout timed out after 30s")).toEqual([
      "get",
      "/",
      "api",
      "/",
      "v",
      "##1",
      "/",
      "checkout",
      "timed",
      "out",
      "after",
      "30",
      "##s",
    ]);
    expect(tokenizer.tokenize("Café Déjà-vu.")).toEqual(["cafe", "deja", "-", "vu", "."]);
    expect(basicTokenize("a\u0000b\u200Bc\u00A0d")).toEqual(["abc", "d"]);
    // As Hugging Face's tokenizers: σ even word-final, U+2028 splits, private-use characters vanish.
    expect(basicTokenize("ΟΔΟΣ a\u2028b c\uE000d")).toEqual(["οδοσ", "a", "b", "cd"]);
    expect(tokenizer.tokenize("x".repeat(101))).toEqual(["[UNK]"]);
  });

  it("wraps ids in [CLS]/[SEP] and truncates to the token limit", () => {
    expect(tokenizer.encode("Hello, you").inputIds).toEqual(
      ["[CLS]", "hello", ",", "you", "[SEP]"].map((t) => vocab.indexOf(t)),
    );
    const long = WordPieceTokenizer.fromVocabText(vocabText, 8).encode("hello ".repeat(50)).inputIds;
    expect(long).toHaveLength(8);
    expect(long.at(0)).toBe(vocab.indexOf("[CLS]"));
    expect(long.at(-1)).toBe(vocab.indexOf("[SEP]"));
    expect(tokenizer.encode("hello ".repeat(300)).inputIds).toHaveLength(256);
  });

  it("pads a batch to its longest text with attention 0", () => {
    const b = tokenizer.encodeBatch(["hello", "hello how are you"]);
    expect([b.batch, b.seq]).toEqual([2, 6]);
    expect(Array.from(b.attentionMask, Number)).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(b.inputIds.subarray(3, 6), Number)).toEqual([0, 0, 0]);
    expect(Array.from(b.tokenTypeIds, Number).every((x) => x === 0)).toBe(true);
  });

  it("rejects a vocabulary without BERT's special tokens", () => {
    expect(() => WordPieceTokenizer.fromVocabText("hello\nworld\n")).toThrow(/no \[UNK\] token/);
  });
});

describe("openEmbedder with onnx://", () => {
  it("names EMBEDDINGS_URL and the missing directory, model or vocabulary", () => {
    const missing = join(tmp, "nope");
    expect(() => openEmbedder(config(missing))).toThrow(
      /EMBEDDINGS_URL=onnx:\/\/.*nope: the directory does not exist/,
    );
    const noModel = join(tmp, "no-model");
    mkdirSync(noModel);
    copyFileSync(join(fixtures, "vocab.txt"), join(noModel, "vocab.txt"));
    expect(() => openEmbedder(config(noModel))).toThrow(
      /EMBEDDINGS_URL=.*neither model\.onnx nor onnx\/model\.onnx/,
    );
    const noVocab = join(tmp, "no-vocab");
    mkdirSync(join(noVocab, "onnx"), { recursive: true });
    writeFileSync(join(noVocab, "onnx", "model.onnx"), "");
    expect(() => openEmbedder(config(noVocab))).toThrow(/EMBEDDINGS_URL=.*vocab\.txt .* is missing/);
  });

  it("finds the model in the onnx/ folder of a Hugging Face layout", () => {
    const dir = join(tmp, "hf-layout");
    mkdirSync(join(dir, "onnx"), { recursive: true });
    writeFileSync(join(dir, "onnx", "model.onnx"), "");
    copyFileSync(join(fixtures, "vocab.txt"), join(dir, "vocab.txt"));
    expect(locateOnnxModel(dir).modelPath).toBe(join(dir, "onnx", "model.onnx"));
  });
});

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe.skipIf(
  skipping(
    !onnxRuntimeInstalled(),
    "OnnxEmbedder tests",
    "onnxruntime-node (an optional dependency) is not installed",
  ),
)("OnnxEmbedder on a tiny generated model (needs onnxruntime-node)", () => {
  const modelDir = (name: string, dims: number, inputs: string[], outputName?: string) => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(fixtures, "vocab.txt"), join(dir, "vocab.txt"));
    const model = writeTinyOnnxModel(join(dir, "model.onnx"), {
      vocabSize: vocab.length,
      dims,
      inputs,
      ...(outputName ? { outputName } : {}),
    });
    return { dir, model };
  };

  // The model declares no token_type_ids, so this also checks that only declared inputs are fed.
  const { dir, model } = modelDir("tiny", 384, ["input_ids", "attention_mask"]);

  it("mean-pools the token states under the attention mask and normalises", async () => {
    const embedder = openEmbedder(config(dir));
    expect(embedder).toBeInstanceOf(OnnxEmbedder);
    const [v] = await embedder.embed(["Hello, you!"]);
    const ids = tokenizer.encode("Hello, you!").inputIds;
    const mean = Array.from({ length: 384 }, (_, d) =>
      ids.reduce((s, id) => s + model.embedding[id]![d]!, 0),
    );
    const norm = Math.sqrt(dot(mean, mean));
    expect(v).toHaveLength(384);
    expect(dot(v!, v!)).toBeCloseTo(1, 5);
    for (const [d, x] of v!.entries()) expect(x).toBeCloseTo(mean[d]! / norm, 5);
  });

  it("gives a text the same vector alone and padded in a batch with longer texts", async () => {
    const embedder = openEmbedder(config(dir));
    const [alone] = await embedder.embed(["payment declined"]);
    const batch = await embedder.embed(["payment declined for the order, after 30s", "payment declined"]);
    expect(batch).toHaveLength(2);
    for (const [d, x] of alone!.entries()) expect(batch[1]![d]).toBeCloseTo(x, 6);
    expect(dot(batch[0]!, alone!)).toBeLessThan(0.99);
  });

  it("keeps order across internal batches", async () => {
    const embedder = new OnnxEmbedder(locateOnnxModel(dir), 384, 2);
    const texts = ["hello", "how are you", "payment declined", "checkout", "api"];
    const together = await embedder.embed(texts);
    for (const [i, t] of texts.entries()) {
      const [one] = await embedder.embed([t]);
      expect(dot(together[i]!, one!)).toBeCloseTo(1, 6);
    }
    expect(await embedder.embed([])).toEqual([]);
  });

  it("uses the first output when there is no last_hidden_state and rejects a wrong dimension", async () => {
    const small = modelDir("small", 8, ["input_ids", "attention_mask", "token_type_ids"], "token_embeddings");
    await expect(openEmbedder(config(small.dir)).embed(["hello"])).rejects.toThrow(
      /gives 8-dimensional embeddings but the vector store expects 384/,
    );
    const [v] = await openEmbedder(config(small.dir), 8).embed(["hello"]);
    expect(v).toHaveLength(8);
  });

  it("reports a file that is not an ONNX model", async () => {
    const bad = join(tmp, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "model.onnx"), "not a model");
    copyFileSync(join(fixtures, "vocab.txt"), join(bad, "vocab.txt"));
    await expect(openEmbedder(config(bad)).embed(["hello"])).rejects.toThrow();
  });
});
