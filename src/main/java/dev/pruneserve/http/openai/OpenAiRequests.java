package dev.pruneserve.http.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.http.JsonBody;
import dev.pruneserve.llm.GenerationRequest;
import dev.pruneserve.llm.PromptInput;
import dev.pruneserve.tokenizer.ChatTemplate;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI completion and chat requests → {@link GenerationRequest}, in OpenAI's field names and
 * defaults ({@code temperature} 1, {@code top_p} 1, completions {@code max_tokens} 16, chat until
 * the context or the server's limit), plus vLLM's extensions {@code top_k} and {@code
 * repetition_penalty}, and pruneserve's {@code version}. What pruneserve cannot honour ({@code n} ≠ 1,
 * logprobs, echo, penalties, tools…) is refused with a message naming the field; fields it does not
 * know are ignored, as vLLM does. Stateless.
 */
final class OpenAiRequests {
  /** OpenAI's default {@code max_tokens} for completions. */
  static final int COMPLETION_MAX_TOKENS = 16;

  /** A parsed request: what to generate and how to answer. */
  record Parsed(GenerationRequest generation, boolean stream, boolean includeUsage) {}

  private OpenAiRequests() {}

  static Parsed completion(JsonBody b) {
    JsonNode p = b.get("prompt");
    if (p == null) {
      throw ServingException.invalid("'prompt' is required");
    }
    List<String> prompts = b.strings("prompt");
    if (prompts.size() != 1) {
      throw ServingException.invalid("'prompt' must be one string (or an array of one); send one request per"
          + " prompt, got " + prompts.size());
    }
    refuse(b, "echo", v -> v.isBoolean() && !v.asBoolean(), "is not supported");
    refuse(b, "best_of", v -> v.isIntegralNumber() && v.asLong() == 1, "must be 1");
    refuse(b, "suffix", v -> false, "(insertion) is not supported");
    refuse(b, "logprobs", v -> v.isIntegralNumber() && v.asLong() == 0, "is not supported");
    Long max = b.integer("max_tokens");
    return parsed(b, PromptInput.text(prompts.get(0)), max == null ? COMPLETION_MAX_TOKENS : max);
  }

  /** @param limit the server's max_new_tokens limit: a chat without max_tokens runs until it or the context */
  static Parsed chat(JsonBody b, int limit) {
    JsonNode msgs = b.array("messages");
    if (msgs.isEmpty()) {
      throw ServingException.invalid("'messages' is required: a non-empty array of {role, content}");
    }
    List<ChatTemplate.Message> messages = new ArrayList<>();
    for (int i = 0; i < msgs.size(); i++) {
      JsonBody m = JsonBody.element(msgs.get(i), "messages[" + i + "]");
      String role = m.requiredString("role");
      if (m.has("tool_calls") || role.equals("tool") || role.equals("function")) {
        throw ServingException.invalid("messages[" + i + "]: tool and function calls are not supported");
      }
      messages.add(new ChatTemplate.Message(role, content(m, "messages[" + i + "]")));
    }
    refuse(b, "logprobs", v -> v.isBoolean() && !v.asBoolean(), "is not supported");
    refuse(b, "top_logprobs", v -> false, "is not supported");
    refuse(b, "tools", v -> v.isArray() && v.isEmpty(), "is not supported");
    refuse(b, "tool_choice", v -> v.isTextual() && v.asText().equals("none"), "is not supported");
    refuse(b, "functions", v -> false, "is not supported");
    refuse(b, "response_format", v -> v.path("type").asText().equals("text"),
        "is not supported other than {\"type\": \"text\"}");
    Long max = b.integer("max_completion_tokens");
    if (max == null) {
      max = b.integer("max_tokens");
    }
    return parsed(b, new PromptInput("", messages), max == null ? limit : max);
  }

  /** A message's text: a string, or an array of text parts (joined); other parts are refused. */
  private static String content(JsonBody m, String name) {
    JsonNode c = m.get("content");
    if (c == null) {
      return "";
    }
    if (c.isTextual()) {
      return c.asText();
    }
    if (!c.isArray()) {
      throw ServingException.invalid("'" + name + ".content' must be a string or an array of text parts");
    }
    StringBuilder text = new StringBuilder();
    for (int j = 0; j < c.size(); j++) {
      JsonBody part = JsonBody.element(c.get(j), name + ".content[" + j + "]");
      String type = part.requiredString("type");
      if (!type.equals("text")) {
        throw ServingException.invalid(name + ".content[" + j + "]: content of type '" + type
            + "' is not supported; this server takes text parts only");
      }
      text.append(part.requiredString("text"));
    }
    return text.toString();
  }

  private static Parsed parsed(JsonBody b, PromptInput prompt, long maxTokens) {
    String model = b.requiredString("model");
    refuse(b, "n", v -> v.isIntegralNumber() && v.asLong() == 1, "must be 1: send one request per choice");
    refuse(b, "logit_bias", v -> v.isObject() && v.isEmpty(), "is not supported");
    for (String penalty : List.of("presence_penalty", "frequency_penalty")) {
      refuse(b, penalty, v -> v.isNumber() && v.asDouble() == 0,
          "is not supported; use repetition_penalty (1 = off)");
    }
    if (maxTokens < 1) {
      throw ServingException.invalid("'max_tokens' must be at least 1, got " + maxTokens);
    }
    Float temperature = b.number("temperature");
    Float topP = b.number("top_p");
    Long topK = b.integer("top_k");
    Float rep = b.number("repetition_penalty");
    Long seed = b.integer("seed");
    boolean stream = Boolean.TRUE.equals(b.bool("stream"));
    Boolean usage = b.object("stream_options").bool("include_usage");
    if (topK != null && topK < 0) { // vLLM's -1 = off
      topK = 0L;
    }
    String version = b.string("version");
    return new Parsed(new GenerationRequest(model, version == null ? "" : version, prompt, maxTokens,
        temperature == null ? 1f : temperature, topK == null ? 0 : topK, topP == null ? 1f : topP,
        rep == null ? 1f : rep, seed, b.strings("stop")), stream, Boolean.TRUE.equals(usage));
  }

  /** Refuses {@code field} when present and not {@code ok} (its harmless default). */
  private static void refuse(JsonBody b, String field, java.util.function.Predicate<JsonNode> ok, String why) {
    JsonNode v = b.get(field);
    if (v != null && !ok.test(v)) {
      throw ServingException.invalid("'" + field + "' " + why);
    }
  }
}
