package dev.pruneserve.http.openai;

import dev.pruneserve.http.JsonBody;
import dev.pruneserve.http.StreamedGeneration;
import dev.pruneserve.llm.GenerationService;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * {@code POST /v1/completions} and {@code /v1/chat/completions} over {@link GenerationService}:
 * one JSON body, or with {@code "stream": true} server-sent events ending in {@code data: [DONE]}.
 * Chat renders the model's chat template (400 naming the missing template when it has none).
 * Parsing runs on the event loop; generation on a worker thread.
 */
@Path("/v1")
public class CompletionsResource {
  @Inject GenerationService generation;

  @POST
  @Path("/completions")
  @Consumes(MediaType.WILDCARD)
  public RestMulti<String> completions(byte[] body) {
    return answer(false, OpenAiRequests.completion(JsonBody.parse(body)));
  }

  @POST
  @Path("/chat/completions")
  @Consumes(MediaType.WILDCARD)
  public RestMulti<String> chat(byte[] body) {
    return answer(true, OpenAiRequests.chat(JsonBody.parse(body), generation.limits().maxNewTokens()));
  }

  private RestMulti<String> answer(boolean chat, OpenAiRequests.Parsed p) {
    OpenAiResponses wire = new OpenAiResponses(chat, p.generation().model(), p.includeUsage());
    return p.stream() ? StreamedGeneration.sse(generation, p.generation(), wire)
        : StreamedGeneration.json(generation, p.generation(), wire::whole);
  }
}
