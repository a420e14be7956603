package dev.pruneserve.model;

/**
 * Where the server's readiness is published (e.g. grpc.health.v1, implemented by the gRPC
 * adapter); called on the lifecycle's thread, must not block.
 */
public interface HealthReporter {
  void serving(boolean serving);
}
