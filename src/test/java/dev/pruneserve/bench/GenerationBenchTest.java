package dev.pruneserve.bench;

import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResponse;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.llm.GenerationResult;
import dev.pruneserve.llm.GenerationService;
import dev.pruneserve.testing.TestPorts;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Greedy generation from stories15M, batch 1, up to 256 tokens (the context ends it at 251 after the
 * 5-token prompt): tokens/s and time to first token through the streaming Generate RPC against the
 * same GenerationService loop called in process, interleaved, ratio printed. Run: ./mvnw -B test -Pbench
 */
@Tag("bench")
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
@TestProfile(GenerationBenchTest.Profile.class)
class GenerationBenchTest {
  static final int ROUNDS = 10;

  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("pruneserve.ort.intra-op-threads", "1", "quarkus.grpc.server.use-separate-server",
          System.getProperty("bench.separate-server", "true"));
    }
  }

  @Inject GenerationService generation;

  @Test
  void grpcVersusInProcess() {
    ManagedChannel ch = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
    try {
      GenerationGrpc.GenerationBlockingStub stub = GenerationGrpc.newBlockingStub(ch);
      GenerateRequest req = GenerateRequest.newBuilder().setModel("stories15m").setPrompt("Once upon a time")
          .setParams(SamplingParams.newBuilder().setMaxNewTokens(256)).build();
      dev.pruneserve.llm.SamplingParams local = dev.pruneserve.llm.SamplingParams.of(256, 0, 0, 0, 0, 0L, List.of());
      double[] gTps = new double[ROUNDS], gTtft = new double[ROUNDS], lTps = new double[ROUNDS],
          lTtft = new double[ROUNDS];
      int tokens = 0;
      for (int i = -1; i < ROUNDS; i++) {
        long t0 = System.nanoTime();
        long first = 0;
        int n = 0;
        for (Iterator<GenerateResponse> it = stub.generate(req); it.hasNext();) {
          GenerateResponse r = it.next();
          if (r.hasToken() && n++ == 0) {
            first = System.nanoTime();
          }
        }
        long end = System.nanoTime();
        GenerationResult l = generation.generate("stories15m", "", "Once upon a time", local, () -> false, t -> {});
        if (i >= 0) {
          gTtft[i] = (first - t0) / 1e6;
          gTps[i] = (n - 1) / ((end - first) / 1e9);
          lTtft[i] = l.timeToFirstTokenMs();
          lTps[i] = l.tokensPerSecond();
          tokens = n;
        }
      }
      double g = median(gTps), lo = median(lTps);
      System.out.printf("BENCH generation stories15m greedy tokens=%d rounds=%d: grpc %.1f tok/s ttft %.2f ms | "
          + "in-process %.1f tok/s ttft %.2f ms | ratio tok/s %.3f%n",
          tokens, ROUNDS, g, median(gTtft), lo, median(lTtft), g / lo);
    } finally {
      ch.shutdownNow();
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
