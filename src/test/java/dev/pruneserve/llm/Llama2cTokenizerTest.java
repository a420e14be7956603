package dev.pruneserve.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.tokenizer.Llama2cTokenizer;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The llama2.c tokenizer against the golden ids of fixtures.md and exact decode round trips. */
class Llama2cTokenizerTest {
  static Llama2cTokenizer tok;

  @BeforeAll
  static void load() throws Exception {
    FixtureCache cache = Fixtures.stories15m();
    tok = Llama2cTokenizer.read(Stories15m.tokenizerFile(cache), 32000);
  }

  @Test
  void goldenIds() {
    assertArrayEquals(new int[] {1, 9038, 2501, 263, 931}, tok.encode("Once upon a time", true));
    assertArrayEquals(new int[] {9038, 2501, 263, 931}, tok.encode("Once upon a time", false));
    assertEquals(0, tok.encode("", false).length);
  }

  @Test
  void decodeRoundTripsExactly() {
    for (String s : List.of("Once upon a time, there was a little girl named Lily.",
        "She said: \"Wow!\"\nThe end.", "naïve café — 日本語 🙂", "  two leading spaces", "tabs\tand  gaps ")) {
      assertEquals(s, tok.decode(tok.encode(s, true)), s);
    }
  }

  @Test
  void unknownCharactersFallBackToBytes() {
    int[] ids = tok.encode("🙂", false);
    // the emoji is not in the vocabulary: its four UTF-8 bytes become byte tokens (id = byte + 3)
    assertEquals(List.of(0xF0 + 3, 0x9F + 3, 0x99 + 3, 0x82 + 3),
        java.util.Arrays.stream(ids).boxed().toList().subList(ids.length - 4, ids.length));
  }
}
