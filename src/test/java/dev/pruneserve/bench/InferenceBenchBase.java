package dev.pruneserve.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.RepositoryModelLoadRequest;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.AtomicFiles;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestPorts;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * ModelInfer over loopback gRPC against {@code OrtSession.run} in process, on the same model (a
 * generated 4-layer ReLU MLP, width 1024) and the same batch-32 input, interleaved call by call in
 * one run. Prints p50/p99 of both and their ratio; asserts nothing about time. Subclasses pick the
 * Quarkus gRPC server mode. Run: {@code ./mvnw -B test -Pbench}.
 */
@Tag("bench")
abstract class InferenceBenchBase {
  static final int WIDTH = 1024;
  static final int BATCH = 32;
  static final int WARMUP = 100;
  static final int ROUNDS = 600;

  GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @Inject ModelRepository repository;

  abstract String mode();

  /** A plain grpc-java (Netty) client, as an external Java user would have. */
  @Test
  void grpcVersusInProcess() throws Exception {
    io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc())
        .usePlaintext().directExecutor().maxInboundMessageSize(64 << 20).build();
    try {
      stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
      measure();
    } finally {
      channel.shutdownNow();
    }
  }

  private void measure() throws Exception {
    Path file = repository.root().resolve("bench-mlp/1/model.onnx");
    if (!Files.exists(file)) {
      AtomicFiles.write(file, ModelBuilder.mlp("bench-mlp", 11, WIDTH, WIDTH, WIDTH, WIDTH, WIDTH)
          .toByteArray());
    }
    Path echoFile = repository.root().resolve("bench-echo/1/model.onnx");
    AtomicFiles.write(echoFile, new ModelBuilder("bench-echo").input("x", 1, "batch", (long) WIDTH)
        .output("y", 1, "batch", (long) WIDTH).node("Identity", new String[] {"x"}, new String[] {"y"}).build()
        .toByteArray());
    stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("bench-mlp").build());
    stub.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("bench-echo").build());
    float[] x = Requests.ramp(BATCH, WIDTH);
    ModelInferRequest request = Requests.mlp("bench-mlp", BATCH, WIDTH).build();
    int threads = ConfigProvider.getConfig().getValue("pruneserve.ort.intra-op-threads", Integer.class);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      if (threads > 0) {
        opts.setIntraOpNumThreads(threads);
      }
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      boolean spin = ConfigProvider.getConfig().getValue("pruneserve.ort.allow-spinning", Boolean.class);
      opts.addConfigEntry("session.intra_op.allow_spinning", spin ? "1" : "0");
      try (OrtSession session = env.createSession(file.toString(), opts)) {
        long[] grpc = new long[ROUNDS];
        long[] local = new long[ROUNDS];
        for (int i = -WARMUP; i < ROUNDS; i++) {
          long t0 = System.nanoTime();
          stub.modelInfer(request);
          long t1 = System.nanoTime();
          runLocal(env, session, x);
          long t2 = System.nanoTime();
          if (i >= 0) {
            grpc[i] = t1 - t0;
            local[i] = t2 - t1;
          }
        }
        long[] live = new long[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
          long t0 = System.nanoTime();
          stub.serverLive(dev.pruneserve.api.inference.ServerLiveRequest.getDefaultInstance());
          live[i] = System.nanoTime() - t0;
        }
        Arrays.sort(live);
        long[] echo = new long[ROUNDS];
        ModelInferRequest echoRequest = Requests.mlp("bench-echo", BATCH, WIDTH).build();
        for (int i = 0; i < ROUNDS; i++) {
          long t0 = System.nanoTime();
          stub.modelInfer(echoRequest);
          echo[i] = System.nanoTime() - t0;
        }
        Arrays.sort(echo);
        System.out.printf(
            "BENCH transport floor: ServerLive p50=%.3f ms; Identity on the same %d KiB input p50=%.3f ms%n",
            ms(live, 0.5), BATCH * WIDTH * 4 / 1024, ms(echo, 0.5));
        var stats = stub.modelStatistics(dev.pruneserve.api.inference.ModelStatisticsRequest.newBuilder()
            .setName("bench-mlp").build()).getModelStats(0).getInferenceStats();
        System.out.printf("BENCH server-side mean: total %.3f ms, ORT run %.3f ms%n",
            stats.getSuccess().getNs() / 1e6 / stats.getSuccess().getCount(),
            stats.getComputeInfer().getNs() / 1e6 / stats.getComputeInfer().getCount());
        report(grpc, local);
      }
    }
  }

  private static void runLocal(OrtEnvironment env, OrtSession session, float[] x) throws Exception {
    FloatBuffer in = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer().put(x);
    in.flip();
    try (OnnxTensor t = OnnxTensor.createTensor(env, in, new long[] {BATCH, WIDTH});
        OrtSession.Result r = session.run(Map.of("x", t))) {
      ((OnnxTensor) r.get(0)).getFloatBuffer();
    }
  }

  private void report(long[] grpc, long[] local) {
    Arrays.sort(grpc);
    Arrays.sort(local);
    double g50 = ms(grpc, 0.50), g99 = ms(grpc, 0.99), l50 = ms(local, 0.50), l99 = ms(local, 0.99);
    System.out.printf("BENCH inference mode=%s model=mlp4x%d batch=%d rounds=%d: "
        + "grpc p50=%.3f ms p99=%.3f ms | in-process p50=%.3f ms p99=%.3f ms | "
        + "ratio p50=%.3f p99=%.3f%n",
        mode(), WIDTH, BATCH, ROUNDS, g50, g99, l50, l99, g50 / l50, g99 / l99);
  }

  private static double ms(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))] / 1e6;
  }
}
