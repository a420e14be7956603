package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Responses beyond pruneserve.limits.max-response-bytes are refused with RESOURCE_EXHAUSTED naming
 * the setting — before the run when the output's dynamic dims are named like the request's input
 * dims, else after it — and the model keeps serving requests within the limit.
 */
class ResponseLimitTest {
  @TempDir Path root;

  @Test
  void responsesOverTheLimitAreRefusedNamingTheSetting() throws Exception {
    TestModels.write(root, "mlp", 1, ModelBuilder.mlp("mlp", 1, 16, 8, 4)); // y [batch, 4] FP32
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("mlp");
    InferenceService service = new InferenceService(registry, new SimpleMeterRegistry(), 4 * 4 * 2);
    InferenceRequest two = request(2);
    assertEquals(1, service.infer(two).outputs().size(), "2 x 4 floats = 32 bytes: within the limit");
    ServingException e = assertThrows(ServingException.class, () -> service.infer(request(3)));
    assertEquals(ErrorKind.RESOURCE_EXHAUSTED, e.kind());
    assertTrue(e.getMessage().contains("pruneserve.limits.max-response-bytes = 32") && e.getMessage().contains("48"),
        e.getMessage());
    assertEquals(1, service.infer(two).outputs().size(), "still serving");
  }

  private static InferenceRequest request(int batch) {
    return new InferenceRequest("mlp", "", List.of(Tensor.fp32("x", new long[] {batch, 16}, new float[batch * 16])),
        List.of());
  }

  @Test
  void symbolicOutputDimsBoundByTheRequestPredictTheSizeBeforeRunning() throws Exception {
    TestModels.write(root, "mlp", 1, ModelBuilder.mlp("mlp", 1, 16, 8, 4)); // x [batch, 16] -> y [batch, 4]
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("mlp");
    try (Lease l = registry.acquire("mlp", "")) {
      Tensor x = Tensor.fp32("x", new long[] {3000, 16}, new float[3000 * 16]);
      assertEquals(3000L * 4 * 4, OutputBytes.predict(l.session(), java.util.Map.of("x", x), java.util.Set.of("y")),
          "'batch' of y is bound by x");
      assertEquals(0, OutputBytes.predict(l.session(), java.util.Map.of(), java.util.Set.of("y")),
          "unbound: left to the check after the run");
    }
  }
}
