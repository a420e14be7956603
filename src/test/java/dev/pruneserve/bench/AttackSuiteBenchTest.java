package dev.pruneserve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ServerLiveRequest;
import dev.pruneserve.api.v1.DeleteAliasRequest;
import dev.pruneserve.api.v1.DeleteVariantRequest;
import dev.pruneserve.api.v1.ListAliasesRequest;
import dev.pruneserve.api.v1.ListVariantsRequest;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.PackagedServer;
import dev.pruneserve.testing.TestModels;
import dev.pruneserve.variant.VariantIds;
import dev.pruneserve.variant.VariantManifest;
import dev.pruneserve.variant.VariantStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attack suite against the packaged server (build it first: {@code ./mvnw -B -q package
 * -DskipTests}): bad inputs over every RPC, SetAlias racing DeleteVariant, requests under constant
 * eviction, kill -9 during variant writes, and SIGTERM scenarios ({@link ShutdownScenarios}). Prints
 * one figure per row for docs/benchmarks.md and fails if any row has a defect.
 */
@Tag("bench")
class AttackSuiteBenchTest {
  static final int RACE_ROUNDS = Integer.getInteger("attack.race", 200);
  static final int KILLS = Integer.getInteger("attack.kills", 6);
  static final ModelInferRequest.InferInputTensor X = ModelInferRequest.InferInputTensor.newBuilder().setName("x")
      .setDatatype("FP32").addShape(1).addShape(16).build();

  @TempDir Path dir;
  final List<String> rows = new ArrayList<>();
  final List<String> defects = new ArrayList<>();

  @Test
  void attackSuite() throws Exception {
    Path repo = repository(dir.resolve("repo"));
    boolean llm = Fixtures.stories15m() != null;
    try (PackagedServer s = PackagedServer.start(dir, repo, "pruneserve.repository.fixtures=" + llm)) {
      badInputs(s, llm ? "stories15m" : null);
      race(s, repo);
    }
    try (PackagedServer s = PackagedServer.start(dir, repository(dir.resolve("evict")),
        "pruneserve.repository.fixtures=false", "pruneserve.variants.cache-bytes=1")) {
      eviction(s);
    }
    kills(repository(dir.resolve("kill")));
    new ShutdownScenarios(dir, rows, defects).run(llm);
    System.out.println("\n| attack | figure |\n|---|---|");
    rows.forEach(r -> System.out.println("| " + r.replace(": ", " | ") + " |"));
    defects.forEach(d -> System.out.println("DEFECT " + d));
    assertEquals(List.of(), defects);
  }

  /** mlp (x [batch, 16] → y [batch, 4]) and div (y = a / b, INT32): small, served, prunable. */
  static Path repository(Path repo) throws Exception {
    TestModels.write(repo, "mlp", 1, ModelBuilder.mlp("mlp", 1, 16, 64, 4));
    TestModels.write(repo, "div", 1, new ModelBuilder("div").input("a", 6, 1).input("b", 6, 1).output("y", 6, 1)
        .node("Div", new String[] {"a", "b"}, new String[] {"y"}).build());
    return repo;
  }

  private void badInputs(PackagedServer s, String llm) {
    List<BadInputs.Probe> probes = BadInputs.all(s.channel(), "mlp", "div", llm);
    List<String> imprecise = new ArrayList<>();
    List<String> accepted = new ArrayList<>();
    int i = 0;
    for (BadInputs.Probe p : probes) {
      try {
        p.call().call();
        accepted.add(p.name());
      } catch (StatusRuntimeException e) {
        if (!precise(e.getStatus())) {
          imprecise.add(p.name() + " -> " + e.getStatus());
        }
      } catch (Exception e) {
        imprecise.add(p.name() + " -> " + e);
      }
      if (++i % 20 == 0 && !live(s)) {
        defects.add("server not live after bad input " + p.name());
        return;
      }
    }
    int precise = probes.size() - imprecise.size() - accepted.size();
    rows.add("bad inputs tried / answered with a precise status: " + probes.size() + " / " + precise
        + (accepted.isEmpty() ? "" : " (accepted: " + accepted + ")"));
    imprecise.forEach(m -> defects.add("imprecise: " + m));
    accepted.forEach(m -> defects.add("accepted: " + m));
    if (!live(s) || !s.process().isAlive()) {
      defects.add("the server died during the bad inputs");
    }
  }

  /** Not OK, not UNKNOWN or INTERNAL, a message, and no stack trace, native text or server path. */
  static boolean precise(Status st) {
    String d = st.getDescription();
    return st.getCode() != Status.Code.OK && st.getCode() != Status.Code.UNKNOWN
        && st.getCode() != Status.Code.INTERNAL && d != null && !d.isBlank() && !d.contains("Exception")
        && !d.contains("\tat ") && !d.contains(".java:") && !d.contains(".cc:") && !d.contains("/tmp/")
        && !d.contains("onnxruntime");
  }

  static boolean live(PackagedServer s) {
    try {
      return GRPCInferenceServiceGrpc.newBlockingStub(s.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
          .serverLive(ServerLiveRequest.getDefaultInstance()).getLive();
    } catch (StatusRuntimeException e) {
      return false;
    }
  }

  private void race(PackagedServer s, Path repo) throws Exception {
    var pruning = PruningGrpc.newBlockingStub(s.channel());
    byte[] model = Files.readAllBytes(repo.resolve("mlp/1/model.onnx"));
    VariantStore store = new VariantStore(new ModelRepository(repo));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    int dangling = 0;
    int bothOk = 0;
    try {
      for (int i = 0; i < RACE_ROUNDS; i++) {
        String name = "mlp@race-" + i;
        store.write(new VariantManifest(name, "race-" + i, "mlp", "1", "race", Map.of(), Map.of(),
            VariantIds.sha256Hex(model), 1, 1, model.length, "2026-12-02T00:00:00Z"), model, repo.resolve("mlp"));
        Future<?> set = pool.submit(() -> pruning.setAlias(SetAliasRequest.newBuilder().setAlias("race")
            .setTarget(name).build()));
        Future<?> delete = pool.submit(() -> pruning.deleteVariant(DeleteVariantRequest.newBuilder().setName(name)
            .build()));
        boolean setOk = ok(set);
        boolean deleteOk = ok(delete);
        bothOk += setOk && deleteOk ? 1 : 0;
        String target = pruning.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList().stream()
            .filter(a -> a.getAlias().equals("race")).map(a -> a.getTarget()).findFirst().orElse("");
        if (target.equals(name)) {
          dangling += store.read(name).isPresent() ? 0 : 1;
          pruning.deleteAlias(DeleteAliasRequest.newBuilder().setAlias("race").build());
        }
        if (store.read(name).isPresent()) {
          pruning.deleteVariant(DeleteVariantRequest.newBuilder().setName(name).build());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    rows.add("SetAlias racing DeleteVariant, rounds / dangling aliases / both OK: " + RACE_ROUNDS + " / " + dangling
        + " / " + bothOk);
    if (dangling + bothOk > 0) {
      defects.add("race: " + dangling + " dangling, " + bothOk + " rounds where both succeeded");
    }
  }

  private static boolean ok(Future<?> f) throws InterruptedException {
    try {
      f.get();
      return true;
    } catch (java.util.concurrent.ExecutionException e) {
      return false;
    }
  }

  /** A cache budget of 1 byte: every variant but the one just served is evicted; 8 clients. */
  private void eviction(PackagedServer s) throws Exception {
    var pruning = PruningGrpc.newBlockingStub(s.channel());
    List<String> variants = new ArrayList<>();
    for (double r : new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}) {
      pruning.prune(PruneRequest.newBuilder().setModel("mlp").setMethod("magnitude-l1").setRatio(r).build())
          .forEachRemaining(e -> {
            if (e.hasDone()) {
              variants.add(e.getDone().getName());
            }
          });
    }
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger served = new AtomicInteger();
    List<String> reasons = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      SplittableRandom rng = new SplittableRandom(c);
      clients.add(pool.submit(() -> {
        var inf = GRPCInferenceServiceGrpc.newBlockingStub(s.channel());
        for (int i = 0; i < 40; i++) {
          try {
            inf.modelInfer(ModelInferRequest.newBuilder().setModelName(variants.get(rng.nextInt(variants.size())))
                .addInputs(X).addRawInputContents(com.google.protobuf.ByteString.copyFrom(new byte[64])).build());
            served.incrementAndGet();
          } catch (StatusRuntimeException e) {
            failures.incrementAndGet();
            reasons.add(e.getStatus().toString());
          }
        }
      }));
    }
    for (Future<?> f : clients) {
      f.get(10, TimeUnit.MINUTES);
    }
    pool.shutdown();
    rows.add("requests under constant eviction (8 clients, " + variants.size() + " variants, 1-byte budget),"
        + " requests / failures: " + (served.get() + failures.get()) + " / " + failures.get());
    if (failures.get() > 0) {
      defects.add("eviction failures: " + reasons.stream().distinct().limit(3).toList());
    }
  }

  /** kill -9 at a random moment while three prune jobs write variants; then restart and check. */
  private void kills(Path repo) throws Exception {
    SplittableRandom rng = new SplittableRandom(17);
    int lost = 0;
    int stagingLeft = 0;
    Set<String> stored = Set.of();
    for (int k = 0; k <= KILLS; k++) {
      PackagedServer s = PackagedServer.start(dir, repo, "pruneserve.repository.fixtures=false");
      try {
        var pruning = PruningGrpc.newBlockingStub(s.channel());
        Set<String> now = pruning.listVariants(ListVariantsRequest.getDefaultInstance()).getVariantsList().stream()
            .map(v -> v.getName()).collect(Collectors.toSet());
        for (String v : stored) {
          if (!now.contains(v) || !servable(s, v)) {
            lost++;
          }
        }
        try (var files = Files.walk(repo)) {
          stagingLeft += (int) files.filter(p -> p.getFileName().toString().startsWith(".staging-")).count();
        }
        stored = now;
        if (k == KILLS) {
          break;
        }
        var async = PruningGrpc.newStub(s.channel());
        for (int j = 0; j < 3; j++) {
          double ratio = 0.05 + 0.9 * rng.nextDouble();
          async.prune(PruneRequest.newBuilder().setModel("mlp").setMethod("random").setRatio(ratio).build(),
              new io.grpc.stub.StreamObserver<>() {
                public void onNext(dev.pruneserve.api.v1.PruneEvent e) {}

                public void onError(Throwable t) {}

                public void onCompleted() {}
              });
        }
        Thread.sleep(rng.nextInt(20, 600));
        stored = pruning.listVariants(ListVariantsRequest.getDefaultInstance()).getVariantsList().stream()
            .map(v -> v.getName()).collect(Collectors.toSet());
      } finally {
        s.kill();
      }
    }
    rows.add("kill -9 during variant writes, kills / variants lost / staging folders left after restart: " + KILLS
        + " / " + lost + " / " + stagingLeft);
    if (lost + stagingLeft > 0) {
      defects.add("kills: " + lost + " variants lost, " + stagingLeft + " staging folders left");
    }
  }

  private static boolean servable(PackagedServer s, String variant) {
    try {
      GRPCInferenceServiceGrpc.newBlockingStub(s.channel()).modelInfer(ModelInferRequest.newBuilder()
          .setModelName(variant).addInputs(X).addRawInputContents(com.google.protobuf.ByteString.copyFrom(
              new byte[64]))
          .build());
      return true;
    } catch (StatusRuntimeException e) {
      return false;
    }
  }
}
