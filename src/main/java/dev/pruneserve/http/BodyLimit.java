package dev.pruneserve.http;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Requests to {@code /v1} and {@code /v2} whose {@code Content-Length} exceeds {@code
 * pruneserve.max-message-bytes} (also the HTTP body limit) get 413 with the API's JSON error body
 * naming the limit, before any byte is read; chunked bodies over it still get the HTTP layer's bare
 * 413. Runs on the event loop; stateless.
 */
@ApplicationScoped
public class BodyLimit {
  @ConfigProperty(name = "pruneserve.max-message-bytes") long limit;

  void install(@Observes Router router) {
    router.route().order(Integer.MIN_VALUE + 1).handler(ctx -> {
      String path = ctx.normalizedPath();
      String length = ctx.request().getHeader("Content-Length");
      if (length != null && (path.startsWith("/v1/") || path.startsWith("/v2/")) && tooLong(length)) {
        String body = HttpErrors.body(new HttpErrors.Failure(413, "the request body is " + length.trim()
            + " bytes, more than this server accepts (pruneserve.max-message-bytes = " + limit + ")"), path).toString();
        ctx.response().setStatusCode(413).putHeader("Content-Type", "application/json").putHeader("Connection", "close")
            .end(body);
        return;
      }
      ctx.next();
    });
  }

  private boolean tooLong(String length) {
    try {
      return Long.parseLong(length.trim()) > limit;
    } catch (NumberFormatException e) {
      return false; // the HTTP layer refuses it
    }
  }
}
