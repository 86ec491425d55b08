import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { locateOnnxModel, onnxRuntimeInstalled } from "../../../src/pipeline/embed/onnx.js";
import { openEmbedder } from "../../../src/pipeline/embed/open.js";
import { WordPieceTokenizer } from "../../../src/pipeline/embed/wordpiece.js";
import type { Embedder } from "../../../src/store/ports.js";
import { requireService } from "../../helpers/services.js";

/**
 * The real all-MiniLM-L6-v2 through EMBEDDINGS_URL=onnx://, held to what sentence-transformers computes for
 * the same texts (test/fixtures/embed/minilm-reference.json, written by minilm-reference.py beside it).
 * `scripts/services.sh up minilm` builds the model directory; MINILM_MODEL_DIR overrides where it is looked
 * for, with the same default as scripts/services/minilm.sh.
 */

interface Reference {
  pairs: [string, string][];
  longRepeat: number;
  unicode: string;
  first8: { pairs: [number[], number[]][]; long: number[]; unicode: number[] };
  /** sentence-transformers cosines between the texts of `pairs`, in order (line, paraphrase, line, …). */
  cosines: number[][];
  unicodeTokenIds: number[];
}

const ref = JSON.parse(
  readFileSync(new URL("../../fixtures/embed/minilm-reference.json", import.meta.url), "utf8"),
) as Reference;
const texts = ref.pairs.flat();
const longText = Array(ref.longRepeat).fill(ref.pairs[0]![0]).join(" ");

const cacheDir =
  process.env.SLO_SCOUT_SERVICES_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "slo-scout");
const modelDir = process.env.MINILM_MODEL_DIR ?? join(cacheDir, "models", "all-MiniLM-L6-v2");

const available = await requireService("all-MiniLM-L6-v2 (scripts/services.sh up minilm)", async () => {
  locateOnnxModel(modelDir);
  if (!onnxRuntimeInstalled()) throw new Error("onnxruntime-node, an optional dependency, is not installed");
});

/** The vectors are unit length, so the dot product is the cosine. */
const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe.runIf(available)("all-MiniLM-L6-v2 through onnx://", () => {
  let embedder: Embedder;
  let vectors: number[][];

  beforeAll(async () => {
    embedder = openEmbedder({
      EMBEDDINGS_URL: `onnx://${modelDir}`,
      EMBEDDINGS_MODEL: "unused",
      OPENAI_API_KEY: undefined,
    });
    vectors = await embedder.embed(texts);
  });

  it("tokenizes as the Hugging Face tokenizer does: lowercase, no accents, final sigma, U+2028, private use", () => {
    const tokenizer = WordPieceTokenizer.fromVocabText(readFileSync(join(modelDir, "vocab.txt"), "utf8"));
    expect(tokenizer.encode(ref.unicode).inputIds).toEqual(ref.unicodeTokenIds);
  });

  it("gives unit-length 384-dimensional vectors equal to sentence-transformers' within 1e-4", async () => {
    const [long, unicode] = await embedder.embed([longText, ref.unicode]);
    const expected = [...ref.first8.pairs.flat(), ref.first8.long, ref.first8.unicode];
    for (const [i, v] of [...vectors, long!, unicode!].entries()) {
      expect(v).toHaveLength(384);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      v.slice(0, 8).forEach((x, d) => {
        expect(Math.abs(x - expected[i]![d]!), `text ${i}, dimension ${d}`).toBeLessThan(1e-4);
      });
    }
  });

  it("embeds a text alone as it does padded in a batch", async () => {
    const alone = await Promise.all(texts.map(async (t) => (await embedder.embed([t]))[0]!));
    alone.forEach((v, i) => {
      expect(cosine(v, vectors[i]!)).toBeGreaterThan(1 - 1e-6);
    });
  });

  it("puts each log line nearer its paraphrase than any other text, with sentence-transformers' cosines", () => {
    for (let i = 0; i < texts.length; i++) {
      for (let j = 0; j < texts.length; j++) {
        expect(Math.abs(cosine(vectors[i]!, vectors[j]!) - ref.cosines[i]![j]!)).toBeLessThan(1e-4);
      }
    }
    for (const [p, [line, paraphrase]] of ref.pairs.entries()) {
      const [a, b] = [vectors[2 * p]!, vectors[2 * p + 1]!];
      const others = vectors.filter((_, k) => k !== 2 * p && k !== 2 * p + 1);
      const nearestOther = Math.max(...others.map((o) => cosine(a, o)));
      expect(cosine(a, b), `${line} ~ ${paraphrase}`).toBeGreaterThan(nearestOther + 0.05);
    }
  });
});
