import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import type { Embedder } from "../../store/ports.js";
import { WordPieceTokenizer } from "./wordpiece.js";

/**
 * The slice of onnxruntime-node used here, declared locally so the code type-checks where the optional
 * package is absent.
 */
interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
}
interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
interface Ort {
  Tensor: new (type: "int64", data: BigInt64Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(path: string): Promise<Session> };
}
const ORT_PACKAGE = "onnxruntime-node";

export interface OnnxModelFiles {
  modelPath: string;
  vocabPath: string;
}

/**
 * Finds model.onnx and vocab.txt in a sentence-transformers export: the model at the top or in `onnx/`
 * (the layout of the Hugging Face repositories), the vocabulary at the top.
 */
export function locateOnnxModel(dir: string): OnnxModelFiles {
  const where = `EMBEDDINGS_URL=onnx://${dir}`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(
      `${where}: the directory does not exist; point it at a sentence-transformers MiniLM export holding model.onnx and vocab.txt (e.g. onnx:///models/all-MiniLM-L6-v2)`,
    );
  }
  const modelPath = [join(dir, "model.onnx"), join(dir, "onnx", "model.onnx")].find((p) => existsSync(p));
  if (!modelPath) throw new Error(`${where}: neither model.onnx nor onnx/model.onnx is in the directory`);
  const vocabPath = join(dir, "vocab.txt");
  if (!existsSync(vocabPath)) {
    throw new Error(`${where}: vocab.txt (the BERT WordPiece vocabulary) is missing from the directory`);
  }
  return { modelPath, vocabPath };
}

/** `onnx:///abs/dir` is an absolute directory; `onnx://rel/dir` is relative to the working directory. */
export function onnxModelDir(url: string): string {
  return resolve(decodeURIComponent(url.replace(/^onnx:\/\//, "")));
}

/** True when the optional onnxruntime-node package can be resolved, without loading its native code. */
export function onnxRuntimeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(ORT_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

/**
 * A sentence-transformers MiniLM (or any BERT-style encoder) run locally with onnxruntime-node: WordPiece,
 * the encoder, mean pooling over the attention mask, L2 normalisation — what sentence-transformers does for
 * all-MiniLM-L6-v2. onnxruntime-node is imported on first use so the rest of the product works without it.
 */
export class OnnxEmbedder implements Embedder {
  private readonly tokenizer: WordPieceTokenizer;
  private session: Promise<{ ort: Ort; session: Session }> | undefined;

  constructor(
    private readonly files: OnnxModelFiles,
    readonly dimensions = 384,
    private readonly batchSize = 32,
    maxTokens = 256,
  ) {
    this.tokenizer = WordPieceTokenizer.fromVocabText(readFileSync(files.vocabPath, "utf8"), maxTokens);
  }

  async embed(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      out.push(...(await this.embedBatch(texts.slice(i, i + this.batchSize))));
    }
    return out;
  }

  private async embedBatch(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const { ort, session } = await this.open();
    const b = this.tokenizer.encodeBatch(texts);
    const available: Record<string, BigInt64Array> = {
      input_ids: b.inputIds,
      attention_mask: b.attentionMask,
      token_type_ids: b.tokenTypeIds,
    };
    const feeds: Record<string, OrtTensor> = {};
    for (const name of session.inputNames) {
      const data = available[name];
      if (!data) {
        throw new Error(
          `${this.files.modelPath} wants an input named ${name}; a BERT-style encoder takes input_ids, attention_mask and token_type_ids`,
        );
      }
      feeds[name] = new ort.Tensor("int64", data, [b.batch, b.seq]);
    }
    const results = await session.run(feeds);
    const outputName = session.outputNames.includes("last_hidden_state")
      ? "last_hidden_state"
      : session.outputNames[0]!;
    const hidden = results[outputName]!;
    const [batch, seq, dims] = hidden.dims;
    if (hidden.dims.length !== 3 || batch !== b.batch || seq !== b.seq) {
      throw new Error(
        `${this.files.modelPath}: output ${outputName} has shape [${hidden.dims.join(", ")}], expected per-token states [${b.batch}, ${b.seq}, ${this.dimensions}]`,
      );
    }
    if (dims !== this.dimensions) {
      throw new Error(
        `${this.files.modelPath} gives ${dims}-dimensional embeddings but the vector store expects ${this.dimensions}; use a 384-dimensional model such as all-MiniLM-L6-v2`,
      );
    }
    return meanPoolNormalise(hidden.data as Float32Array, b.attentionMask, b.batch, b.seq, dims);
  }

  private open(): Promise<{ ort: Ort; session: Session }> {
    if (this.session) return this.session;
    const loading = (async () => {
      let ort: Ort;
      try {
        ort = (await import(ORT_PACKAGE)) as Ort;
      } catch (err) {
        throw new Error(
          `EMBEDDINGS_URL=onnx://… needs the optional package onnxruntime-node, which failed to load (${(err as Error).message}); install it with: npm install onnxruntime-node`,
        );
      }
      const session = await ort.InferenceSession.create(this.files.modelPath);
      return { ort, session };
    })();
    // A failed load is not cached, so the next call retries (e.g. after the file is fixed).
    loading.catch(() => {
      if (this.session === loading) this.session = undefined;
    });
    this.session = loading;
    return loading;
  }
}

/** Mean of the token states where attention is 1, scaled to unit length (zero stays zero). */
export function meanPoolNormalise(
  hidden: Float32Array,
  mask: BigInt64Array,
  batch: number,
  seq: number,
  dims: number,
): number[][] {
  const out: number[][] = [];
  for (let row = 0; row < batch; row++) {
    const sum = new Float64Array(dims);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      if (mask[row * seq + t] === 0n) continue;
      count++;
      const base = (row * seq + t) * dims;
      for (let d = 0; d < dims; d++) sum[d]! += hidden[base + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      sum[d] = sum[d]! / Math.max(count, 1);
      norm += sum[d]! * sum[d]!;
    }
    norm = Math.sqrt(norm);
    out.push(Array.from(sum, (x) => (norm === 0 ? 0 : x / norm)));
  }
  return out;
}
