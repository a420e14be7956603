package dev.pruneserve.llm;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.tokenizer.ChatTemplate;
import dev.pruneserve.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What a generation starts from: a text prompt (encoded with BOS) or chat messages (rendered with
 * the model's chat template, which writes its own special tokens, then encoded without BOS, as
 * transformers' {@code apply_chat_template} does). Immutable.
 */
public record PromptInput(String prompt, List<ChatTemplate.Message> messages) {
  public PromptInput {
    messages = messages == null ? List.of() : List.copyOf(messages);
    prompt = prompt == null ? "" : prompt;
    if (!prompt.isEmpty() && !messages.isEmpty()) {
      throw ServingException.invalid("set prompt or messages, not both");
    }
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i).role() == null || messages.get(i).role().isBlank()) {
        throw ServingException.invalid("messages[" + i + "].role is empty");
      }
    }
  }

  public static PromptInput text(String prompt) {
    return new PromptInput(prompt, List.of());
  }

  /** What a template adds around each message at most, counted against the byte limits. */
  static final int MESSAGE_OVERHEAD_BYTES = 64;

  /**
   * UTF-8 bytes of the prompt, or of every message's role and content plus
   * {@value #MESSAGE_OVERHEAD_BYTES} per message (what the server's byte limits count).
   */
  public long bytes() {
    long n = prompt.getBytes(StandardCharsets.UTF_8).length;
    for (ChatTemplate.Message m : messages) {
      n += MESSAGE_OVERHEAD_BYTES + m.role().getBytes(StandardCharsets.UTF_8).length
          + (m.content() == null ? 0 : m.content().getBytes(StandardCharsets.UTF_8).length);
    }
    return n;
  }

  /** Token ids to feed; a rendered chat longer than {@code maxBytes} is refused before tokenizing. */
  int[] encode(Tokenizer tok, String model, long maxBytes) {
    if (messages.isEmpty()) {
      return tok.encode(prompt, true);
    }
    ChatTemplate t = tok.chatTemplate().orElseThrow(() -> ServingException.precondition("model '" + model
        + "' has no chat template (tokenizer_config.json chat_template); send a prompt instead of messages"));
    String text;
    try {
      text = t.render(messages, true, java.util.Map.of());
    } catch (IllegalArgumentException e) {
      throw ServingException.invalid("model '" + model + "': " + e.getMessage());
    }
    long bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > maxBytes) {
      throw ServingException.invalid("the rendered chat is " + bytes + " bytes, far more than model '" + model
          + "' can take");
    }
    return tok.encode(text, false);
  }
}
