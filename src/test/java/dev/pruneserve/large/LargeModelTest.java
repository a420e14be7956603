package dev.pruneserve.large;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.checkpoint.HfImport;
import dev.pruneserve.graph.ExternalData;
import dev.pruneserve.graph.ModelFiles;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.repository.ModelFileWriter;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Safetensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model over 2 GiB end to end (profile {@code -Plarge-models}: tag "large", 16 GB heap): a seeded
 * random Llama-shaped checkpoint of 2.3 GB FP32 is converted with ONNX external data, served by
 * ONNX Runtime, read back for pruning, pruned by magnitude (validated in ONNX Runtime, which loads
 * it with external data) and written as a variant with its own data file that serves.
 */
@Tag("large")
class LargeModelTest {
  @TempDir Path dir;

  @Test
  void aCheckpointOverTwoGibIsServedAndPruned() throws Exception {
    Path folder = dir.resolve("llama-2g");
    ObjectNode c = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    int layers = 10;
    c.put("model_type", "llama").put("hidden_size", 2048).put("intermediate_size", 5632).put("num_hidden_layers",
        layers).put("num_attention_heads", 16).put("num_key_value_heads", 4).put("vocab_size", 32000)
        .put("max_position_embeddings", 256).put("rms_norm_eps", 1e-5).put("tie_word_embeddings", false);
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
    // two shards (each file under 2 GiB) and the index transformers writes for them
    Map<String, Safetensor.Tensor> first = new LinkedHashMap<>();
    Map<String, Safetensor.Tensor> second = new LinkedHashMap<>();
    ObjectNode map = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
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
    second.clear();
    ObjectNode index = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    index.putObject("metadata");
    index.set("weight_map", map);
    Files.writeString(folder.resolve("model.safetensors.index.json"), index.toString());
    Path onnx = new HfImport(dir.resolve("cache")).modelFile(folder);
    Path data = onnx.resolveSibling("model.onnx" + ModelFiles.DATA_SUFFIX);
    assertTrue(Files.size(data) > (2L << 30) && Files.size(onnx) < (16L << 20), "external data: " + Files.size(data));
    serves(onnx);
    ModelFiles.Loaded dense = ModelFiles.read(onnx);
    assertTrue(dense.externalData());
    Pruner.Result p = PruneMethods.apply(dense.model(), PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(2));
    assertTrue(p.parametersAfter() < 0.75 * p.parametersBefore());
    Path variant = Files.createDirectories(dir.resolve("variant/1")).resolve("model.onnx");
    ModelFileWriter.write(p.model(), variant, true);
    assertTrue(ExternalData.uses(ModelProto.parseFrom(Files.readAllBytes(variant))));
    serves(variant);
  }

  private static void serves(Path model) throws Exception {
    try (ModelSession s = OrtRuntime.cpu(2).load("large/1", model); KvDecoder d = new KvDecoder(s)) {
      for (float v : d.step(new int[] {1, 450, 4996})) {
        assertTrue(Float.isFinite(v));
      }
    }
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
