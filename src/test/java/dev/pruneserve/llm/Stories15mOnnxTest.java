package dev.pruneserve.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.tokenizer.Llama2cTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The llama2.c → ONNX importer on the real stories15M weights, against the golden values of
 * fixtures.md (independent numpy reference): prompt ids, top-5 last-position logits within 1e-3,
 * the first 20 greedy ids, and KV-cache decoding equal to recomputation within 1e-4.
 */
class Stories15mOnnxTest {
  static final int VOCAB = 32000;
  static ModelSession session;
  static Llama2cTokenizer tok;

  @BeforeAll
  static void export() throws Exception {
    FixtureCache cache = Fixtures.stories15m();
    tok = Llama2cTokenizer.read(Stories15m.tokenizerFile(cache), VOCAB);
    Llama2cCheckpoint ck = Llama2cCheckpoint.read(Stories15m.modelFile(cache));
    Path file = Files.createTempFile("stories15m", ".onnx");
    Files.write(file, LlamaOnnxExporter.export(ck, "stories15M").toByteArray());
    session = new OrtRuntime(OrtRuntime.settings(ServerConfig.Device.CPU, true, 1)).load("stories15m/1", file);
    Files.delete(file);
  }

  @AfterAll
  static void close() {
    session.close();
  }

  static int argmax(float[] logits, int row, int vocab) {
    int best = 0;
    for (int v = 1; v < vocab; v++) {
      if (logits[row * vocab + v] > logits[row * vocab + best]) {
        best = v;
      }
    }
    return best;
  }

  @Test
  void goldenLogitsOfThePrompt() {
    int[] ids = tok.encode("Once upon a time", true);
    assertArrayEquals(new int[] {1, 9038, 2501, 263, 931}, ids);
    float[] logits;
    try (KvDecoder d = new KvDecoder(session)) {
      logits = d.step(ids);
    }
    assertEquals(-6.7908f, logits[0], 1e-3f);
    assertEquals(0.8281f, logits[1], 1e-3f);
    assertEquals(-6.7904f, logits[2], 1e-3f);
    int last = ids.length - 1;
    Integer[] order = new Integer[VOCAB];
    for (int i = 0; i < VOCAB; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(logits[last * VOCAB + b], logits[last * VOCAB + a]));
    int[] top = {29892, 727, 297, 263, 1023};
    float[] topValues = {18.3598f, 14.9789f, 11.3668f, 10.0175f, 7.9932f};
    for (int k = 0; k < 5; k++) {
      assertEquals(top[k], order[k], "rank " + k);
      assertEquals(topValues[k], logits[last * VOCAB + top[k]], 1e-3f, "logit of " + top[k]);
    }
  }

  @Test
  void greedyContinuationWithKvCache() {
    try (KvDecoder r = new KvDecoder(session)) {
      int[] prompt = tok.encode("Once upon a time", true);
      float[] logits = r.step(prompt);
      int next = argmax(logits, prompt.length - 1, VOCAB);
      int[] got = new int[20];
      for (int i = 0; i < 20; i++) {
        got[i] = next;
        next = argmax(r.step(new int[] {next}), 0, VOCAB);
      }
      assertArrayEquals(new int[] {29892, 727, 471, 263, 2217, 7826, 4257, 365, 2354, 29889, 2296, 18012, 304,
          1708, 5377, 297, 278, 6575, 845, 457}, got);
      int[] all = new int[prompt.length + got.length];
      System.arraycopy(prompt, 0, all, 0, prompt.length);
      System.arraycopy(got, 0, all, prompt.length, got.length);
      assertTrue(tok.decode(all).startsWith("Once upon a time, there was a little girl named Lily. She loved to play"
          + " outside in the sunshine"), tok.decode(all));
    }
  }

  @Test
  void kvCacheEqualsRecomputation() {
    int[] seq = {1, 9038, 2501, 263, 931, 29892, 727, 471, 263, 2217};
    float[] incremental = null;
    float[] full;
    try (KvDecoder cached = new KvDecoder(session); KvDecoder whole = new KvDecoder(session)) {
      cached.step(Arrays.copyOf(seq, 6));
      for (int i = 6; i < seq.length; i++) {
        incremental = cached.step(new int[] {seq[i]});
      }
      full = whole.step(seq);
    }
    float[] lastFull = Arrays.copyOfRange(full, (seq.length - 1) * VOCAB, seq.length * VOCAB);
    float maxDiff = 0;
    for (int v = 0; v < VOCAB; v++) {
      maxDiff = Math.max(maxDiff, Math.abs(lastFull[v] - incremental[v]));
    }
    assertTrue(maxDiff <= 1e-4f, "max |cached - recomputed| = " + maxDiff);
  }

  @Test
  void selfSamplesAreSeededStoriesThatStopAtBosOrEos() {
    var a = SelfSampler.sample(session, 3, 48, 5, tok.bosId(), tok.stopIds(), n -> {});
    var b = SelfSampler.sample(session, 3, 48, 5, tok.bosId(), tok.stopIds(), n -> {});
    var c = SelfSampler.sample(session, 3, 48, 6, tok.bosId(), tok.stopIds(), n -> {});
    assertEquals(3, a.size());
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(a.get(i), b.get(i), "same seed, same sequence");
      int[] s = a.get(i);
      assertEquals(tok.bosId(), s[0]);
      assertTrue(s.length >= 2 && s.length <= 48);
      assertTrue(Arrays.stream(s, 1, s.length).noneMatch(id -> id == tok.bosId() || id == tok.eosId()));
    }
    assertTrue(!Arrays.equals(a.get(0), c.get(0)) || !Arrays.equals(a.get(1), c.get(1)), "another seed differs");
    java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
    int[] s0 = a.get(0);
    for (int i = 1; i < s0.length; i++) {
      text.writeBytes(tok.piece(s0[i - 1], s0[i]));
    }
    assertTrue(text.toString(java.nio.charset.StandardCharsets.UTF_8).chars().filter(Character::isLetter).count() > 20,
        "samples are text");
  }
}
