package dev.pruneserve.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.llm.Llama2cCheckpoint;
import dev.pruneserve.llm.LlamaOnnxExporter;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mHf;
import dev.pruneserve.tokenizer.HfCausalTokenizer;
import dev.pruneserve.tokenizer.Llama2cTokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories15M as a Hugging Face folder ({@link Stories15mHf}, written by test code): its
 * tokenizer.json encodes and decodes like the llama2.c tokenizer; the imported decoder holds the
 * same tensors as the llama2.c import, so it computes, generates and prunes the same (the quality
 * rows of docs/benchmarks.md hold for it unchanged).
 */
class Stories15mHfTest {
  private static final List<String> TEXTS = List.of("Once upon a time", "Hello world", " leading space",
      "two  spaces and\ttab", "line one\nline two\n\n", "Lily's dog, Max, said: \"Hi!\"", "naïve café — 日本語 😀",
      "ünïcödé Ωμέγα ☃", "12345 67.89 +-*/", "", "x", "The end.", "\u0000\u0001 control", "a\u00a0b");
  @TempDir static Path dir;
  static Path folder;
  static HfCausalTokenizer hf;
  static Llama2cTokenizer ref;

  @BeforeAll
  static void write() throws Exception {
    folder = Stories15mHf.write(dir.resolve("stories15m-hf"));
    hf = HfCausalTokenizer.read(folder.resolve("tokenizer.json"), 32000);
    ref = Llama2cTokenizer.read(Stories15m.tokenizerFile(Fixtures.stories15m()), 32000);
  }

  @AfterAll
  static void close() {
    hf.close();
  }

  @Test
  void tokenizerJsonEncodesAndDecodesLikeTokenizerBin() {
    assertArrayEquals(new int[] {1, 9038, 2501, 263, 931}, hf.encode("Once upon a time", true));
    for (String t : TEXTS) {
      int[] want = ref.encode(t, true);
      assertArrayEquals(want, hf.encode(t, true), "encode " + t);
      assertArrayEquals(ref.encode(t, false), hf.encode(t, false), "encode without BOS " + t);
      assertEquals(text(ref, want), text(hf, want), "decode " + t);
    }
    // the one documented difference: like transformers, tokenizer.json matches special tokens in text
    int[] plain = ref.encode("The end.", true);
    int[] withEos = java.util.Arrays.copyOf(plain, plain.length + 1);
    withEos[plain.length] = 2;
    assertArrayEquals(withEos, hf.encode("The end.</s>", true));
    java.util.SplittableRandom r = new java.util.SplittableRandom(9);
    for (int k = 0; k < 200; k++) { // random id sequences decode to the same bytes, byte tokens included
      int[] ids = new int[1 + r.nextInt(12)];
      ids[0] = 1;
      for (int i = 1; i < ids.length; i++) {
        ids[i] = 3 + r.nextInt(32000 - 3);
      }
      assertEquals(text(ref, ids), text(hf, ids), "ids " + java.util.Arrays.toString(ids));
    }
  }

  private static String text(dev.pruneserve.tokenizer.Tokenizer t, int[] ids) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 1; i < ids.length; i++) {
      out.writeBytes(t.piece(ids[i - 1], ids[i]));
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theImportHoldsTheLlama2cImportsTensorsAndGeneratesTheCanonicalContinuation() throws Exception {
    Path onnx = new HfImport(dir.resolve("cache")).modelFile(folder);
    ModelProto imported = ModelProto.parseFrom(Files.readAllBytes(onnx));
    ModelProto direct = LlamaOnnxExporter.export(Llama2cCheckpoint.read(Stories15m.modelFile(Fixtures.stories15m())),
        "stories15M");
    OnnxGraph g = new OnnxGraph(imported);
    assertEquals(direct.getGraph().getInitializerCount(), imported.getGraph().getInitializerCount());
    for (TensorProto t : direct.getGraph().getInitializerList()) {
      assertEquals(t, g.initializer(t.getName()).orElseThrow(), t.getName());
    }
    assertEquals(direct.getGraph().getNodeList(), imported.getGraph().getNodeList());
    try (ModelSession s = OrtRuntime.cpu(1).load("hf/1", onnx); KvDecoder d = new KvDecoder(s)) {
      int[] prompt = hf.encode("Once upon a time", true);
      float[] logits = d.step(prompt);
      int next = argmax(logits, prompt.length - 1);
      int[] got = new int[20];
      for (int i = 0; i < 20; i++) {
        got[i] = next;
        next = argmax(d.step(new int[] {next}), 0);
      }
      assertArrayEquals(new int[] {29892, 727, 471, 263, 2217, 7826, 4257, 365, 2354, 29889, 2296, 18012, 304, 1708,
          5377, 297, 278, 6575, 845, 457}, got);
    }
  }

  private static int argmax(float[] logits, int row) {
    int best = 0;
    for (int i = 1; i < 32000; i++) {
      if (logits[row * 32000 + i] > logits[row * 32000 + best]) {
        best = i;
      }
    }
    return best;
  }
}
