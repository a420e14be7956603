package dev.pruneserve.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.HfFolders;
import dev.pruneserve.testing.ReferenceLlama;
import dev.pruneserve.testing.Safetensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hugging Face folders (seeded tiny GQA checkpoints of each family, each weight dtype) imported
 * and served by ONNX Runtime: logits equal the independent plain-Java forward of
 * {@link ReferenceLlama}; decoding with the KV cache equals full recompute; what cannot be
 * converted is refused naming the key or tensor.
 */
class HfImportTest {
  private static final int[] PROMPT = {1, 17, 5, 42, 9, 63, 0, 28, 11};
  @TempDir Path tmp;

  private Path convert(Path dir) {
    return new HfImport(tmp.resolve("cache")).modelFile(dir);
  }

  @ParameterizedTest
  @CsvSource({"llama, F32", "llama, BF16", "qwen2, F16", "qwen3, BF16", "mistral, F32"})
  void theImportComputesWhatTheReferenceForwardComputes(String family, String dtype) throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve(family), family, dtype, 7);
    float[][] want = new ReferenceLlama(f.config(), f.weights()).logits(PROMPT);
    int vocab = want[0].length;
    try (ModelSession s = OrtRuntime.cpu(1).load(family + "/1", convert(f.dir())); KvDecoder full = new KvDecoder(s)) {
      float[] got = full.step(PROMPT);
      for (int t = 0; t < PROMPT.length; t++) {
        assertArrayEquals(want[t], Arrays.copyOfRange(got, t * vocab, (t + 1) * vocab), 1e-4f,
            family + " position " + t);
      }
      try (KvDecoder cached = new KvDecoder(s)) { // one token at a time through the KV cache
        for (int t = 0; t < PROMPT.length; t++) {
          assertArrayEquals(want[t], cached.step(new int[] {PROMPT[t]}), 1e-4f, family + " cached position " + t);
        }
      }
    }
  }

  /** transformers 5 writes rope_theta and the scaling as one rope_parameters object: same frequencies. */
  @Test
  void ropeParametersMeanWhatRopeThetaAndRopeScalingMean() throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve("v4"), "llama", "F32", 1);
    var v4 = new dev.pruneserve.graph.OnnxGraph(dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(
        convert(f.dir())))).initializer("rope.inv_freq").orElseThrow();
    com.fasterxml.jackson.databind.node.ObjectNode c = f.config().deepCopy();
    com.fasterxml.jackson.databind.node.ObjectNode params = ((com.fasterxml.jackson.databind.node.ObjectNode) c.remove(
        "rope_scaling")).put("rope_theta", c.remove("rope_theta").asDouble() * 50);
    c.set("rope_parameters", params);
    Files.writeString(f.dir().resolve("config.json"), c.toString());
    var v5 = new dev.pruneserve.graph.OnnxGraph(dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(
        convert(f.dir())))).initializer("rope.inv_freq").orElseThrow();
    assertTrue(!v4.equals(v5), "rope_theta inside rope_parameters is read");
    params.put("rope_theta", params.get("rope_theta").asDouble() / 50);
    Files.writeString(f.dir().resolve("config.json"), c.toString());
    assertEquals(v4, new dev.pruneserve.graph.OnnxGraph(dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(
        Files.readAllBytes(convert(f.dir())))).initializer("rope.inv_freq").orElseThrow());
  }

  /** pruneserve.json {@code dtype: float16}: FP16 weights and compute, FP32 logits close to the reference, cached apart. */
  @Test
  void theServedDtypeIsAnOption() throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve("half"), "qwen2", "F32", 4);
    float[][] want = new ReferenceLlama(f.config(), f.weights()).logits(PROMPT);
    Path full = convert(f.dir());
    Files.writeString(f.dir().resolve("pruneserve.json"), "{\"dtype\": \"float16\"}");
    Path half = convert(f.dir());
    assertTrue(!half.equals(full), "cached apart");
    var m = dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(half));
    assertTrue(m.getGraph().getInitializerList().stream().filter(t -> t.getDimsCount() == 2).allMatch(t -> t
        .getDataType() == 10), "FP16 weights");
    int vocab = want[0].length;
    try (ModelSession s = OrtRuntime.cpu(1).load("half/1", half); KvDecoder d = new KvDecoder(s)) {
      float[] got = d.step(PROMPT);
      for (int t = 0; t < PROMPT.length; t++) {
        assertArrayEquals(want[t], Arrays.copyOfRange(got, t * vocab, (t + 1) * vocab), 5e-2f, "position " + t); // FP16 rounding
      }
    }
    Files.writeString(f.dir().resolve("pruneserve.json"), "{\"dtype\": \"bfloat16\"}");
    ServingException e = assertThrows(ServingException.class, () -> convert(f.dir()));
    assertTrue(e.getMessage().contains("dtype 'bfloat16' is not one of float32, float16"), e.getMessage());
  }

  @Test
  void aConversionIsCachedByContentAndRedoneWhenAWeightChanges() throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve("m"), "qwen2", "F32", 1);
    Path a = convert(f.dir());
    assertEquals(a, convert(f.dir()), "same content, same file");
    HfFolders.tiny(tmp.resolve("m"), "qwen2", "F32", 2);
    assertTrue(!a.equals(convert(f.dir())), "changed weights convert again");
  }

  @Test
  void aCheckpointFolderIsServedAsVersionOneWithSettingsFromPruneserveJson() throws Exception {
    Path repo = tmp.resolve("repo");
    HfFolders.tiny(repo.resolve("tiny-qwen3"), "qwen3", "BF16", 3);
    Files.writeString(repo.resolve("tiny-qwen3/tokenizer.json"), "{}");
    ModelRepository r = new ModelRepository(repo, new HfImport(tmp.resolve("cache")));
    assertEquals(1, r.versions("tiny-qwen3").size());
    assertEquals("causal-lm", r.config("tiny-qwen3").kindOrDefault());
    assertEquals("tokenizer.json", r.config("tiny-qwen3").tokenizer());
    assertEquals(64, r.config("tiny-qwen3").contextLength());
    Files.writeString(repo.resolve("tiny-qwen3/pruneserve.json"), "{\"context_length\": 32, \"warmup\": false}");
    assertEquals(32, r.config("tiny-qwen3").contextLength());
    assertEquals("causal-lm", r.config("tiny-qwen3").kindOrDefault(), "unset keys keep the checkpoint's defaults");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "model_type|\"gpt2\"|model_type 'gpt2' is not supported",
      "hidden_act|\"gelu\"|hidden_act 'gelu'",
      "rope_scaling|{\"rope_type\": \"yarn\", \"factor\": 4.0}|rope_type 'yarn'",
      "rope_parameters|{\"rope_type\": \"dynamic\", \"rope_theta\": 1e6}|rope_type 'dynamic'",
      "partial_rotary_factor|0.5|partial_rotary_factor 0.5",
      "num_key_value_heads|3|not a multiple of num_key_value_heads 3",
      "use_sliding_window|true|use_sliding_window"})
  void unsupportedConfigKeysAreNamed(String key, String value, String expected) throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve("bad"), "qwen2", "F32", 1);
    f.config().set(key, new com.fasterxml.jackson.databind.ObjectMapper().readTree(value));
    Files.writeString(f.dir().resolve("config.json"), f.config().toString());
    ServingException e = assertThrows(ServingException.class, () -> convert(f.dir()));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains(expected) && e.getMessage().contains("'bad'"), e.getMessage());
  }

  @Test
  void tensorsTheConversionWouldIgnoreOrMissAreNamed() throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve("extra"), "llama", "F32", 1);
    Map<String, Safetensor.Tensor> w = new LinkedHashMap<>(f.weights());
    w.put("model.layers.0.self_attn.q_proj.lora_A", new Safetensor.Tensor(new long[] {2}, new float[2]));
    HfFolders.write(f.dir(), f.config(), w, "F32");
    ServingException e = assertThrows(ServingException.class, () -> convert(f.dir()));
    assertTrue(e.getMessage().contains("q_proj.lora_A"), e.getMessage());

    w.remove("model.layers.0.self_attn.q_proj.lora_A");
    w.remove("model.layers.1.mlp.up_proj.weight");
    HfFolders.write(f.dir(), f.config(), w, "F32");
    e = assertThrows(ServingException.class, () -> convert(f.dir()));
    assertTrue(e.getMessage().contains("no tensor model.layers.1.mlp.up_proj.weight"), e.getMessage());
  }

  /** parameters_before: an lm_head stored as the transposed copy of a tied embedding counts once. */
  @Test
  void aTransposedCopyOfTheTiedEmbeddingCountsOnce() throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve("tied"), "qwen2", "F32", 1);
    var tied = dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(convert(f.dir())));
    var g = tied.getGraph().toBuilder().clearNode();
    String head = null;
    for (var n : tied.getGraph().getNodeList()) {
      if (n.getOpType().equals("Transpose") && n.getInput(0).equals("model.embed_tokens.weight")) {
        head = n.getOutput(0);
      } else {
        g.addNode(n);
      }
    }
    var emb = new dev.pruneserve.graph.OnnxGraph(tied).initializer("model.embed_tokens.weight").orElseThrow();
    java.nio.FloatBuffer src = emb.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer();
    int v = (int) emb.getDims(0);
    int d = (int) emb.getDims(1);
    java.nio.ByteBuffer t = java.nio.ByteBuffer.allocate(v * d * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < v; j++) {
        t.putFloat(src.get(j * d + i));
      }
    }
    g.addInitializer(dev.pruneserve.onnx.proto.Onnx.TensorProto.newBuilder().setName(head).setDataType(1).addDims(d)
        .addDims(v).setRawData(com.google.protobuf.ByteString.copyFrom(t.array())));
    var copied = tied.toBuilder().setGraph(g).build();
    long once = dev.pruneserve.pruning.criteria.Pruner.parameters(tied);
    assertEquals(once, dev.pruneserve.pruning.criteria.Pruner.parameters(copied));
    t.putFloat(0, t.getFloat(0) + 1); // no longer a copy: counted
    g.setInitializer(g.getInitializerCount() - 1, g.getInitializer(g.getInitializerCount() - 1).toBuilder()
        .setRawData(com.google.protobuf.ByteString.copyFrom(t.array())));
    assertEquals(once + (long) v * d, dev.pruneserve.pruning.criteria.Pruner.parameters(tied.toBuilder().setGraph(g)
        .build()));
  }

  /** A plain folder (1/model.onnx) stays one, whatever its config.json says (e.g. an Optimum export's). */
  @Test
  void aFolderWithVersionsIsNeverACheckpoint() throws Exception {
    Path repo = tmp.resolve("repo");
    HfFolders.tiny(repo.resolve("plain"), "qwen2", "F32", 3);
    dev.pruneserve.testing.TestModels.write(repo, "plain", 1, dev.pruneserve.testing.TestModels.mlp());
    ModelRepository r = new ModelRepository(repo, new HfImport(tmp.resolve("cache")));
    assertTrue(!r.isCheckpoint("plain"));
    assertEquals("generic", r.config("plain").kindOrDefault());
  }

  /** Quantised or integer weights are named, not mistaken for floats. */
  @Test
  void aWeightDtypeThatIsNotConvertedIsNamed() throws Exception {
    HfFolders.Folder f = HfFolders.tiny(tmp.resolve("int"), "qwen2", "F32", 1);
    Path st = f.dir().resolve("model.safetensors");
    String bytes = new String(Files.readAllBytes(st), java.nio.charset.StandardCharsets.ISO_8859_1);
    int at = bytes.indexOf("\"model.norm.weight\":{\"dtype\":\"F32\"");
    Files.write(st, (bytes.substring(0, at) + bytes.substring(at).replaceFirst("\"F32\"", "\"I32\""))
        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    ServingException e = assertThrows(ServingException.class, () -> convert(f.dir()));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("model.norm.weight is I32; only F32, F16 and BF16"), e.getMessage());
  }

  @Test
  void halfPrecisionIsWidenedExactly() {
    for (int bits = 0; bits < 0x10000; bits++) {
      float want = bits >= 0x7c00 && (bits & 0x7fff) >= 0x7c00 ? Float.NaN : 0; // checked below only for finite
      float got = dev.pruneserve.graph.FloatTensors.halfToFloat((short) bits);
      int e = (bits >>> 10) & 0x1f;
      if (e != 0x1f) {
        double m = (bits & 0x3ff);
        double v = e == 0 ? m * Math.pow(2, -24) : (1 + m / 1024) * Math.pow(2, e - 15);
        want = (float) ((bits & 0x8000) != 0 ? -v : v);
        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), "bits " + bits);
      } else {
        assertTrue((bits & 0x3ff) == 0 ? Float.isInfinite(got) : Float.isNaN(got), "bits " + bits);
      }
    }
  }
}
