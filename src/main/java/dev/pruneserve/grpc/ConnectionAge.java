package dev.pruneserve.grpc;

import dev.pruneserve.config.ServerConfig;
import io.grpc.ServerBuilder;
import io.quarkus.grpc.api.ServerBuilderCustomizer;
import io.quarkus.grpc.runtime.config.GrpcServerConfiguration;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Applies {@code pruneserve.limits.max-connection-age} (and its grace) to the gRPC server: a
 * connection past its age gets GOAWAY, and once the grace has passed too it is closed, releasing the
 * responses of clients that never read them. Unset: nothing changes. Called once at start.
 */
@ApplicationScoped
@SuppressWarnings({"rawtypes", "unchecked"}) // Quarkus passes a Netty or a Vert.x builder
public class ConnectionAge implements ServerBuilderCustomizer {
  private final ServerConfig config;

  public ConnectionAge(ServerConfig config) {
    this.config = config;
  }

  @Override
  public void customize(GrpcServerConfiguration grpc, ServerBuilder builder) {
    apply(config.limits().maxConnectionAge(), config.limits().maxConnectionAgeGrace(), builder);
  }

  /** Sets {@code age} and {@code grace} on {@code builder} when an age is configured. */
  static void apply(Optional<Duration> age, Duration grace, ServerBuilder<?> builder) {
    age.ifPresent(a -> builder.maxConnectionAge(a.toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAgeGrace(grace.toMillis(), TimeUnit.MILLISECONDS));
  }
}
