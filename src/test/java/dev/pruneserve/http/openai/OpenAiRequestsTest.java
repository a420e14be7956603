package dev.pruneserve.http.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.http.JsonBody;
import dev.pruneserve.llm.GenerationRequest;
import dev.pruneserve.tokenizer.ChatTemplate;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** OpenAI request bodies → generation requests: OpenAI's defaults, vLLM's extensions, precise refusals. */
class OpenAiRequestsTest {
  private static JsonBody body(String json) {
    return JsonBody.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void completionTakesOpenAiDefaults() {
    OpenAiRequests.Parsed p = OpenAiRequests.completion(body("{\"model\": \"m\", \"prompt\": [\"hi\"]}"));
    GenerationRequest g = p.generation();
    assertEquals("m", g.model());
    assertEquals(OpenAiRequests.COMPLETION_MAX_TOKENS, g.maxNewTokens());
    assertEquals(1f, g.temperature());
    assertEquals(1f, g.topP());
    assertEquals(null, g.seed());
    assertEquals(List.of(), g.stops());
    assertEquals(false, p.stream());
  }

  @Test
  void completionTakesEveryHonouredField() {
    GenerationRequest g = OpenAiRequests.completion(body("{\"model\": \"m\", \"prompt\": \"hi\", \"max_tokens\": 5,"
        + " \"temperature\": 0, \"top_p\": 0.5, \"top_k\": -1, \"repetition_penalty\": 1.1, \"seed\": 9,"
        + " \"stop\": \"\\n\", \"n\": 1, \"echo\": false, \"logprobs\": null, \"presence_penalty\": 0,"
        + " \"user\": \"ignored\", \"version\": \"2\"}")).generation();
    assertEquals(5, g.maxNewTokens());
    assertEquals(0f, g.temperature());
    assertEquals(0.5f, g.topP());
    assertEquals(0, g.topK());
    assertEquals(1.1f, g.repetitionPenalty());
    assertEquals(9L, g.seed());
    assertEquals(List.of("\n"), g.stops());
    assertEquals("2", g.version());
  }

  @Test
  void chatJoinsTextPartsAndRunsToTheLimitByDefault() {
    OpenAiRequests.Parsed p = OpenAiRequests.chat(body("{\"model\": \"m\", \"stream\": true, \"stream_options\":"
        + " {\"include_usage\": true}, \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
        + " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"}, {\"type\": \"text\","
        + " \"text\": \"b\"}]}]}"), 4096);
    assertEquals(4096, p.generation().maxNewTokens());
    assertTrue(p.stream() && p.includeUsage());
    assertEquals(List.of(new ChatTemplate.Message("system", "Be brief."), new ChatTemplate.Message("user", "ab")),
        p.generation().prompt().messages());
    assertEquals(7, OpenAiRequests.chat(body("{\"model\": \"m\", \"max_completion_tokens\": 7, \"max_tokens\": 3,"
        + " \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}"), 4096).generation().maxNewTokens());
  }

  @Test
  void whatCannotBeHonouredIsRefusedByName() {
    String[][] completions = {{"\"n\": 2", "'n' must be 1"}, {"\"echo\": true", "'echo' is not supported"},
        {"\"logprobs\": 3", "'logprobs' is not supported"}, {"\"best_of\": 2", "'best_of' must be 1"},
        {"\"frequency_penalty\": 0.5", "use repetition_penalty"}, {"\"max_tokens\": 0", "at least 1"},
        {"\"max_tokens\": 2.5", "'max_tokens' must be an integer"}, {"\"temperature\": \"hot\"", "must be a number"},
        {"\"stop\": [1]", "'stop[0]' must be a string"}, {"\"logit_bias\": {\"5\": 1}", "'logit_bias'"}};
    for (String[] c : completions) {
      ServingException e = assertThrows(ServingException.class, () -> OpenAiRequests.completion(body(
          "{\"model\": \"m\", \"prompt\": \"x\", " + c[0] + "}")), c[0]);
      assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind());
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
    assertTrue(assertThrows(ServingException.class, () -> OpenAiRequests.completion(body(
        "{\"model\": \"m\", \"prompt\": [\"a\", \"b\"]}"))).getMessage().contains("one request per prompt"));
    assertTrue(assertThrows(ServingException.class, () -> OpenAiRequests.completion(body("{\"prompt\": \"x\"}")))
        .getMessage().contains("'model' is required"));
    String[][] chats = {{"[]", "'messages' is required"},
        {"[{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]", "content of type 'image_url'"},
        {"[{\"role\": \"tool\", \"content\": \"x\"}]", "tool and function calls"}, {"[{\"content\": \"x\"}]",
            "'messages[0].role' is required"}};
    for (String[] c : chats) {
      ServingException e = assertThrows(ServingException.class, () -> OpenAiRequests.chat(body(
          "{\"model\": \"m\", \"messages\": " + c[0] + "}"), 16), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
  }
}
