package dev.pruneserve.http;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The generation routes answer JSON or server-sent events by the body's {@code stream} flag (or the
 * route: {@code generate_stream}), not by {@code Accept}: OpenAI's SDKs send {@code Accept:
 * application/json} for streams too. Before routing, their {@code Accept} is widened to any type;
 * the response's own {@code Content-Type} then says which it is. Stateless.
 */
public final class StreamNegotiation {
  @ServerRequestFilter(preMatching = true)
  public void acceptAnything(ContainerRequestContext ctx) {
    String path = ctx.getUriInfo().getPath();
    if (path.equals("/v1/completions") || path.equals("/v1/chat/completions")
        || (path.startsWith("/v2/models/") && (path.endsWith("/generate") || path.endsWith("/generate_stream")))) {
      ctx.getHeaders().putSingle(HttpHeaders.ACCEPT, "*/*");
    }
  }
}
