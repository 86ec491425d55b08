import OpenAI from "openai";
import type { Embedder } from "../../store/ports.js";

export interface OpenAiEmbedderOptions {
  baseURL: string;
  apiKey?: string;
  model: string;
  dimensions?: number;
  maxRetries?: number;
  timeoutMs?: number;
}

/**
 * Any OpenAI-compatible `/v1/embeddings` server (OpenAI, vLLM, Ollama, text-embeddings-inference). The
 * `openai` client retries 408/409/429/5xx and connection errors with exponential backoff and jitter.
 */
export class OpenAiEmbedder implements Embedder {
  private readonly client: OpenAI;
  readonly dimensions: number;

  constructor(private readonly options: OpenAiEmbedderOptions) {
    this.dimensions = options.dimensions ?? 384;
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey ?? "unused",
      maxRetries: options.maxRetries ?? 4,
      timeout: options.timeoutMs ?? 30_000,
    });
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const res = await this.client.embeddings.create({
      model: this.options.model,
      input: texts,
      dimensions: this.dimensions,
      encoding_format: "float",
    });
    const out = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    if (out.length !== texts.length) {
      throw new Error(`embeddings server returned ${out.length} vectors for ${texts.length} inputs`);
    }
    for (const v of out) {
      if (v.length !== this.dimensions) {
        throw new Error(
          `embeddings server returned ${v.length}-dim vectors; the vector store expects ${this.dimensions} (set a model that supports dimensions=${this.dimensions})`,
        );
      }
    }
    return out;
  }
}
