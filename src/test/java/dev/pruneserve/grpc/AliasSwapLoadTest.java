package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResult;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.cache.VariantCache;
import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Hot swap under load (bounded in count, loopback): 8 client threads generate greedily through an
 * alias while it is swapped 100 times among 3 variants and the variant cache is squeezed to force
 * evictions of the variants not targeted. Zero failed requests; every answer equals the greedy
 * output of the variant that reports having served it. Prints the time from the Prune request to
 * the first answer from the new variant and the swap latency: client-side SetAlias when the target
 * is cached, and the server-side switch (alias file persisted, then one map update).
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class AliasSwapLoadTest {
  static final int CLIENTS = 8;
  static final int SWAPS = 100;

  @GrpcClient("inference") PruningGrpc.PruningBlockingStub pruning;

  @GrpcClient("inference") GenerationGrpc.GenerationBlockingStub gen;

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

  @Inject VariantCache cache;

  @Inject io.micrometer.core.instrument.MeterRegistry meters;

  @Test
  void swapsUnderLoadDropNothing() throws Exception {
    dev.pruneserve.testing.Fixtures.requireLoaded("stories15m",
        inference.modelReady(ModelReadyRequest.newBuilder().setName("stories15m").build()).getReady());
    List<String> variants = new ArrayList<>();
    long t0 = System.nanoTime();
    for (long seed = 100; seed < 103; seed++) {
      List<PruneEvent> events = new ArrayList<>();
      pruning.prune(PruneRequest.newBuilder().setModel("stories15m").setMethod("random").setRatio(0.2)
          .setOptions(PruneOptions.newBuilder().setSeed(seed)).build()).forEachRemaining(events::add);
      variants.add(events.get(events.size() - 1).getDone().getName());
      if (seed == 100) {
        generate(variants.get(0));
        System.out.printf("BENCH swap: Prune request → first answer from the new variant: %.0f ms%n",
            (System.nanoTime() - t0) / 1e6);
      }
    }
    Map<String, List<Integer>> expected = new HashMap<>();
    for (String v : variants) {
      expected.put(v, generate(v).getTokenIdsList());
    }
    long[] idle = new long[21];
    for (int i = 0; i < idle.length; i++) { // baseline: no clients, targets loaded
      long s0 = System.nanoTime();
      pruning.setAlias(SetAliasRequest.newBuilder().setAlias("swapped").setTarget(variants.get(i % 3)).build());
      idle[i] = System.nanoTime() - s0;
    }
    Arrays.sort(idle);
    System.out.printf("BENCH swap: idle SetAlias over gRPC, target cached (21 swaps): p50 %.2f ms, max %.2f ms%n",
        idle[10] / 1e6, idle[20] / 1e6);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger answered = new AtomicInteger();
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      clients.add(pool.submit(() -> {
        while (!stop.get()) {
          try {
            GenerateResult r = generate("swapped");
            List<Integer> want = expected.get(r.getSummary().getModel());
            if (!r.getTokenIdsList().equals(want)) {
              failures.add("answer of " + r.getSummary().getModel() + " differs from its greedy output");
            }
            answered.incrementAndGet();
          } catch (RuntimeException e) {
            failures.add(e.toString());
          }
        }
      }));
    }
    List<Long> cachedNanos = new ArrayList<>();
    int reloads = 0;
    for (int i = 0; i < SWAPS; i++) {
      boolean evict = i % 25 == 10;
      boolean reload = i % 25 == 10 || i % 25 == 11; // both non-target variants were evicted
      if (evict) {
        cache.resize(1); // evict every variant the alias does not point at
        cache.settle();
        cache.resize(Long.MAX_VALUE / 4);
        reloads++;
      }
      String target = variants.get((i + 1) % variants.size());
      long s0 = System.nanoTime();
      pruning.setAlias(SetAliasRequest.newBuilder().setAlias("swapped").setTarget(target).build());
      if (!reload) {
        cachedNanos.add(System.nanoTime() - s0);
      }
    }
    stop.set(true);
    for (Future<?> f : clients) {
      f.get(120, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertEquals(List.of(), failures);
    assertTrue(answered.get() >= CLIENTS, "clients were served: " + answered.get());
    long[] c = cachedNanos.stream().mapToLong(Long::longValue).sorted().toArray();
    var sw = meters.get("pruneserve_alias_swap_seconds").timer().takeSnapshot();
    System.out.printf("BENCH swap: %d SetAlias over gRPC under %d clients (%d answers, %d forced-eviction reloads);"
        + " target cached: client-side p50 %.2f ms, p99 %.2f ms; server-side switch (persist + atomic map"
        + " update, all %d incl. reloads): p50 %.3f ms, p99 %.3f ms, max %.3f ms%n", SWAPS, CLIENTS, answered.get(),
        reloads,
        c[c.length / 2] / 1e6, c[c.length * 99 / 100] / 1e6, sw.count(), percentile(sw, 0.5) * 1e3,
        percentile(sw, 0.99) * 1e3, sw.max(TimeUnit.SECONDS) * 1e3);
    pruning.deleteAlias(dev.pruneserve.api.v1.DeleteAliasRequest.newBuilder().setAlias("swapped").build());
  }

  private static double percentile(io.micrometer.core.instrument.distribution.HistogramSnapshot s, double p) {
    for (var v : s.percentileValues()) {
      if (Math.abs(v.percentile() - p) < 1e-9) {
        return v.value(TimeUnit.SECONDS);
      }
    }
    return Double.NaN;
  }

  private GenerateResult generate(String model) {
    return gen.generateUnary(GenerateRequest.newBuilder().setModel(model).setPrompt("Once upon a time")
        .setParams(SamplingParams.newBuilder().setMaxNewTokens(6)).build());
  }
}
