package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestModels;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Warm-up never fails a valid model's load: a 1-D Conv with a 9-wide kernel cannot run on a
 * dynamic length of 1 (the melspectrogram case), so it loads un-warmed and serves real inputs;
 * {@code warmup_shapes} warms it with a shape it accepts; a configured shape that contradicts the
 * declared one fails the load naming the input. A request whose shapes only the kernels reject
 * gets INVALID_ARGUMENT naming the node, without ONNX Runtime's source paths.
 */
class WarmupShapesTest {
  @TempDir Path root;

  /** x[1, 1, T] → Conv(kernel 9, no padding) → y[1, 2, T − 8]. */
  static ModelProto longKernel() {
    return new ModelBuilder("wide").input("x", 1, 1L, 1L, "T").output("y", 1, 1L, 2L, "L")
        .initializer("w", ModelBuilder.uniform(new java.util.SplittableRandom(1), 18, 0.3), 2, 1, 9)
        .node("Conv", new String[] {"x", "w"}, new String[] {"y"}, ModelBuilder.intsAttr("kernel_shape", 9)).build();
  }

  /** y = a + b for two inputs of independent dynamic lengths. */
  static ModelProto add() {
    return new ModelBuilder("add").input("a", 1, "A").input("b", 1, "B").output("y", 1, "Y")
        .node("Add", new String[] {"a", "b"}, new String[] {"y"}).build();
  }

  @Test
  void aModelZeroInputsCannotRunStillLoadsAndServes() throws Exception {
    TestModels.write(root, "wide", 1, longKernel());
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("wide");
    try (Lease l = registry.acquire("wide", "")) {
      Tensor y = l.session().run(Map.of("x", Tensor.fp32("x", new long[] {1, 1, 20}, new float[20])), Set.of("y"))
          .get("y");
      assertArrayEquals(new long[] {1, 2, 12}, y.shape());
      ServingException e = assertThrows(ServingException.class, () -> l.session().run(Map.of("x", Tensor.fp32("x",
          new long[] {1, 1, 4}, new float[4])), Set.of("y")));
      assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind(), e.getMessage());
      assertFalse(e.getMessage().matches("(?s).*(\\.cc:|\\.h:|onnxruntime::|/onnxruntime_src).*"), e.getMessage());
    }
  }

  @Test
  void configuredWarmupShapesAreUsedAndChecked() throws Exception {
    TestModels.write(root, "wide", 1, longKernel());
    TestModels.writeText(root.resolve("wide/config.json"), "{\"warmup_shapes\": {\"x\": [1, 1, 16]}}");
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("wide");
    assertTrue(registry.acquire("wide", "") != null);
    TestModels.write(root, "bad", 1, longKernel());
    TestModels.writeText(root.resolve("bad/config.json"), "{\"warmup_shapes\": {\"x\": [1, 3, 16]}}");
    ServingException e = assertThrows(ServingException.class, () -> registry.load("bad"));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("warmup_shapes.x [1, 3, 16] does not fit"), e.getMessage());
  }

  @Test
  void shapesOnlyTheKernelsRejectAreTheRequestsFault() throws Exception {
    TestModels.write(root, "add", 1, add());
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    registry.load("add");
    try (Lease l = registry.acquire("add", "")) {
      ServingException e = assertThrows(ServingException.class, () -> l.session().run(Map.of("a", Tensor.fp32("a",
          new long[] {3}, new float[3]), "b", Tensor.fp32("b", new long[] {5}, new float[5])), Set.of("y")));
      assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind(), e.getMessage());
      assertTrue(e.getMessage().contains("Add"), e.getMessage());
      assertFalse(e.getMessage().matches("(?s).*(\\.cc:|\\.h:|onnxruntime::|/onnxruntime_src).*"), e.getMessage());
    }
  }
}
