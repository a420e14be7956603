package dev.pruneserve.app;

import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.config.TokenSet;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * With {@code pruneserve.security.protect-metrics}, a route in front of {@code /q/metrics} that
 * answers 401 unless the request carries {@code Authorization: Bearer <token>} with a management or
 * inference token (the same tokens, files and rotation as the gRPC calls). Runs on the event loop:
 * a token check is one {@code stat} and a few comparisons. Thread-safe.
 */
@ApplicationScoped
public class MetricsAccess {
  private static final Logger LOG = Logger.getLogger(MetricsAccess.class);

  void guard(@Observes Router router, ServerConfig config) {
    if (!config.security().protectMetrics()) {
      return;
    }
    TokenSet management = TokenSet.management(config.security());
    TokenSet inference = TokenSet.inference(config.security());
    if (!management.enabled() && !inference.enabled()) {
      LOG.warn("pruneserve.security.protect-metrics is on but no token is configured: /q/metrics answers 401 to all");
    }
    router.route("/q/metrics*").order(Integer.MIN_VALUE).handler(ctx -> check(ctx, management, inference));
  }

  private static void check(RoutingContext ctx, TokenSet management, TokenSet inference) {
    byte[] token = TokenSet.bearer(ctx.request().getHeader("Authorization"));
    if (token != null && (management.matches(token) || inference.matches(token))) {
      ctx.next();
      return;
    }
    ctx.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer")
        .end("/q/metrics needs `Authorization: Bearer <token>` with a management or inference token"
            + " (pruneserve.security.protect-metrics)\n");
  }
}
