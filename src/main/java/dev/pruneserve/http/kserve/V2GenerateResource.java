package dev.pruneserve.http.kserve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.http.HttpErrors;
import dev.pruneserve.http.JsonBody;
import dev.pruneserve.http.StreamedGeneration;
import dev.pruneserve.llm.GenerationRequest;
import dev.pruneserve.llm.GenerationResult;
import dev.pruneserve.llm.GenerationService;
import dev.pruneserve.llm.PromptInput;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.List;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * Triton's generate extension over {@link GenerationService}: {@code POST
 * /v2/models/{name}[/versions/{v}]/generate} answers {@code {model_name, model_version,
 * text_output, finish_reason, prompt_tokens, completion_tokens}}; {@code …/generate_stream} sends
 * one server-sent event per token ({@code text_output} = that token's text, the model named as
 * requested) and a last one with the finish reason and the model and version that served (an
 * alias's target). Inputs and parameters may sit at the top level or under {@code parameters}, in
 * the names of Triton's LLM backends ({@code text_input}, {@code max_tokens}, {@code temperature},
 * {@code top_k}, {@code top_p}, {@code repetition_penalty}, {@code seed} or {@code random_seed},
 * {@code stop} or {@code stop_words}); defaults are pruneserve's gRPC ones (greedy, 64 tokens).
 */
@Path("/v2")
public class V2GenerateResource {
  @Inject GenerationService generation;

  @POST
  @Path("/models/{name}/generate")
  @Consumes(MediaType.WILDCARD)
  public RestMulti<String> generate(@PathParam("name") String name, byte[] body) {
    return answer(name, "", body, false);
  }

  @POST
  @Path("/models/{name}/versions/{version}/generate")
  @Consumes(MediaType.WILDCARD)
  public RestMulti<String> generateVersion(@PathParam("name") String name, @PathParam("version") String version,
      byte[] body) {
    return answer(name, version, body, false);
  }

  @POST
  @Path("/models/{name}/generate_stream")
  @Consumes(MediaType.WILDCARD)
  public RestMulti<String> stream(@PathParam("name") String name, byte[] body) {
    return answer(name, "", body, true);
  }

  @POST
  @Path("/models/{name}/versions/{version}/generate_stream")
  @Consumes(MediaType.WILDCARD)
  public RestMulti<String> streamVersion(@PathParam("name") String name, @PathParam("version") String version,
      byte[] body) {
    return answer(name, version, body, true);
  }

  private RestMulti<String> answer(String name, String version, byte[] body, boolean stream) {
    JsonBody b = JsonBody.parse(body);
    JsonBody p = b.object("parameters");
    String text = first(b.string("text_input"), p.string("text_input"));
    if (text == null) {
      throw ServingException.invalid("'text_input' is required: the prompt");
    }
    Long max = first(b.integer("max_tokens"), p.integer("max_tokens"));
    Float temperature = first(b.number("temperature"), p.number("temperature"));
    Long topK = first(b.integer("top_k"), p.integer("top_k"));
    Float topP = first(b.number("top_p"), p.number("top_p"));
    Float rep = first(b.number("repetition_penalty"), p.number("repetition_penalty"));
    Long seed = first(first(b.integer("seed"), p.integer("seed")), first(b.integer("random_seed"),
        p.integer("random_seed")));
    List<String> stops = new ArrayList<>();
    for (JsonBody from : List.of(b, p)) {
      stops.addAll(from.strings("stop"));
      stops.addAll(from.strings("stop_words"));
    }
    stops.removeIf(String::isEmpty); // Triton clients send "" for "none"
    GenerationRequest req = new GenerationRequest(name, version, PromptInput.text(text), max == null ? 0 : max,
        temperature == null ? 0 : temperature, topK == null ? 0 : topK, topP == null ? 0 : topP,
        rep == null ? 0 : rep, seed, stops);
    if (!stream) {
      return StreamedGeneration.json(generation, req, r -> end(r, r.text()).toString());
    }
    return StreamedGeneration.sse(generation, req, new StreamedGeneration.Frames() {
      @Override
      public List<String> start() {
        return List.of();
      }

      @Override
      public String token(String t) {
        return t.isEmpty() ? null : head(name, version).put("text_output", t).toString();
      }

      @Override
      public List<String> end(GenerationResult r) {
        return List.of(V2GenerateResource.end(r, r.trailingText()).toString());
      }

      @Override
      public List<String> error(HttpErrors.Failure f) {
        return List.of(HttpErrors.body(f, "/v2/").toString());
      }
    });
  }

  private static ObjectNode head(String model, String version) {
    return JsonBody.JSON.createObjectNode().put("model_name", model).put("model_version", version);
  }

  private static ObjectNode end(GenerationResult r, String text) {
    return head(r.model(), r.version()).put("text_output", text).put("finish_reason", r.reason().name().toLowerCase())
        .put("prompt_tokens", r.promptTokens()).put("completion_tokens", r.tokenIds().length);
  }

  private static <T> T first(T a, T b) {
    return a != null ? a : b;
  }
}
