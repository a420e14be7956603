package dev.pruneserve.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A plain-Java forward pass of a Hugging Face Llama-family decoder, written from the transformers
 * modelling code and independent of pruneserve's exporter: reads the weights as stored (HF layout,
 * [out, in]) and the config, recomputes every position (no cache). Double accumulation. Test
 * reference only: slow, tiny models.
 */
public final class ReferenceLlama {
  private final JsonNode c;
  private final Map<String, Safetensor.Tensor> w;
  private final int d;
  private final int heads;
  private final int kv;
  private final int hd;

  public ReferenceLlama(JsonNode config, Map<String, Safetensor.Tensor> weights) {
    this.c = config;
    this.w = weights;
    this.d = c.get("hidden_size").asInt();
    this.heads = c.get("num_attention_heads").asInt();
    this.kv = c.path("num_key_value_heads").asInt(heads);
    this.hd = c.path("head_dim").asInt(d / heads);
  }

  /** Logits [ids.length][vocab]. */
  public float[][] logits(int[] ids) {
    int n = ids.length;
    double[][] x = new double[n][d];
    float[] emb = w.get("model.embed_tokens.weight").values();
    for (int t = 0; t < n; t++) {
      for (int i = 0; i < d; i++) {
        x[t][i] = emb[ids[t] * d + i];
      }
    }
    for (int l = 0; l < c.get("num_hidden_layers").asInt(); l++) {
      String p = "model.layers." + l + ".";
      x = add(x, attention(rms(x, p + "input_layernorm.weight"), p));
      x = add(x, mlp(rms(x, p + "post_attention_layernorm.weight"), p));
    }
    double[][] h = rms(x, "model.norm.weight");
    String head = w.containsKey("lm_head.weight") && !c.path("tie_word_embeddings").asBoolean(false) ? "lm_head.weight"
        : "model.embed_tokens.weight";
    double[][] out = linear(h, head, null);
    float[][] f = new float[n][];
    for (int t = 0; t < n; t++) {
      f[t] = new float[out[t].length];
      for (int i = 0; i < out[t].length; i++) {
        f[t][i] = (float) out[t][i];
      }
    }
    return f;
  }

  private double[][] attention(double[][] x, String p) {
    int n = x.length;
    double[][] q = linear(x, p + "self_attn.q_proj.weight", p + "self_attn.q_proj.bias");
    double[][] k = linear(x, p + "self_attn.k_proj.weight", p + "self_attn.k_proj.bias");
    double[][] v = linear(x, p + "self_attn.v_proj.weight", p + "self_attn.v_proj.bias");
    if (w.containsKey(p + "self_attn.q_norm.weight")) {
      headNorm(q, p + "self_attn.q_norm.weight");
      headNorm(k, p + "self_attn.k_norm.weight");
    }
    double[] inv = invFreq();
    for (int t = 0; t < n; t++) {
      rotate(q[t], t, inv);
      rotate(k[t], t, inv);
    }
    double[][] ctx = new double[n][heads * hd];
    int rep = heads / kv;
    for (int h = 0; h < heads; h++) {
      int g = h / rep; // repeat_kv: query head h reads KV head h / rep
      for (int t = 0; t < n; t++) {
        double[] s = new double[t + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= t; j++) {
          double dot = 0;
          for (int i = 0; i < hd; i++) {
            dot += q[t][h * hd + i] * k[j][g * hd + i];
          }
          s[j] = dot / Math.sqrt(hd);
          max = Math.max(max, s[j]);
        }
        double z = 0;
        for (int j = 0; j <= t; j++) {
          s[j] = Math.exp(s[j] - max);
          z += s[j];
        }
        for (int j = 0; j <= t; j++) {
          for (int i = 0; i < hd; i++) {
            ctx[t][h * hd + i] += s[j] / z * v[j][g * hd + i];
          }
        }
      }
    }
    return linear(ctx, p + "self_attn.o_proj.weight", p + "self_attn.o_proj.bias");
  }

  private double[][] mlp(double[][] x, String p) {
    double[][] gate = linear(x, p + "mlp.gate_proj.weight", null);
    double[][] up = linear(x, p + "mlp.up_proj.weight", null);
    for (int t = 0; t < x.length; t++) {
      for (int i = 0; i < gate[t].length; i++) {
        gate[t][i] = gate[t][i] / (1 + Math.exp(-gate[t][i])) * up[t][i];
      }
    }
    return linear(gate, p + "mlp.down_proj.weight", null);
  }

  /** transformers' default inv_freq, then rope_scaling (linear, llama3) as in its rope utils. */
  private double[] invFreq() {
    double theta = c.path("rope_theta").asDouble(10000);
    double[] inv = new double[hd / 2];
    JsonNode s = c.path("rope_scaling");
    String type = s.path("rope_type").asText(s.path("type").asText("default"));
    for (int i = 0; i < inv.length; i++) {
      double f = 1.0 / Math.pow(theta, (2.0 * i) / hd);
      if (type.equals("linear")) {
        f /= s.get("factor").asDouble();
      } else if (type.equals("llama3")) {
        double factor = s.get("factor").asDouble();
        double lo = s.get("low_freq_factor").asDouble();
        double hi = s.get("high_freq_factor").asDouble();
        double old = s.get("original_max_position_embeddings").asDouble();
        double wavelen = 2 * Math.PI / f;
        double scaled = wavelen > old / lo ? f / factor : f;
        double smooth = (old / wavelen - lo) / (hi - lo);
        boolean medium = !(wavelen < old / hi) && !(wavelen > old / lo);
        f = medium ? (1 - smooth) * scaled / factor + smooth * scaled : scaled;
      }
      inv[i] = f;
    }
    return inv;
  }

  /** rotate_half RoPE on each head of {@code v} at position {@code t}. */
  private void rotate(double[] v, int t, double[] inv) {
    int half = hd / 2;
    for (int h = 0; h < v.length / hd; h++) {
      for (int i = 0; i < half; i++) {
        double a = v[h * hd + i];
        double b = v[h * hd + half + i];
        double cos = Math.cos(t * (float) inv[i]);
        double sin = Math.sin(t * (float) inv[i]);
        v[h * hd + i] = a * cos - b * sin;
        v[h * hd + half + i] = b * cos + a * sin;
      }
    }
  }

  private void headNorm(double[][] x, String weight) {
    float[] g = w.get(weight).values();
    double eps = c.path("rms_norm_eps").asDouble(1e-6);
    for (double[] row : x) {
      for (int h = 0; h < row.length / hd; h++) {
        double ms = 0;
        for (int i = 0; i < hd; i++) {
          ms += row[h * hd + i] * row[h * hd + i];
        }
        double r = 1 / Math.sqrt(ms / hd + eps);
        for (int i = 0; i < hd; i++) {
          row[h * hd + i] *= r * g[i];
        }
      }
    }
  }

  private double[][] rms(double[][] x, String weight) {
    float[] g = w.get(weight).values();
    double eps = c.path("rms_norm_eps").asDouble(1e-6);
    double[][] out = new double[x.length][d];
    for (int t = 0; t < x.length; t++) {
      double ms = 0;
      for (double v : x[t]) {
        ms += v * v;
      }
      double r = 1 / Math.sqrt(ms / d + eps);
      for (int i = 0; i < d; i++) {
        out[t][i] = x[t][i] * r * g[i];
      }
    }
    return out;
  }

  /** x [n, in] · Wᵀ (W stored [out, in]) + b. */
  private double[][] linear(double[][] x, String weight, String bias) {
    Safetensor.Tensor t = w.get(weight);
    int out = (int) t.shape()[0];
    int in = (int) t.shape()[1];
    float[] b = bias != null && w.containsKey(bias) ? w.get(bias).values() : null;
    double[][] y = new double[x.length][out];
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < out; o++) {
        double s = b == null ? 0 : b[o];
        for (int i = 0; i < in; i++) {
          s += x[r][i] * t.values()[o * in + i];
        }
        y[r][o] = s;
      }
    }
    return y;
  }

  private static double[][] add(double[][] a, double[][] b) {
    for (int t = 0; t < a.length; t++) {
      for (int i = 0; i < a[t].length; i++) {
        a[t][i] += b[t][i];
      }
    }
    return a;
  }
}
