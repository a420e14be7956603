package dev.pruneserve.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.testing.Safetensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Import speed and memory for a checkpoint of over 1 GiB of weights: a seeded random Llama-shaped
 * checkpoint (hidden 2048, 5 layers, 16 query / 4 K/V heads, MLP 5632, vocab 32000, untied; F32,
 * 1.42 GB) imported in a fresh JVM (-Xmx6g). Prints MB/s of weights and the peak RSS as a multiple
 * of the weight bytes. Run: ./mvnw -B test -Pbench -Dtest=HfImportBenchTest
 */
@Tag("bench")
class HfImportBenchTest {
  @Test
  void importSpeedAndPeakMemory() throws Exception {
    Path dir = Files.createTempDirectory("hf-import-bench");
    Path folder = dir.resolve("llama-1g");
    ObjectNode c = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    c.put("model_type", "llama").put("hidden_size", 2048).put("intermediate_size", 5632).put("num_hidden_layers", 5)
        .put("num_attention_heads", 16).put("num_key_value_heads", 4).put("vocab_size", 32000)
        .put("max_position_embeddings", 2048).put("rms_norm_eps", 1e-5).put("tie_word_embeddings", false);
    Map<String, Safetensor.Tensor> w = new LinkedHashMap<>();
    SplittableRandom r = new SplittableRandom(1);
    w.put("model.embed_tokens.weight", random(r, 32000, 2048));
    for (int l = 0; l < 5; l++) {
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
    Safetensor.write(folder.resolve("model.safetensors"), w, "F32");
    w.clear();
    long weights = Files.size(folder.resolve("model.safetensors"));
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process proc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx6g",
        "-cp", cp, HfImportMain.class.getName(), folder.toString(), dir.resolve("cache").toString())
        .redirectErrorStream(true).start();
    String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (proc.waitFor() != 0) {
      throw new IllegalStateException("import failed:\n" + out);
    }
    long ms = value(out, "TIME ");
    long peak = value(out, "PEAK ");
    System.out.printf("BENCH hf-import | weights %.2f GB F32 | %.1f s | %.0f MB/s | peak RSS %.2f GB = %.2fx weight"
        + " bytes | ONNX %.2f GB |%n", weights / 1e9, ms / 1e3, weights / 1e6 / (ms / 1e3), peak / 1e9,
        (double) peak / weights, value(out, "OUT ") / 1e9);
  }

  private static long value(String out, String key) {
    return out.lines().filter(l -> l.startsWith(key)).mapToLong(l -> Long.parseLong(l.substring(key.length())))
        .findFirst().orElseThrow(() -> new IllegalStateException("no " + key + "line:\n" + out));
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
