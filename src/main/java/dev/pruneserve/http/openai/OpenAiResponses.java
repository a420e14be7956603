package dev.pruneserve.http.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.http.HttpErrors;
import dev.pruneserve.http.JsonBody;
import dev.pruneserve.http.StreamedGeneration;
import dev.pruneserve.llm.GenerationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Completion and chat-completion bodies and stream chunks as the OpenAI API writes them, for one
 * request: {@code model} is the name the client asked for (as vLLM answers), {@code
 * system_fingerprint} the model and version that served it (an alias shows its target there).
 * Not thread-safe: one instance per request.
 */
final class OpenAiResponses implements StreamedGeneration.Frames {
  private final boolean chat;
  private final String id;
  private final long created = System.currentTimeMillis() / 1000;
  private final String model;
  private final boolean includeUsage;

  OpenAiResponses(boolean chat, String model, boolean includeUsage) {
    this.chat = chat;
    this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
    this.model = model;
    this.includeUsage = includeUsage;
  }

  /** The non-streamed body. */
  String whole(GenerationResult r) {
    ObjectNode root = head(chat ? "chat.completion" : "text_completion");
    root.put("system_fingerprint", fingerprint(r));
    ObjectNode choice = root.putArray("choices").addObject().put("index", 0);
    if (chat) {
      choice.putObject("message").put("role", "assistant").put("content", r.text());
    } else {
      choice.put("text", r.text());
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", finishReason(r));
    usage(root, r);
    return root.toString();
  }

  @Override
  public List<String> start() {
    if (!chat) {
      return List.of();
    }
    ObjectNode c = chunk();
    delta(c).put("role", "assistant").put("content", "");
    return List.of(c.toString());
  }

  @Override
  public String token(String text) {
    if (text.isEmpty()) {
      return null;
    }
    return textChunk(text).toString();
  }

  @Override
  public List<String> end(GenerationResult r) {
    List<String> out = new ArrayList<>();
    if (!r.trailingText().isEmpty()) {
      out.add(textChunk(r.trailingText()).toString());
    }
    ObjectNode last = chunk();
    last.put("system_fingerprint", fingerprint(r));
    ObjectNode choice = (ObjectNode) last.get("choices").get(0);
    if (chat) {
      choice.putObject("delta");
    } else {
      choice.put("text", "");
    }
    choice.put("finish_reason", finishReason(r));
    out.add(last.toString());
    if (includeUsage) {
      ObjectNode u = head(chat ? "chat.completion.chunk" : "text_completion");
      u.putArray("choices");
      usage(u, r);
      out.add(u.toString());
    }
    out.add("[DONE]");
    return out;
  }

  @Override
  public List<String> error(HttpErrors.Failure f) {
    return List.of(HttpErrors.body(f, "/v1/").toString(), "[DONE]");
  }

  private ObjectNode textChunk(String text) {
    ObjectNode c = chunk();
    if (chat) {
      delta(c).put("content", text);
    } else {
      ((ObjectNode) c.get("choices").get(0)).put("text", text);
    }
    return c;
  }

  private ObjectNode chunk() {
    ObjectNode c = head(chat ? "chat.completion.chunk" : "text_completion");
    ArrayNode choices = c.putArray("choices");
    ObjectNode choice = choices.addObject().put("index", 0);
    if (!chat) {
      choice.put("text", "");
    }
    choice.putNull("logprobs");
    choice.putNull("finish_reason");
    if (includeUsage) {
      c.putNull("usage");
    }
    return c;
  }

  private static ObjectNode delta(ObjectNode chunk) {
    return ((ObjectNode) chunk.get("choices").get(0)).putObject("delta");
  }

  private ObjectNode head(String object) {
    return JsonBody.JSON.createObjectNode().put("id", id).put("object", object).put("created", created)
        .put("model", model);
  }

  private static void usage(ObjectNode root, GenerationResult r) {
    root.putObject("usage").put("prompt_tokens", r.promptTokens()).put("completion_tokens", r.tokenIds().length)
        .put("total_tokens", r.promptTokens() + r.tokenIds().length);
  }

  private static String fingerprint(GenerationResult r) {
    return r.model() + "/" + r.version();
  }

  /** OpenAI has "stop" (EOS or a stop string) and "length" (max_tokens or the context). */
  private static String finishReason(GenerationResult r) {
    return switch (r.reason()) {
      case EOS, STOP -> "stop";
      case LENGTH, CONTEXT, CANCELLED -> "length";
    };
  }
}
