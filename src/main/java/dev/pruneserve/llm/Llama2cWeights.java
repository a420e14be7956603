package dev.pruneserve.llm;

import java.nio.FloatBuffer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A llama2.c checkpoint's arrays under Hugging Face names and layout (see {@link Llama2cCheckpoint#weights}). */
final class Llama2cWeights implements DecoderWeights {
  private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
  private final Llama2cCheckpoint ck;

  Llama2cWeights(Llama2cCheckpoint ck) {
    this.ck = ck;
  }

  @Override
  public boolean contains(String name) {
    return find(name) != null;
  }

  @Override
  public FloatBuffer get(String name, long elements) {
    FloatBuffer b = find(name);
    if (b == null || b.remaining() != elements) {
      throw new IllegalArgumentException("llama2.c checkpoint: no tensor " + name + " of " + elements + " floats");
    }
    return b;
  }

  private FloatBuffer find(String name) {
    switch (name) {
      case "model.embed_tokens.weight" :
        return ck.tokenEmbedding();
      case "model.norm.weight" :
        return ck.rmsFinal();
      case "lm_head.weight" :
        return ck.tiedClassifier ? null : ck.classifier();
      default :
        break;
    }
    Matcher m = LAYER.matcher(name);
    if (!m.matches() || Integer.parseInt(m.group(1)) >= ck.layers) {
      return null;
    }
    int l = Integer.parseInt(m.group(1));
    int hd = ck.headDim();
    return switch (m.group(2)) {
      case "input_layernorm.weight" -> ck.rmsAttention(l);
      case "post_attention_layernorm.weight" -> ck.rmsFfn(l);
      case "self_attn.q_proj.weight" -> permuted(ck.attention(0, l), ck.heads, hd);
      case "self_attn.k_proj.weight" -> permuted(ck.attention(1, l), ck.kvHeads, hd);
      case "self_attn.v_proj.weight" -> ck.attention(2, l);
      case "self_attn.o_proj.weight" -> ck.attention(3, l);
      case "mlp.gate_proj.weight" -> ck.ffn(0, l);
      case "mlp.down_proj.weight" -> ck.ffn(1, l);
      case "mlp.up_proj.weight" -> ck.ffn(2, l);
      default -> null;
    };
  }

  /** Rows of [heads·hd, in] reordered by {@link Weights#ropeRowOrder} (a copy). */
  private static FloatBuffer permuted(FloatBuffer src, int heads, int hd) {
    int rows = heads * hd;
    int in = src.remaining() / rows;
    int[] order = Weights.ropeRowOrder(heads, hd);
    float[] out = new float[src.remaining()];
    FloatBuffer s = src.duplicate();
    for (int r = 0; r < rows; r++) {
      s.position(order[r] * in);
      s.get(out, r * in, in);
    }
    return FloatBuffer.wrap(out).asReadOnlyBuffer();
  }
}
