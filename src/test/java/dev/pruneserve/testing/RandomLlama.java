package dev.pruneserve.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random Llama-shaped Hugging Face checkpoints for size and speed tests: hidden 2048, 16
 * query / 4 K/V heads, MLP 5632, vocab 32000, untied, F32 (about 0.52 GB of embeddings plus
 * 0.18 GB per layer), written as one safetensors file or as two shards with their index.
 */
public final class RandomLlama {
  private RandomLlama() {}

  /** Writes the folder; {@code shards}: two files under 2 GiB each and model.safetensors.index.json. */
  public static Path write(Path folder, int layers, boolean shards) throws IOException {
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.put("model_type", "llama").put("hidden_size", 2048).put("intermediate_size", 5632).put("num_hidden_layers",
        layers).put("num_attention_heads", 16).put("num_key_value_heads", 4).put("vocab_size", 32000)
        .put("max_position_embeddings", 2048).put("rms_norm_eps", 1e-5).put("tie_word_embeddings", false);
    Map<String, Safetensor.Tensor> w = new LinkedHashMap<>();
    SplittableRandom r = new SplittableRandom(1);
    w.put("model.embed_tokens.weight", random(r, 32000, 2048));
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      w.put(p + "input_layernorm.weight", random(r, 2048));
      w.put(p + "post_attention_layernorm.weight", random(r, 2048));
      w.put(p + "self_attn.q_proj.weight", random(r, 2048, 2048));
      w.put(p + "self_attn.k_proj.weight", random(r, 512, 2048));
      w.put(p + "self_attn.v_proj.weight", random(r, 512, 2048));
      w.put(p + "self_attn.o_proj.weight", random(r, 2048, 2048));
      w.put(p + "mlp.gate_proj.weight", random(r, 5632, 2048));
      w.put(p + "mlp.up_proj.weight", random(r, 5632, 2048));
      w.put(p + "mlp.down_proj.weight", random(r, 2048, 5632));
    }
    w.put("model.norm.weight", random(r, 2048));
    w.put("lm_head.weight", random(r, 32000, 2048));
    Files.createDirectories(folder);
    Files.writeString(folder.resolve("config.json"), c.toString());
    if (!shards) {
      Safetensor.write(folder.resolve("model.safetensors"), w, "F32");
      return folder;
    }
    Map<String, Safetensor.Tensor> first = new LinkedHashMap<>();
    Map<String, Safetensor.Tensor> second = new LinkedHashMap<>();
    ObjectNode map = new ObjectMapper().createObjectNode();
    int i = 0;
    for (var e : w.entrySet()) {
      boolean one = i++ < w.size() / 2;
      (one ? first : second).put(e.getKey(), e.getValue());
      map.put(e.getKey(), one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
    }
    w.clear();
    Safetensor.write(folder.resolve("model-00001-of-00002.safetensors"), first, "F32");
    first.clear();
    Safetensor.write(folder.resolve("model-00002-of-00002.safetensors"), second, "F32");
    ObjectNode index = new ObjectMapper().createObjectNode();
    index.putObject("metadata");
    index.set("weight_map", map);
    Files.writeString(folder.resolve("model.safetensors.index.json"), index.toString());
    return folder;
  }

  private static Safetensor.Tensor random(SplittableRandom r, long... shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextDouble() - 0.5) * 0.05f;
    }
    return new Safetensor.Tensor(shape, v);
  }
}
