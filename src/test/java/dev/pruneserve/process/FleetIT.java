package dev.pruneserve.process;

import static dev.pruneserve.testing.FleetCalls.generate;
import static dev.pruneserve.testing.FleetCalls.served;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.GetAliasRequest;
import dev.pruneserve.api.v1.ListVariantsRequest;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.RecoverOptions;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.testing.AliasClients;
import dev.pruneserve.testing.EtcdProcess;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.PackagedServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet mode end to end: a real etcd and two packaged servers (separate JVMs) on one repository
 * folder. A variant pruned on A is served by name on B; an alias switched on B while clients on
 * both replicas generate through it reaches both with zero failed requests; a stale compare-and-set
 * fails everywhere; the same Prune sent to both replicas at once runs once; a replica killed
 * mid-prune releases its lock (its lease expires) and, restarted, leaves no partial variant; with
 * etcd down alias changes get UNAVAILABLE while both replicas keep serving, and after etcd's
 * restart the fleet switches again. Deadlines only end a hung test. Runs in {@code verify}.
 */
class FleetIT {
  private static final String STORY = "Once upon a time, there was a little girl named Lily. She liked to play.";
  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  @Test
  void twoReplicasFollowOneEtcd() throws Exception {
    Path etcdBinary = EtcdProcess.binary().orElse(null);
    Assumptions.assumeTrue(etcdBinary != null, "etcd is not installed (.ci/run installs etcd-server)");
    Fixtures.stories15m();
    EtcdProcess etcd = keep(EtcdProcess.start(etcdBinary, dir.resolve("etcd")));
    Path repo = dir.resolve("repo");
    String[] fleet = {"pruneserve.fleet.etcd-endpoints=" + etcd.endpoint(), "pruneserve.fleet.lease-ttl=3s",
        "pruneserve.fleet.timeout=2s"};
    PackagedServer a = keep(PackagedServer.start(dir, repo, with(fleet, "pruneserve.fleet.replica-id=a")));
    PackagedServer b = keep(PackagedServer.start(dir, repo, with(fleet, "pruneserve.fleet.replica-id=b")));

    // pruned on A, served by name on B (loaded on demand from the shared store), listed on B
    String v1 = done(prune(a, request("magnitude-l2", 0.2))).getName();
    String v2 = done(prune(b, request("magnitude-l2", 0.3))).getName();
    assertTrue(generate(b, v1) > 0);
    assertTrue(pruning(b).listVariants(ListVariantsRequest.getDefaultInstance()).getVariantsList().stream()
        .anyMatch(v -> v.getName().equals(v1)), "B lists A's variant");

    // an alias set on A reaches B; switched on B under load, it reaches both with zero failures
    pruning(a).setAlias(SetAliasRequest.newBuilder().setAlias("prod").setTarget(v1).build());
    await("B serves prod -> " + v1, () -> served(b, "prod").equals(v1));
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicInteger served = new AtomicInteger();
    List<AliasClients> clients = List.of(new AliasClients(a, "prod", 2, served, failures), new AliasClients(b, "prod",
        2, served, failures));
    await("clients running", () -> served.get() >= 8);
    var switched = pruning(b).setAlias(SetAliasRequest.newBuilder().setAlias("prod").setTarget(v2)
        .setExpectedCurrent(v1).build());
    assertEquals(v2, switched.getServedTarget(), "B switched before answering");
    await("A serves prod -> " + v2, () -> served(a, "prod").equals(v2));
    int atSwitch = served.get();
    await("requests after the switch", () -> served.get() >= atSwitch + 8);
    for (AliasClients c : clients) {
      c.stop();
    }
    assertTrue(failures.isEmpty(), "failed requests during the swap: " + failures);
    var onA = pruning(a).getAlias(GetAliasRequest.newBuilder().setAlias("prod").build());
    assertEquals(v2, onA.getTarget());
    assertEquals(onA.getRevision(), onA.getServedRevision());
    assertStatus(Status.Code.FAILED_PRECONDITION, () -> pruning(a).setAlias(SetAliasRequest.newBuilder()
        .setAlias("prod").setTarget(v1).setExpectedCurrent(v1).build()));

    // the same recipe on both replicas at once (slow enough that both are admitted before either
    // is stored): pruned once under the fleet lock, the other replica loads what the holder stored
    PruneRequest same = request("flap", 0.25).setCalibration(CalibrationSpec.newBuilder().addTexts(STORY)
        .addTexts(STORY.repeat(3))).setOptions(PruneOptions.newBuilder().setRecover(
            RecoverOptions.newBuilder()
                .setReconstruct(true)))
        .build();
    CompletableFuture<List<PruneEvent>> pa = CompletableFuture.supplyAsync(() -> prune(a, same.toBuilder()));
    CompletableFuture<List<PruneEvent>> pb = CompletableFuture.supplyAsync(() -> prune(b, same.toBuilder()));
    String vs = done(pa.get(300, TimeUnit.SECONDS)).getName();
    assertEquals(vs, done(pb.get(300, TimeUnit.SECONDS)).getName());
    assertTrue(Stream.concat(pa.get().stream(), pb.get().stream()).anyMatch(e -> e.hasProgress() && e.getProgress()
        .getPhase().startsWith("waiting (replica ")), "the waiting replica reports the holder's progress");
    String logs = a.log() + b.log();
    assertEquals(1, count(logs, "variant " + vs + " ready in"), "pruned exactly once");
    assertEquals(1, count(logs, "variant " + vs + " was pruned by another replica"), "the other waited for the lock");

    // B killed mid-prune: its lock goes with its lease, A prunes the same recipe, B restarts clean
    PruneRequest.Builder slow = request("flap", 0.3).setCalibration(CalibrationSpec.newBuilder().addTexts(STORY)
        .addTexts(STORY.repeat(3))).setOptions(PruneOptions.newBuilder().setRecover(
            RecoverOptions.newBuilder()
                .setReconstruct(true)));
    Iterator<PruneEvent> running = pruning(b).prune(slow.build());
    while (running.hasNext()) {
      PruneEvent e = running.next();
      if (e.hasProgress() && e.getProgress().getPhase().equals("reconstructing")) {
        break; // holding the lock, past scoring, before writing
      }
    }
    b.kill();
    String vk = done(prune(a, slow)).getName();
    assertEquals(1, count(a.log(), "variant " + vk + " ready in"), "A pruned it after B's lease expired");
    PackagedServer restarted = keep(PackagedServer.start(dir, repo, with(fleet, "pruneserve.fleet.replica-id=b")));
    try (Stream<Path> names = Files.list(repo)) {
      assertTrue(names.noneMatch(p -> p.getFileName().toString().startsWith(".staging-")),
          "no staging folder left after the killed replica restarted");
    }
    assertEquals(pruning(a).listVariants(ListVariantsRequest.getDefaultInstance()).getVariantsCount(), pruning(
        restarted).listVariants(ListVariantsRequest.getDefaultInstance()).getVariantsCount(), "one store, one list");
    await("restarted B serves prod", () -> served(restarted, "prod").equals(v2));

    // etcd down: serving goes on, alias changes are refused with UNAVAILABLE; back: the fleet switches
    etcd.stop();
    assertTrue(generate(a, "prod") > 0 && generate(restarted, "prod") > 0, "serving continues without etcd");
    assertStatus(Status.Code.UNAVAILABLE, () -> pruning(a).setAlias(SetAliasRequest.newBuilder().setAlias("prod")
        .setTarget(v1).build()));
    etcd.start();
    await("SetAlias works again", () -> {
      try {
        pruning(a).setAlias(SetAliasRequest.newBuilder().setAlias("prod").setTarget(vk).build());
        return true;
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
    await(tail(restarted), () -> served(restarted, "prod").equals(vk));
    assertTrue(generate(restarted, "prod") > 0);
  }

  private <T extends AutoCloseable> T keep(T resource) {
    open.add(resource);
    return resource;
  }

  private static String[] with(String[] base, String extra) {
    String[] out = java.util.Arrays.copyOf(base, base.length + 1);
    out[base.length] = extra;
    return out;
  }

  private static PruningGrpc.PruningBlockingStub pruning(PackagedServer s) {
    return PruningGrpc.newBlockingStub(s.channel()).withDeadlineAfter(300, TimeUnit.SECONDS);
  }

  private static PruneRequest.Builder request(String method, double ratio) {
    return PruneRequest.newBuilder().setModel("stories15m").setMethod(method).setRatio(ratio);
  }

  private static List<PruneEvent> prune(PackagedServer s, PruneRequest.Builder req) {
    return dev.pruneserve.testing.FleetCalls.prune(s, req.build());
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    dev.pruneserve.testing.FleetCalls.await(() -> what, condition);
  }

  private static void await(java.util.function.Supplier<String> what, BooleanSupplier condition)
      throws InterruptedException {
    dev.pruneserve.testing.FleetCalls.await(what, condition);
  }

  private static dev.pruneserve.api.v1.Variant done(List<PruneEvent> events) {
    PruneEvent last = events.get(events.size() - 1);
    assertTrue(last.hasDone(), "the prune ends with done: " + last);
    return last.getDone();
  }

  /** The replica's log tail and its fleet thread's stack (jcmd), for a failure message. */
  private static java.util.function.Supplier<String> tail(PackagedServer s) {
    return () -> {
      String log = s.log();
      String stacks;
      try {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
            Long.toString(
                s.process().pid()),
            "Thread.print").redirectErrorStream(true).start();
        stacks = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        int i = stacks.indexOf("\"pruneserve-fleet-aliases");
        stacks = i < 0 ? "no fleet thread" : stacks.substring(i, Math.min(stacks.length(), i + 3000));
      } catch (java.io.IOException e) {
        stacks = e.toString();
      }
      return log.substring(Math.max(0, log.length() - 6000)) + "\n" + stacks;
    };
  }

  private static int count(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  private static void assertStatus(Status.Code code, Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      assertEquals(code, e.getStatus().getCode(), e.getStatus().getDescription());
      return;
    }
    throw new AssertionError("expected " + code);
  }
}
