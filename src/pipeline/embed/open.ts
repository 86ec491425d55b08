import type { Config } from "../../config.js";
import type { Embedder } from "../../store/ports.js";
import { HashingEmbedder } from "./hashing.js";
import { locateOnnxModel, OnnxEmbedder, onnxModelDir, onnxRuntimeInstalled } from "./onnx.js";
import { OpenAiEmbedder } from "./openai.js";

/**
 * The embedder named by EMBEDDINGS_URL: `hash://` (default, offline), `onnx:///model-dir` (a local MiniLM
 * export run with onnxruntime-node) or an OpenAI-compatible server.
 */
export function openEmbedder(
  config: Pick<Config, "EMBEDDINGS_URL" | "EMBEDDINGS_MODEL" | "OPENAI_API_KEY">,
  dimensions = 384,
): Embedder {
  const url = config.EMBEDDINGS_URL;
  if (url.startsWith("hash:")) return new HashingEmbedder(dimensions);
  if (url.startsWith("onnx:")) {
    const files = locateOnnxModel(onnxModelDir(url));
    if (!onnxRuntimeInstalled()) {
      throw new Error(
        `EMBEDDINGS_URL=${url} needs the optional package onnxruntime-node, which is not installed: npm install onnxruntime-node`,
      );
    }
    return new OnnxEmbedder(files, dimensions);
  }
  if (url.startsWith("http://") || url.startsWith("https://")) {
    return new OpenAiEmbedder({
      baseURL: url,
      model: config.EMBEDDINGS_MODEL,
      dimensions,
      ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
    });
  }
  throw new Error(
    `EMBEDDINGS_URL ${JSON.stringify(url)} is not supported: use hash:// (built in), onnx:///path/to/model-dir (local MiniLM) or an OpenAI-compatible base URL such as http://localhost:8080/v1`,
  );
}
