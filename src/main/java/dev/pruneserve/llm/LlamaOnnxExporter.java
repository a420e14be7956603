package dev.pruneserve.llm;

import static dev.pruneserve.graph.ModelBuilder.intAttr;
import static dev.pruneserve.graph.ModelBuilder.intsAttr;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;

/**
 * Writes a llama2.c checkpoint as an ONNX decoder laid out the way exporters lay out Llama:
 * opset 17; inputs {@code input_ids [batch, seq]}, {@code attention_mask [batch, past+seq]},
 * {@code position_ids [batch, seq]} (all int64) and {@code past_key_values.{i}.key|value
 * [batch, heads_i, past, head_dim]}; outputs {@code logits [batch, seq, vocab]} and {@code
 * present.{i}.key|value}. RMSNorm (eps 1e-5), rotate-half RoPE (θ 10000), causal + padding mask,
 * SwiGLU MLP, lm_head tied to the embedding through a Transpose.
 *
 * <p>Weights keep Hugging Face names ({@code model.layers.{i}.self_attn.q_proj.weight}, …) but
 * are stored [in, out] for MatMul. Each layer has its own Reshape shape constants carrying its head
 * count, so pruned layers may differ.
 */
public final class LlamaOnnxExporter {
  static final float RMS_EPS = 1e-5f;
  static final float ROPE_THETA = 10000f;
  private static final float MASKED = -1e9f;

  private final Llama2cCheckpoint ck;
  private final ModelBuilder g;
  private int tmp;

  private LlamaOnnxExporter(Llama2cCheckpoint ck) {
    this.ck = ck;
    this.g = new ModelBuilder("llama");
  }

  public static ModelProto export(Llama2cCheckpoint ck, String name) {
    return new LlamaOnnxExporter(ck).build(name);
  }

  private ModelProto build(String name) {
    int hd = ck.headDim();
    g.input("input_ids", 7, "batch", "seq").input("attention_mask", 7, "batch", "total")
        .input("position_ids", 7, "batch", "seq");
    for (int i = 0; i < ck.layers; i++) {
      g.input("past_key_values." + i + ".key", 1, "batch", (long) ck.heads, "past", (long) hd);
      g.input("past_key_values." + i + ".value", 1, "batch", (long) ck.heads, "past", (long) hd);
    }
    g.output("logits", 1, "batch", "seq", (long) ck.vocab);
    for (int i = 0; i < ck.layers; i++) {
      g.output("present." + i + ".key", 1, "batch", (long) ck.heads, "total", (long) hd);
      g.output("present." + i + ".value", 1, "batch", (long) ck.heads, "total", (long) hd);
    }
    constants(hd);
    g.initializer(Weights.plain("model.embed_tokens.weight", ck.tokenEmbedding(), ck.vocab, ck.dim));
    String h = op("Gather", "model.embed_tokens.weight", "input_ids");
    String[] rope = rope(hd);
    String mask = mask();
    for (int i = 0; i < ck.layers; i++) {
      h = layer(i, h, rope, mask);
    }
    g.initializer(Weights.plain("model.norm.weight", ck.rmsFinal(), ck.dim));
    String normed = rmsNorm(h, "model.norm.weight");
    String head;
    if (ck.tiedClassifier) {
      head = op("Transpose", new AttributeProto[] {intsAttr("perm", 1, 0)}, "model.embed_tokens.weight");
    } else {
      g.initializer(Weights.transposed("lm_head.weight", ck.classifier(), ck.vocab, ck.dim, null));
      head = "lm_head.weight";
    }
    g.node("MatMul", new String[] {normed, head}, new String[] {"logits"});
    return g.metadata("pruneserve.kind", "causal-lm").metadata("pruneserve.source", name)
        .metadata("llama.rms_eps", Float.toString(RMS_EPS)).metadata("llama.rope_theta", Float.toString(ROPE_THETA))
        .metadata("llama.max_position", Integer.toString(ck.seqLen)).build();
  }

  private void constants(int hd) {
    g.initializer("const.eps", new float[] {RMS_EPS});
    g.initializer("const.scale", new float[] {(float) (1.0 / Math.sqrt(hd))});
    g.initializer("const.zero_f", new float[] {0f});
    g.initializer("const.masked", new float[] {MASKED});
    g.initializer("const.zero", new long[] {0});
    g.initializer("const.one", new long[] {1});
    g.initializer("const.axis0", new long[] {0}, 1);
    g.initializer("const.axis1", new long[] {1}, 1);
    g.initializer("const.axis2", new long[] {2}, 1);
    g.initializer("const.axes12", new long[] {1, 2}, 2);
    g.initializer("const.last", new long[] {-1}, 1);
    g.initializer("const.half", new long[] {hd / 2}, 1);
    g.initializer("const.hd", new long[] {hd}, 1);
    float[] inv = new float[hd / 2];
    for (int k = 0; k < inv.length; k++) {
      inv[k] = (float) (1.0 / Math.pow(ROPE_THETA, 2.0 * k / hd));
    }
    g.initializer("rope.inv_freq", inv, hd / 2);
  }

  /** cos and sin [batch, 1, seq, head_dim] from position_ids, shared by all layers. */
  private String[] rope(int hd) {
    String pos = op("Cast", new AttributeProto[] {intAttr("to", 1)}, "position_ids");
    String freqs = op("Mul", op("Unsqueeze", pos, "const.axis2"), "rope.inv_freq");
    String emb = op("Concat", new AttributeProto[] {intAttr("axis", -1)}, freqs, freqs);
    String cos = op("Unsqueeze", op("Cos", emb), "const.axis1");
    String sin = op("Unsqueeze", op("Sin", emb), "const.axis1");
    return new String[] {cos, sin};
  }

  /** Additive mask [batch, 1, seq, total]: 0 where key j ≤ query's absolute position and unpadded. */
  private String mask() {
    String total = op("Gather", op("Shape", "attention_mask"), "const.one");
    String seq = op("Gather", op("Shape", "input_ids"), "const.one");
    String past = op("Sub", total, seq);
    String kpos = op("Range", "const.zero", total, "const.one");
    String qpos = op("Range", past, total, "const.one");
    String causal = op("LessOrEqual", op("Unsqueeze", kpos, "const.axis0"), op("Unsqueeze", qpos, "const.last"));
    String pad = op("Unsqueeze", op("Cast", new AttributeProto[] {intAttr("to", 9)}, "attention_mask"), "const.axes12");
    return op("Where", op("And", causal, pad), "const.zero_f", "const.masked");
  }

  private String layer(int i, String x, String[] rope, String mask) {
    String p = "model.layers." + i + ".";
    int d = ck.dim;
    int hd = ck.headDim();
    int[] ropeOrder = Weights.ropeRowOrder(ck.heads, hd);
    g.initializer(Weights.plain(p + "input_layernorm.weight", ck.rmsAttention(i), d));
    g.initializer(Weights.transposed(p + "self_attn.q_proj.weight", ck.attention(0, i), d, d, ropeOrder));
    g.initializer(Weights.transposed(p + "self_attn.k_proj.weight", ck.attention(1, i), d, d, ropeOrder));
    g.initializer(Weights.transposed(p + "self_attn.v_proj.weight", ck.attention(2, i), d, d, null));
    g.initializer(Weights.transposed(p + "self_attn.o_proj.weight", ck.attention(3, i), d, d, null));
    g.initializer(p + "self_attn.heads_shape", new long[] {0, 0, ck.heads, hd}, 4);
    g.initializer(p + "self_attn.merge_shape", new long[] {0, 0, (long) ck.heads * hd}, 3);
    String n = rmsNorm(x, p + "input_layernorm.weight");
    String q = applyRope(heads(op("MatMul", n, p + "self_attn.q_proj.weight"), p), rope);
    String k = applyRope(heads(op("MatMul", n, p + "self_attn.k_proj.weight"), p), rope);
    String v = heads(op("MatMul", n, p + "self_attn.v_proj.weight"), p);
    String kAll = "present." + i + ".key";
    String vAll = "present." + i + ".value";
    g.node("Concat", new String[] {"past_key_values." + i + ".key", k}, new String[] {kAll}, intAttr("axis", 2));
    g.node("Concat", new String[] {"past_key_values." + i + ".value", v}, new String[] {vAll}, intAttr("axis", 2));
    String kt = op("Transpose", new AttributeProto[] {intsAttr("perm", 0, 1, 3, 2)}, kAll);
    String scores = op("Add", op("Mul", op("MatMul", q, kt), "const.scale"), mask);
    String probs = op("Softmax", new AttributeProto[] {intAttr("axis", -1)}, scores);
    String ctx = op("Transpose", new AttributeProto[] {intsAttr("perm", 0, 2, 1, 3)}, op("MatMul", probs, vAll));
    String attn = op("MatMul", op("Reshape", ctx, p + "self_attn.merge_shape"), p + "self_attn.o_proj.weight");
    String h = op("Add", x, attn);

    int f = ck.hiddenDim;
    g.initializer(Weights.plain(p + "post_attention_layernorm.weight", ck.rmsFfn(i), d));
    g.initializer(Weights.transposed(p + "mlp.gate_proj.weight", ck.ffn(0, i), f, d, null));
    g.initializer(Weights.transposed(p + "mlp.down_proj.weight", ck.ffn(1, i), d, f, null));
    g.initializer(Weights.transposed(p + "mlp.up_proj.weight", ck.ffn(2, i), f, d, null));
    String m = rmsNorm(h, p + "post_attention_layernorm.weight");
    String gate = op("MatMul", m, p + "mlp.gate_proj.weight");
    String silu = op("Mul", gate, op("Sigmoid", gate));
    String up = op("MatMul", m, p + "mlp.up_proj.weight");
    String down = op("MatMul", op("Mul", silu, up), p + "mlp.down_proj.weight");
    return op("Add", h, down);
  }

  /** [b, s, H·hd] → [b, H, s, hd] through the layer's own shape constant. */
  private String heads(String x, String prefix) {
    return op("Transpose", new AttributeProto[] {intsAttr("perm", 0, 2, 1, 3)},
        op("Reshape", x, prefix + "self_attn.heads_shape"));
  }

  private String applyRope(String x, String[] rope) {
    String x1 = op("Slice", x, "const.axis0", "const.half", "const.last");
    String x2 = op("Slice", x, "const.half", "const.hd", "const.last");
    String rotated = op("Concat", new AttributeProto[] {intAttr("axis", -1)}, op("Neg", x2), x1);
    return op("Add", op("Mul", x, rope[0]), op("Mul", rotated, rope[1]));
  }

  private String rmsNorm(String x, String weight) {
    String ms = op("ReduceMean", new AttributeProto[] {intsAttr("axes", -1), intAttr("keepdims", 1)},
        op("Mul", x, x));
    return op("Mul", op("Div", x, op("Sqrt", op("Add", ms, "const.eps"))), weight);
  }

  private String op(String type, String... inputs) {
    return op(type, new AttributeProto[0], inputs);
  }

  private String op(String type, AttributeProto[] attrs, String... inputs) {
    String out = "t" + tmp++ + "_" + type;
    g.node(type, inputs, new String[] {out}, attrs);
    return out;
  }
}
