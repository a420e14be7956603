package dev.pruneserve.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Hugging Face model folders written by test code: seeded tiny GQA checkpoints of each family
 * (config.json + model.safetensors) with the weights a reader must get back, for the reference
 * forward in {@link ReferenceLlama}.
 */
public final class HfFolders {
  private HfFolders() {}

  /** A written folder: its config and the weights as stored (rounded to the dtype). */
  public record Folder(Path dir, ObjectNode config, Map<String, Safetensor.Tensor> weights) {}

  /**
   * {@code family}: {@code llama} (untied, rope_scaling llama3), {@code qwen2} (q/k/v biases, tied),
   * {@code qwen3} (q/k norms, head_dim 16 ≠ hidden/heads, tied), {@code mistral} (plain GQA). Two
   * layers, hidden 32, 4 query heads over 2 KV heads, vocab 64.
   */
  public static Folder tiny(Path dir, String family, String dtype, long seed) throws IOException {
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.put("model_type", family).putArray("architectures").add(Character.toUpperCase(family.charAt(0))
        + family.substring(1) + "ForCausalLM");
    c.put("hidden_size", 32).put("intermediate_size", 48).put("num_hidden_layers", 2).put("num_attention_heads", 4)
        .put("num_key_value_heads", 2).put("vocab_size", 64).put("max_position_embeddings", 64)
        .put("rms_norm_eps", 1e-6).put("rope_theta", 10000.0).put("hidden_act", "silu").put("torch_dtype", "bfloat16");
    c.put("tie_word_embeddings", !family.equals("llama") && !family.equals("mistral"));
    if (family.equals("llama")) {
      c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
          .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 16);
    }
    if (family.equals("qwen3")) {
      c.put("head_dim", 16);
    }
    return write(dir, c, dtype, seed);
  }

  /** Seeded weights for {@code config}, written in {@code dtype}. */
  public static Folder write(Path dir, ObjectNode c, String dtype, long seed) throws IOException {
    Random r = new Random(seed);
    int d = c.get("hidden_size").asInt();
    int heads = c.get("num_attention_heads").asInt();
    int kv = c.path("num_key_value_heads").asInt(heads);
    int hd = c.path("head_dim").asInt(d / heads);
    int f = c.get("intermediate_size").asInt();
    int v = c.get("vocab_size").asInt();
    String type = c.get("model_type").asText();
    Map<String, Safetensor.Tensor> w = new LinkedHashMap<>();
    w.put("model.embed_tokens.weight", random(r, 0.5f, v, d));
    for (int l = 0; l < c.get("num_hidden_layers").asInt(); l++) {
      String p = "model.layers." + l + ".";
      w.put(p + "input_layernorm.weight", norm(r, d));
      w.put(p + "post_attention_layernorm.weight", norm(r, d));
      w.put(p + "self_attn.q_proj.weight", random(r, 0.3f, heads * hd, d));
      w.put(p + "self_attn.k_proj.weight", random(r, 0.3f, kv * hd, d));
      w.put(p + "self_attn.v_proj.weight", random(r, 0.3f, kv * hd, d));
      w.put(p + "self_attn.o_proj.weight", random(r, 0.3f, d, heads * hd));
      if (type.equals("qwen2")) {
        w.put(p + "self_attn.q_proj.bias", random(r, 0.2f, heads * hd));
        w.put(p + "self_attn.k_proj.bias", random(r, 0.2f, kv * hd));
        w.put(p + "self_attn.v_proj.bias", random(r, 0.2f, kv * hd));
      }
      if (type.equals("qwen3")) {
        w.put(p + "self_attn.q_norm.weight", norm(r, hd));
        w.put(p + "self_attn.k_norm.weight", norm(r, hd));
      }
      w.put(p + "mlp.gate_proj.weight", random(r, 0.3f, f, d));
      w.put(p + "mlp.up_proj.weight", random(r, 0.3f, f, d));
      w.put(p + "mlp.down_proj.weight", random(r, 0.3f, d, f));
    }
    w.put("model.norm.weight", norm(r, d));
    if (!c.path("tie_word_embeddings").asBoolean(false)) {
      w.put("lm_head.weight", random(r, 0.3f, v, d));
    }
    return write(dir, c, w, dtype);
  }

  /** Writes {@code weights} and {@code config} into {@code dir}. */
  public static Folder write(Path dir, ObjectNode config, Map<String, Safetensor.Tensor> weights, String dtype)
      throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), config.toPrettyString());
    Safetensor.write(dir.resolve("model.safetensors"), weights, dtype);
    Map<String, Safetensor.Tensor> stored = new LinkedHashMap<>();
    weights.forEach((k, t) -> stored.put(k, new Safetensor.Tensor(t.shape(), Safetensor.rounded(t.values(), dtype))));
    return new Folder(dir, config, stored);
  }

  private static Safetensor.Tensor random(Random r, float scale, long... shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    float[] out = new float[(int) n];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) r.nextGaussian() * scale;
    }
    return new Safetensor.Tensor(shape, out);
  }

  private static Safetensor.Tensor norm(Random r, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = 1f + 0.2f * (float) r.nextGaussian();
    }
    return new Safetensor.Tensor(new long[] {n}, out);
  }
}
