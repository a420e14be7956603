package dev.pruneserve.http;

import dev.pruneserve.llm.GenerationRequest;
import dev.pruneserve.llm.GenerationResult;
import dev.pruneserve.llm.GenerationService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * One generation of {@link GenerationService} run on a worker thread and answered over HTTP, either
 * as one JSON body or as server-sent events framed by the caller's API. A request that fails before
 * its first token answers an HTTP error (mapped by {@link HttpErrors}); one that fails later ends
 * its stream with the API's error event. A client that leaves a stream cancels the generation at its
 * next step; a non-streamed generation runs to its end (bounded by max_tokens and the context).
 * Stateless; the returned stream is single-subscriber.
 */
public final class StreamedGeneration {
  /** How one API frames a generation's events as SSE {@code data:} payloads. */
  public interface Frames {
    /** Payloads before the first token (e.g. the assistant role); may be empty. */
    List<String> start();

    /** The payload for a token's newly visible text, or null to send nothing. */
    String token(String text);

    /** Payloads after the last token: the final chunk, usage, the terminator. */
    List<String> end(GenerationResult r);

    /** Payloads for a failure after the stream began, including any terminator. */
    List<String> error(HttpErrors.Failure f);
  }

  private static final Map<String, List<String>> SSE = Map.of("Content-Type", List.of("text/event-stream"),
      "Cache-Control", List.of("no-cache"));
  private static final Map<String, List<String>> JSON = Map.of("Content-Type", List.of("application/json"));

  private StreamedGeneration() {}

  /** The whole generation as one JSON body made by {@code body}. */
  public static RestMulti<String> json(GenerationService generation, GenerationRequest req,
      Function<GenerationResult, String> body) {
    Uni<String> result = Uni.createFrom().item(() -> body.apply(generation.generate(req, () -> false, t -> {})))
        .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    return RestMulti.fromUniResponse(result, Multi.createFrom()::item, s -> JSON, s -> 200);
  }

  /** The generation as server-sent events, each payload framed as {@code data: <payload>}. */
  public static RestMulti<String> sse(GenerationService generation, GenerationRequest req, Frames frames) {
    UnicastProcessor<String> out = UnicastProcessor.create();
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<Void> started = new CompletableFuture<>();
    Infrastructure.getDefaultWorkerPool().execute(() -> {
      try {
        GenerationResult r = generation.generate(req, cancelled::get, t -> {
          begin(started, frames, out);
          String payload = frames.token(t.text());
          if (payload != null) {
            out.onNext(frame(payload));
          }
        });
        begin(started, frames, out);
        frames.end(r).forEach(p -> out.onNext(frame(p)));
      } catch (RuntimeException | Error e) {
        if (!started.completeExceptionally(e)) { // the stream is under way: report in-band
          frames.error(HttpErrors.failure(e)).forEach(p -> out.onNext(frame(p)));
        }
      }
      out.onComplete();
    });
    Multi<String> events = out.onCancellation().invoke(() -> cancelled.set(true));
    return RestMulti.fromUniResponse(Uni.createFrom().completionStage(started), v -> events, v -> SSE, v -> 200);
  }

  private static void begin(CompletableFuture<Void> started, Frames frames, UnicastProcessor<String> out) {
    if (!started.isDone()) {
      frames.start().forEach(p -> out.onNext(frame(p)));
      started.complete(null);
    }
  }

  private static String frame(String payload) {
    return "data: " + payload + "\n\n";
  }
}
