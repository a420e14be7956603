package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** Prometheus exposition of the inference counters and latency histogram. */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class MetricsTest {
  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @Test
  void inferenceCountersAndHistogramAreExported() throws Exception {
    stub.modelInfer(Requests.mlp("mlp", 1, 16).build());
    try {
      stub.modelInfer(Requests.mlp("mlp", 1, 16).setModelVersion("9").build());
    } catch (StatusRuntimeException expected) {
      // counted as outcome not_found
    }
    String body = MetricsScrape.body();
    assertTrue(body.lines().anyMatch(l -> l.startsWith("pruneserve_inference_requests_total{")
        && l.contains("model=\"mlp\"") && l.contains("outcome=\"success\"") && l.contains("version=\"3\"")), body);
    assertTrue(body.lines().anyMatch(l -> l.startsWith("pruneserve_inference_requests_total{")
        && l.contains("model=\"_unknown_\"") && l.contains("outcome=\"not_found\"")), "not_found outcome");
    assertTrue(body.lines().noneMatch(l -> l.contains("version=\"9\"")), "client input minted a label value");
    assertTrue(body.contains("pruneserve_inference_duration_seconds_bucket{"), "latency histogram");
  }
}
