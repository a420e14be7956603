package dev.pruneserve.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The heap-based BPE merge gives exactly llama2.c's quadratic merge (a reference written here from
 * the file format) on many strings, and its work grows linearly in the input: heap pushes stay
 * within 3 per initial token however long the text (counted, not timed).
 */
class Llama2cMergeTest {
  static Llama2cTokenizer tok;
  static byte[][] pieces;
  static float[] scores;
  static Map<String, Integer> ids = new HashMap<>();

  @BeforeAll
  static void load() throws Exception {
    FixtureCache cache = Fixtures.stories15m();
    Path file = Stories15m.tokenizerFile(cache);
    tok = Llama2cTokenizer.read(file, 32000);
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    b.getInt();
    pieces = new byte[32000][];
    scores = new float[32000];
    for (int i = 0; i < 32000; i++) {
      scores[i] = b.getFloat();
      pieces[i] = new byte[b.getInt()];
      b.get(pieces[i]);
    }
    for (int i = 0; i < 256; i++) {
      pieces[3 + i] = new byte[] {(byte) i};
    }
    for (int i = 0; i < 32000; i++) {
      ids.put(new String(pieces[i], StandardCharsets.ISO_8859_1), i);
    }
  }

  /** llama2.c's encode: space, code points (byte fallback), then the best-scoring pair, leftmost, until none. */
  static int[] reference(String text) {
    List<Integer> t = new ArrayList<>();
    if (!text.isEmpty()) {
      t.add(ids.get(" "));
    }
    text.codePoints().forEach(cp -> {
      byte[] u = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
      Integer id = ids.get(new String(u, StandardCharsets.ISO_8859_1));
      if (id != null) {
        t.add(id);
      } else {
        for (byte x : u) {
          t.add((x & 0xff) + 3);
        }
      }
    });
    while (true) {
      float best = Float.NEGATIVE_INFINITY;
      int at = -1;
      int merged = -1;
      for (int i = 0; i + 1 < t.size(); i++) {
        Integer id = ids.get(new String(pieces[t.get(i)], StandardCharsets.ISO_8859_1)
            + new String(pieces[t.get(i + 1)], StandardCharsets.ISO_8859_1));
        if (id != null && scores[id] > best) {
          best = scores[id];
          at = i;
          merged = id;
        }
      }
      if (at < 0) {
        return t.stream().mapToInt(Integer::intValue).toArray();
      }
      t.set(at, merged);
      t.remove(at + 1);
    }
  }

  @Test
  void mergesExactlyAsLlama2c() {
    SplittableRandom rng = new SplittableRandom(7);
    String alphabet = "abcdefghijklmnopqrstuvwxyz      ,.!?'\nETAONéü日本🙂";
    List<String> texts = new ArrayList<>(List.of("Once upon a time, there was a little girl named Lily.",
        "aaaaaaaaaaaaaaaaaaaa", "the the the the the", "  two leading spaces", "naïve café — 日本語 🙂"));
    for (int i = 0; i < 300; i++) {
      StringBuilder s = new StringBuilder();
      int len = 1 + rng.nextInt(60);
      for (int k = 0; k < len; k++) {
        s.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, rng.nextInt(alphabet.codePointCount(0,
            alphabet.length())))));
      }
      texts.add(s.toString());
    }
    for (String s : texts) {
      assertArrayEquals(reference(s), tok.encode(s, false), s);
    }
  }

  @Test
  void workGrowsLinearlyWithTheInput() {
    String story = "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. ";
    for (int repeats = 8; repeats <= 1024; repeats *= 4) {
      String text = story.repeat(repeats);
      long[] work = new long[1];
      tok.encode(text, true, work);
      long initial = text.codePoints().count() + 1;
      assertTrue(work[0] <= 3 * initial, repeats + " repeats: " + work[0] + " heap pushes for " + initial + " tokens");
      assertTrue(work[0] >= initial / 2, "the counter counts: " + work[0]);
    }
  }
}
