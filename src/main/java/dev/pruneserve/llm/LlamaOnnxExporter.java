package dev.pruneserve.llm;

import static dev.pruneserve.graph.ModelBuilder.intAttr;
import static dev.pruneserve.graph.ModelBuilder.intsAttr;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;

/**
 * Writes a Llama-family decoder ({@link DecoderSpec} + {@link DecoderWeights}) as an ONNX decoder
 * laid out the way exporters lay out Llama: opset 17; inputs {@code input_ids [batch, seq]},
 * {@code attention_mask [batch, past+seq]}, {@code position_ids [batch, seq]} (all int64) and
 * {@code past_key_values.{i}.key|value [batch, kv_heads_i, past, head_dim]}; outputs {@code logits
 * [batch, seq, vocab]} and {@code present.{i}.key|value}. RMSNorm, rotate-half RoPE (optionally
 * rescaled), causal + padding mask, SwiGLU MLP, lm_head tied to the embedding through a Transpose
 * or its own weight. Grouped-query attention repeats each cached K/V head to its query heads the
 * way transformers' {@code repeat_kv} does: Unsqueeze → Expand → Reshape. Optional q/k/v (and o)
 * biases (Qwen2) and per-head q/k RMSNorm (Qwen3).
 *
 * <p>Weights keep Hugging Face names but are stored [in, out] for MatMul. Each layer has its own
 * Reshape/Expand shape constants carrying its head counts, so pruned layers may differ.
 */
public final class LlamaOnnxExporter {
  private static final float MASKED = -1e9f;

  private final DecoderSpec spec;
  private final DecoderWeights w;
  private final ModelBuilder g;
  private int tmp;

  private LlamaOnnxExporter(DecoderSpec spec, DecoderWeights w) {
    this.spec = spec;
    this.w = w;
    this.g = new ModelBuilder("llama");
  }

  public static ModelProto export(Llama2cCheckpoint ck, String name) {
    return export(ck.spec(), ck.weights(), name);
  }

  /** @throws IllegalArgumentException naming the tensor when a weight is missing or sized otherwise */
  public static ModelProto export(DecoderSpec spec, DecoderWeights weights, String name) {
    return new LlamaOnnxExporter(spec, weights).build(name);
  }

  private ModelProto build(String name) {
    int hd = spec.headDim();
    long kvh = spec.kvHeads();
    g.input("input_ids", 7, "batch", "seq").input("attention_mask", 7, "batch", "total")
        .input("position_ids", 7, "batch", "seq");
    for (int i = 0; i < spec.layers(); i++) {
      g.input("past_key_values." + i + ".key", 1, "batch", kvh, "past", (long) hd);
      g.input("past_key_values." + i + ".value", 1, "batch", kvh, "past", (long) hd);
    }
    g.output("logits", 1, "batch", "seq", (long) spec.vocab());
    for (int i = 0; i < spec.layers(); i++) {
      g.output("present." + i + ".key", 1, "batch", kvh, "total", (long) hd);
      g.output("present." + i + ".value", 1, "batch", kvh, "total", (long) hd);
    }
    constants(hd);
    int d = spec.dim();
    g.initializer(plain("model.embed_tokens.weight", spec.vocab(), d));
    String h = op("Gather", "model.embed_tokens.weight", "input_ids");
    String[] rope = rope();
    String mask = mask();
    for (int i = 0; i < spec.layers(); i++) {
      h = layer(i, h, rope, mask);
    }
    g.initializer(plain("model.norm.weight", d));
    String normed = rmsNorm(h, "model.norm.weight");
    String head;
    if (spec.tiedEmbeddings()) {
      head = op("Transpose", new AttributeProto[] {intsAttr("perm", 1, 0)}, "model.embed_tokens.weight");
    } else {
      g.initializer(linear("lm_head.weight", spec.vocab(), d));
      head = "lm_head.weight";
    }
    g.node("MatMul", new String[] {normed, head}, new String[] {"logits"});
    return g.metadata("pruneserve.kind", "causal-lm").metadata("pruneserve.source", name)
        .metadata("llama.rms_eps", Float.toString(spec.rmsEps()))
        .metadata("llama.rope_theta", Float.toString(spec.rope().theta()))
        .metadata("llama.max_position", Integer.toString(spec.contextLength())).build();
  }

  private void constants(int hd) {
    g.initializer("const.eps", new float[] {spec.rmsEps()});
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
    g.initializer("rope.inv_freq", spec.rope().inverseFrequencies(hd), hd / 2);
  }

  /** cos and sin [batch, 1, seq, head_dim] from position_ids, shared by all layers. */
  private String[] rope() {
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
    int d = spec.dim();
    int hd = spec.headDim();
    long heads = spec.heads();
    long kvh = spec.kvHeads();
    int qw = spec.heads() * hd;
    int kvw = spec.kvHeads() * hd;
    g.initializer(plain(p + "input_layernorm.weight", d));
    g.initializer(linear(p + "self_attn.q_proj.weight", qw, d));
    g.initializer(linear(p + "self_attn.k_proj.weight", kvw, d));
    g.initializer(linear(p + "self_attn.v_proj.weight", kvw, d));
    g.initializer(linear(p + "self_attn.o_proj.weight", d, qw));
    g.initializer(p + "self_attn.heads_shape", new long[] {0, 0, heads, hd}, 4);
    String kvShape = p + "self_attn.heads_shape";
    if (spec.grouped()) {
      kvShape = p + "self_attn.kv_heads_shape";
      g.initializer(kvShape, new long[] {0, 0, kvh, hd}, 4);
    }
    g.initializer(p + "self_attn.merge_shape", new long[] {0, 0, heads * hd}, 3);
    String n = rmsNorm(x, p + "input_layernorm.weight");
    String q = applyRope(heads(projection(n, p + "self_attn.q_proj", qw), p + "self_attn.heads_shape",
        qkNorm(p + "self_attn.q_norm.weight")), rope);
    String k = applyRope(heads(projection(n, p + "self_attn.k_proj", kvw), kvShape,
        qkNorm(p + "self_attn.k_norm.weight")), rope);
    String v = heads(projection(n, p + "self_attn.v_proj", kvw), kvShape, null);
    String kAll = "present." + i + ".key";
    String vAll = "present." + i + ".value";
    g.node("Concat", new String[] {"past_key_values." + i + ".key", k}, new String[] {kAll}, intAttr("axis", 2));
    g.node("Concat", new String[] {"past_key_values." + i + ".value", v}, new String[] {vAll}, intAttr("axis", 2));
    String kRep = kAll;
    String vRep = vAll;
    if (spec.grouped()) {
      g.initializer(p + "self_attn.repeat_shape", new long[] {1, 1, spec.groupSize(), 1, 1}, 5);
      g.initializer(p + "self_attn.repeated_shape", new long[] {0, heads, -1, hd}, 4);
      kRep = repeatKv(kAll, p);
      vRep = repeatKv(vAll, p);
    }
    String kt = op("Transpose", new AttributeProto[] {intsAttr("perm", 0, 1, 3, 2)}, kRep);
    String scores = op("Add", op("Mul", op("MatMul", q, kt), "const.scale"), mask);
    String probs = op("Softmax", new AttributeProto[] {intAttr("axis", -1)}, scores);
    String ctx = op("Transpose", new AttributeProto[] {intsAttr("perm", 0, 2, 1, 3)}, op("MatMul", probs, vRep));
    String attn = op("MatMul", op("Reshape", ctx, p + "self_attn.merge_shape"), p + "self_attn.o_proj.weight");
    if (spec.outputBias()) {
      g.initializer(plain(p + "self_attn.o_proj.bias", d));
      attn = op("Add", attn, p + "self_attn.o_proj.bias");
    }
    String h = op("Add", x, attn);

    int f = spec.hiddenDim();
    g.initializer(plain(p + "post_attention_layernorm.weight", d));
    g.initializer(linear(p + "mlp.gate_proj.weight", f, d));
    g.initializer(linear(p + "mlp.down_proj.weight", d, f));
    g.initializer(linear(p + "mlp.up_proj.weight", f, d));
    String m = rmsNorm(h, p + "post_attention_layernorm.weight");
    String gate = op("MatMul", m, p + "mlp.gate_proj.weight");
    String silu = op("Mul", gate, op("Sigmoid", gate));
    String up = op("MatMul", m, p + "mlp.up_proj.weight");
    String down = op("MatMul", op("Mul", silu, up), p + "mlp.down_proj.weight");
    return op("Add", h, down);
  }

  /** MatMul(x, W) [+ b]: the bias when the spec says the q/k/v projections carry one. */
  private String projection(String x, String prefix, int width) {
    String y = op("MatMul", x, prefix + ".weight");
    if (!spec.qkvBias()) {
      return y;
    }
    g.initializer(plain(prefix + ".bias", width));
    return op("Add", y, prefix + ".bias");
  }

  /** The per-head norm weight [head_dim] when the spec has q/k norms, else null. */
  private String qkNorm(String weight) {
    if (!spec.qkNorm()) {
      return null;
    }
    g.initializer(plain(weight, spec.headDim()));
    return weight;
  }

  /** [b, kvh, t, hd] → [b, kvh·rep, t, hd]: each K/V head repeated for its query heads. */
  private String repeatKv(String x, String p) {
    String expanded = op("Expand", op("Unsqueeze", x, "const.axis2"), p + "self_attn.repeat_shape");
    return op("Reshape", expanded, p + "self_attn.repeated_shape");
  }

  /** [b, s, H·hd] → [b, H, s, hd] through the layer's own shape constant (RMSNorm per head if given). */
  private String heads(String x, String shape, String norm) {
    String split = op("Reshape", x, shape);
    if (norm != null) {
      split = rmsNorm(split, norm);
    }
    return op("Transpose", new AttributeProto[] {intsAttr("perm", 0, 2, 1, 3)}, split);
  }

  private TensorProto plain(String name, long... dims) {
    long n = 1;
    for (long dim : dims) {
      n *= dim;
    }
    return Weights.plain(name, w.get(name, n), dims);
  }

  /** A [out, in] linear weight as the [in, out] MatMul operand. */
  private TensorProto linear(String name, int out, int in) {
    return Weights.transposed(name, w.get(name, (long) out * in), out, in);
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
