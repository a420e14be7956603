package dev.pruneserve.bench;

import static dev.pruneserve.testing.FleetCalls.generate;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.RepositoryModelUnloadRequest;
import dev.pruneserve.api.v1.GetAliasRequest;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.testing.AliasClients;
import dev.pruneserve.testing.EtcdProcess;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.FleetCalls;
import dev.pruneserve.testing.PackagedServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet alias propagation, measured: a real etcd and {@code bench.fleet.replicas} (default 3)
 * packaged servers on one repository. Propagation = from the SetAlias answer on replica 0 to the
 * moment the last other replica's GetAlias reports the new served target (each polled by its own
 * thread, about every 0.5 ms), for targets already loaded everywhere and for targets every
 * replica must load first; then requests served / failed by clients on every replica during 100
 * fleet-wide swaps. Needs the jar: {@code ./mvnw -B -q package -DskipTests && ./mvnw -B test
 * -Pbench -Dtest=FleetBenchTest}.
 */
@Tag("bench")
class FleetBenchTest {
  @TempDir Path dir;

  @Test
  void aliasPropagation() throws Exception {
    Path etcdBinary = EtcdProcess.binary().orElse(null);
    Assumptions.assumeTrue(etcdBinary != null, "etcd is not installed");
    Fixtures.stories15m();
    int n = Integer.getInteger("bench.fleet.replicas", 3);
    List<PackagedServer> fleet = new ArrayList<>();
    try (EtcdProcess etcd = EtcdProcess.start(etcdBinary, dir.resolve("etcd"))) {
      for (int i = 0; i < n; i++) {
        fleet.add(PackagedServer.start(dir, dir.resolve("repo"), "pruneserve.fleet.etcd-endpoints=" + etcd
            .endpoint(), "pruneserve.fleet.replica-id=r" + i));
      }
      PackagedServer first = fleet.get(0);
      String[] loaded = {prune(first, "magnitude-l2", 0.2), prune(first, "magnitude-l2", 0.3)};
      String[] cold = {prune(first, "magnitude-l1", 0.2), prune(first, "magnitude-l1", 0.3)};
      for (PackagedServer s : fleet) {
        for (String v : loaded) {
          generate(s, v); // loaded everywhere
        }
      }
      double[] warm = new double[40];
      for (int i = 0; i < warm.length; i++) {
        warm[i] = propagate(fleet, loaded[i % 2]);
      }
      double[] load = new double[6];
      for (int i = 0; i < load.length; i++) {
        String target = cold[i % 2];
        for (PackagedServer s : fleet) { // unloaded everywhere, so every replica loads it on the switch
          GRPCInferenceServiceGrpc.newBlockingStub(s.channel()).repositoryModelUnload(RepositoryModelUnloadRequest
              .newBuilder().setModelName(target).build());
        }
        propagate(fleet, loaded[0]);
        load[i] = propagate(fleet, target);
      }
      System.out.printf("BENCH fleet | replicas %d | loaded everywhere: p50 %.1f ms, p99 %.1f ms (%d swaps)%n", n,
          pct(warm, 0.5), pct(warm, 0.99), warm.length);
      System.out.printf("BENCH fleet | replicas %d | loaded first: p50 %.1f ms, p99 %.1f ms (%d swaps)%n", n, pct(
          load, 0.5), pct(load, 0.99), load.length);

      AtomicInteger served = new AtomicInteger();
      java.util.concurrent.ConcurrentLinkedQueue<String> failed = new java.util.concurrent.ConcurrentLinkedQueue<>();
      List<AliasClients> clients = new ArrayList<>();
      for (PackagedServer s : fleet) {
        clients.add(new AliasClients(s, "prod", 1, served, failed));
      }
      for (int i = 0; i < 100; i++) {
        propagate(fleet, loaded[i % 2]);
      }
      for (AliasClients c : clients) {
        c.stop();
      }
      System.out.printf("BENCH fleet | replicas %d | 100 fleet-wide swaps under load: %d requests served, %d failed%n",
          n, served.get(), failed.size());
    } finally {
      fleet.forEach(PackagedServer::close);
    }
  }

  /** SetAlias prod → target on replica 0; ms from its answer until every other replica serves it. */
  private static double propagate(List<PackagedServer> fleet, String target) throws Exception {
    PruningGrpc.newBlockingStub(fleet.get(0).channel()).setAlias(SetAliasRequest.newBuilder().setAlias("prod")
        .setTarget(target).build());
    long t0 = System.nanoTime();
    List<CompletableFuture<Long>> seen = new ArrayList<>();
    for (PackagedServer s : fleet.subList(1, fleet.size())) {
      seen.add(CompletableFuture.supplyAsync(() -> {
        var stub = PruningGrpc.newBlockingStub(s.channel());
        while (!stub.getAlias(GetAliasRequest.newBuilder().setAlias("prod").build()).getServedTarget().equals(
            target)) {
          java.util.concurrent.locks.LockSupport.parkNanos(500_000);
        }
        return System.nanoTime();
      }));
    }
    long last = t0;
    for (CompletableFuture<Long> f : seen) {
      last = Math.max(last, f.get(300, TimeUnit.SECONDS));
    }
    return (last - t0) / 1e6;
  }

  private static String prune(PackagedServer s, String method, double ratio) {
    List<PruneEvent> out = FleetCalls.prune(s, PruneRequest.newBuilder().setModel("stories15m").setMethod(method)
        .setRatio(ratio).build());
    return out.get(out.size() - 1).getDone().getName();
  }

  private static double pct(double[] v, double q) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[Math.min(s.length - 1, (int) Math.ceil(q * s.length) - 1)];
  }
}
