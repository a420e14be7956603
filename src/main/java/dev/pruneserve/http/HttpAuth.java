package dev.pruneserve.http;

import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.config.TokenSet;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Bearer tokens on the HTTP routes, as on gRPC ({@code BearerAuth}): every {@code /v1} and {@code
 * /v2} route is an inference call and, when inference tokens are configured, needs {@code
 * Authorization: Bearer <token>} with an inference or management token (none → 401, another →
 * 403); {@code /v2/health/*} stays open like gRPC health. Same token files and rotation. Runs
 * before routing; thread-safe.
 */
public final class HttpAuth {
  private final TokenSet management;
  private final TokenSet inference;

  public HttpAuth(ServerConfig config) {
    this.management = TokenSet.management(config.security());
    this.inference = TokenSet.inference(config.security());
  }

  @ServerRequestFilter(preMatching = true)
  public Response check(ContainerRequestContext ctx) {
    String path = ctx.getUriInfo().getPath();
    if (!inference.enabled() || path.startsWith("/v2/health/")
        || !(path.startsWith("/v1/") || path.equals("/v2") || path.startsWith("/v2/"))) {
      return null;
    }
    byte[] token = TokenSet.bearer(ctx.getHeaderString("Authorization"));
    if (token == null) {
      return HttpErrors.response(new HttpErrors.Failure(401, path + " needs the header `Authorization: Bearer"
          + " <token>` with an inference or management token"), path);
    }
    if (inference.matches(token) || management.matches(token)) {
      return null;
    }
    return HttpErrors.response(new HttpErrors.Failure(403, "the bearer token is not an inference token"
        + " (pruneserve.security.inference-tokens or management-tokens)"), path);
  }
}
