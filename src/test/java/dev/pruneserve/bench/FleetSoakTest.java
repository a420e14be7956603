package dev.pruneserve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet soak (the longer form of FleetIT): a real etcd, 3 packaged servers on one repository,
 * 2 clients per replica generating through one alias for {@code bench.fleet.rounds} rounds (default
 * 30). Each round switches the alias on the next replica (compare-and-set) and waits until every
 * replica serves it; every 5th round one replica is killed (SIGKILL) and restarted, every 7th
 * etcd is killed for 3 s (SetAlias must answer UNAVAILABLE meanwhile) and restarted. Asserts zero
 * failed requests on the replicas that were not being killed, every replica on the final target,
 * no staging folder left. Needs the jar: {@code ./mvnw -B -q package -DskipTests && ./mvnw -B test
 * -Pbench -Dtest=FleetSoakTest}.
 */
@Tag("bench")
class FleetSoakTest {
  @TempDir Path dir;

  @Test
  void soak() throws Exception {
    Path etcdBinary = EtcdProcess.binary().orElse(null);
    Assumptions.assumeTrue(etcdBinary != null, "etcd is not installed");
    Fixtures.stories15m();
    int rounds = Integer.getInteger("bench.fleet.rounds", 30);
    Path repo = dir.resolve("repo");
    List<PackagedServer> fleet = new ArrayList<>();
    List<AliasClients> clients = new ArrayList<>();
    AtomicInteger served = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    try (EtcdProcess etcd = EtcdProcess.start(etcdBinary, dir.resolve("etcd"))) {
      String[] props = {"pruneserve.fleet.etcd-endpoints=" + etcd.endpoint(), "pruneserve.fleet.lease-ttl=3s",
          "pruneserve.fleet.timeout=2s"};
      for (int i = 0; i < 3; i++) {
        fleet.add(PackagedServer.start(dir, repo, props));
      }
      String[] targets = {prune(fleet.get(0), 0.2), prune(fleet.get(1), 0.3)};
      PruningGrpc.newBlockingStub(fleet.get(0).channel()).setAlias(SetAliasRequest.newBuilder().setAlias("prod")
          .setTarget(targets[0]).build());
      for (PackagedServer s : fleet) {
        await(() -> served(s).equals(targets[0]));
        clients.add(new AliasClients(s, "prod", 2, served, failures));
      }
      int kills = 0;
      int outages = 0;
      for (int round = 1; round <= rounds; round++) {
        String from = targets[(round - 1) % 2];
        String to = targets[round % 2];
        PackagedServer via = fleet.get(round % 3);
        await(() -> switched(via, from, to)); // after an etcd restart the client may need a moment to reconnect
        for (PackagedServer s : fleet) {
          await(() -> served(s).equals(to));
        }
        if (round % 5 == 0) { // SIGKILL one replica and bring it back
          int k = round % 3;
          clients.get(k).stop();
          fleet.get(k).kill();
          fleet.set(k, PackagedServer.start(dir, repo, props));
          PackagedServer back = fleet.get(k);
          await(() -> served(back).equals(to));
          clients.set(k, new AliasClients(back, "prod", 2, served, failures));
          kills++;
        }
        if (round % 7 == 0) { // etcd away for a few seconds: serving goes on, alias changes refused
          etcd.stop();
          try {
            PruningGrpc.newBlockingStub(fleet.get(0).channel()).setAlias(SetAliasRequest.newBuilder().setAlias(
                "other").setTarget(to).build());
            throw new AssertionError("SetAlias answered without etcd");
          } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
          }
          Thread.sleep(3000);
          etcd.start();
          outages++;
        }
      }
      for (AliasClients c : clients) {
        c.stop();
      }
      String last = targets[rounds % 2];
      for (PackagedServer s : fleet) {
        assertEquals(last, served(s));
      }
      try (Stream<Path> names = Files.list(repo)) {
        assertTrue(names.noneMatch(p -> p.getFileName().toString().startsWith(".staging-")), "no staging folder");
      }
      System.out.printf("BENCH fleet-soak | replicas 3 | %d rounds, %d replica kills, %d etcd outages | %d requests"
          + " served, %d failed%n", rounds, kills, outages, served.get(), failures.size());
      assertTrue(failures.isEmpty(), "failed requests: " + failures);
    } finally {
      fleet.forEach(PackagedServer::close);
    }
  }

  /** One compare-and-set from → to; true once the fleet points at {@code to} (false: etcd not reachable yet). */
  private static boolean switched(PackagedServer s, String from, String to) {
    var stub = PruningGrpc.newBlockingStub(s.channel());
    try {
      stub.setAlias(SetAliasRequest.newBuilder().setAlias("prod").setTarget(to).setExpectedCurrent(from).build());
      return true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) { // an earlier try got through
        return stub.getAlias(GetAliasRequest.newBuilder().setAlias("prod").build()).getTarget().equals(to);
      }
      if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
        throw e;
      }
      return false;
    }
  }

  private static String prune(PackagedServer s, double ratio) {
    List<PruneEvent> out = FleetCalls.prune(s, PruneRequest.newBuilder().setModel("stories15m").setMethod(
        "magnitude-l2").setRatio(ratio).build());
    return out.get(out.size() - 1).getDone().getName();
  }

  private static String served(PackagedServer s) {
    return FleetCalls.served(s, "prod");
  }

  private static void await(BooleanSupplier c) throws InterruptedException {
    FleetCalls.await(() -> "the fleet converges", c);
  }
}
