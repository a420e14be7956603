package dev.pruneserve.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device selection: CUDA through try/catch, with CPU fallback or a clear failure, per config. */
class OrtRuntimeTest {
  @TempDir Path dir;

  @Test
  void cpuSessionRunsAndClosesOnce() throws Exception {
    Path file = mlp();
    OrtRuntime rt = new OrtRuntime(config(ServerConfig.Device.CPU, true));
    ModelSession s = rt.load("m/1", file);
    assertTrue(s.sizeBytes() >= java.nio.file.Files.size(file), "measured bytes never below the file's");
    Map<String, Tensor> out = s.run(Map.of("x", Tensor.fp32("x", new long[] {1, 4}, new float[4])), Set.of("y"));
    assertEquals(2, out.get("y").elementCount());
    s.close();
    s.close();
    assertEquals(1, rt.counters("m").closed());
    assertEquals(2, rt.counters("m").closeCalls());
  }

  @Test
  void cudaUnavailableFallsBackToCpuWhenAllowed() throws Exception {
    assumeNoCuda();
    OrtRuntime rt = new OrtRuntime(config(ServerConfig.Device.CUDA, true));
    try (ModelSession s = rt.load("m/1", mlp())) {
      assertEquals(1, s.inputs().size());
    }
  }

  @Test
  void cudaUnavailableFailsWhenFallbackDisabled() throws Exception {
    assumeNoCuda();
    OrtRuntime rt = new OrtRuntime(config(ServerConfig.Device.CUDA, false));
    ServingException e = assertThrows(ServingException.class, () -> rt.load("m/1", mlp()));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("cuda-fallback"), e.getMessage());
    assertEquals(0, rt.counters("m").opened());
  }

  private static void assumeNoCuda() {
    Assumptions.assumeFalse(Files.exists(Path.of("/dev/nvidia0")), "a GPU is present: fallback not testable");
  }

  private Path mlp() throws Exception {
    Path file = dir.resolve("model.onnx");
    Files.write(file, ModelBuilder.mlp("m", 1, 4, 8, 2).toByteArray());
    return file;
  }

  private static ServerConfig.Ort config(ServerConfig.Device device, boolean fallback) {
    return OrtRuntime.settings(device, fallback, 1);
  }
}
