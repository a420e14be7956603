package dev.pruneserve.grpc;

import dev.pruneserve.model.HealthReporter;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.quarkus.grpc.runtime.health.GrpcHealthStorage;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/** Publishes readiness as the default service's grpc.health.v1 status (when the health service is on). */
@ApplicationScoped
public class GrpcHealthReporter implements HealthReporter {
  @Inject Instance<GrpcHealthStorage> health;

  @Override
  public void serving(boolean serving) {
    ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.stream().forEach(h -> h.setStatus(GrpcHealthStorage.DEFAULT_SERVICE_NAME, status));
  }
}
