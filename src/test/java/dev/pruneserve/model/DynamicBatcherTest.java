package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ModelInfer dynamic batcher: concurrent requests are joined along the batch dimension and
 * each gets the answer it gets alone; a request that fails (a zero divisor) fails alone; requests
 * whose other dimensions differ are never joined; a batcher without a batch dimension is refused
 * at load. Batches form deterministically: the preferred size is the requests' total rows, and the
 * queue delay (10 s) is only an upper bound.
 */
class DynamicBatcherTest {
  static final String BATCHER = "\"dynamic_batching\": {\"preferred_batch_size\": [%d],"
      + " \"max_queue_delay_microseconds\": %d}";

  @TempDir Path root;
  SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private InferenceService service(String... models) {
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    for (String m : models) {
      registry.load(m);
    }
    return new InferenceService(registry, meters);
  }

  private void model(String name, dev.pruneserve.onnx.proto.Onnx.ModelProto m, String config) throws Exception {
    TestModels.write(root, name, 1, m);
    TestModels.writeText(root.resolve(name).resolve("config.json"), config);
  }

  static Tensor fp32(String name, int rows, int width, float base) {
    float[] v = new float[rows * width];
    for (int i = 0; i < v.length; i++) {
      v[i] = base + 0.01f * i;
    }
    return Tensor.fp32(name, new long[] {rows, width}, v);
  }

  private List<CompletableFuture<InferenceResult>> concurrently(InferenceService s, String model,
      List<Tensor> inputs) {
    List<CompletableFuture<InferenceResult>> out = new ArrayList<>();
    for (Tensor t : inputs) {
      out.add(CompletableFuture.supplyAsync(() -> s.infer(new InferenceRequest(model, "", List.of(t), List.of()))));
    }
    return out;
  }

  private double largestBatch(String model) {
    return meters.find("pruneserve.inference.batch.size").tag("model", model).summary().max();
  }

  @Test
  void requestsAreJoinedAndEachGetsItsOwnAnswer() throws Exception {
    model("mlp", TestModels.mlp(), "{\"max_batch_size\": 8, " + BATCHER.formatted(6, 10_000_000) + "}");
    model("plain", TestModels.mlp(), "{\"max_batch_size\": 8}");
    InferenceService s = service("mlp", "plain");
    List<Tensor> inputs = List.of(fp32("x", 1, 16, 0.1f), fp32("x", 2, 16, -0.3f), fp32("x", 3, 16, 0.7f));
    List<CompletableFuture<InferenceResult>> batched = concurrently(s, "mlp", inputs);
    for (int i = 0; i < inputs.size(); i++) {
      float[] alone = s.infer(new InferenceRequest("plain", "", List.of(inputs.get(i)), List.of())).outputs().get(0)
          .toFloatArray();
      Tensor y = batched.get(i).get().outputs().get(0);
      assertArrayEquals(new long[] {i + 1, 4}, y.shape());
      assertArrayEquals(alone, y.toFloatArray(), 1e-6f, "request " + i);
    }
    assertEquals(6, largestBatch("mlp"), "the three requests ran as one batch of 6 rows");
  }

  static Tensor int32(String name, int... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putInt(x);
    }
    return Tensor.fixed(name, DataType.INT32, new long[] {v.length}, b.flip());
  }

  @Test
  void aFailingRequestNeverFailsItsNeighbours() throws Exception {
    model("div", new ModelBuilder("div").input("a", 6, "n").input("b", 6, "n").output("y", 6, "n")
        .node("Div", new String[] {"a", "b"}, new String[] {"y"}).build(),
        "{\"max_batch_size\": 4, " + BATCHER.formatted(3, 10_000_000) + "}");
    InferenceService s = service("div");
    int[] divisors = {2, 0, 5};
    List<CompletableFuture<InferenceResult>> out = new ArrayList<>();
    for (int d : divisors) {
      out.add(CompletableFuture.supplyAsync(() -> s.infer(new InferenceRequest("div", "",
          List.of(int32("a", 10), int32("b", d)), List.of()))));
    }
    assertEquals(5, out.get(0).get().outputs().get(0).dataView().getInt(0));
    var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> out.get(1).get());
    assertEquals(ErrorKind.INVALID_ARGUMENT, ((ServingException) e.getCause()).kind());
    assertEquals(2, out.get(2).get().outputs().get(0).dataView().getInt(0));
    assertEquals(3, largestBatch("div"), "they were queued together");
  }

  @Test
  void requestsOfDifferentShapesAreNeverJoined() throws Exception {
    model("id", new ModelBuilder("id").input("x", 1, "n", "m").output("y", 1, "n", "m")
        .node("Identity", new String[] {"x"}, new String[] {"y"}).build(),
        "{\"max_batch_size\": 8, " + BATCHER.formatted(2, 100_000) + "}");
    InferenceService s = service("id");
    List<Tensor> inputs = List.of(fp32("x", 1, 3, 1f), fp32("x", 1, 5, 2f));
    List<CompletableFuture<InferenceResult>> out = concurrently(s, "id", inputs);
    for (int i = 0; i < inputs.size(); i++) {
      assertArrayEquals(inputs.get(i).toFloatArray(), out.get(i).get().outputs().get(0).toFloatArray());
    }
    assertEquals(1, largestBatch("id"));
  }

  @Test
  void aBatcherNeedsABatchDimension() throws Exception {
    model("nobatch", TestModels.mlp(), "{" + BATCHER.formatted(2, 0) + "}");
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run);
    ServingException e = assertThrows(ServingException.class, () -> registry.load("nobatch"));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("dynamic_batching needs max_batch_size > 0"), e.getMessage());
  }
}
