package dev.pruneserve.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.variant.Fleet.AliasRecord;
import dev.pruneserve.variant.Fleet.Table;
import io.etcd.jetcd.Watch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The follower against a scripted etcd: the table first, then watched changes in order; a watch
 * that goes silent (as jetcd's can after an etcd restart) is caught by the periodic table read and
 * reopened exactly once — closing a watch on purpose (jetcd then reports it completed) must not
 * start another resync; a change the listener could not apply is offered again until it applies.
 */
class AliasFollowerTest {
  private final AtomicReference<Table> table = new AtomicReference<>();
  private final AtomicInteger reads = new AtomicInteger();
  private final List<Long> opened = new CopyOnWriteArrayList<>();
  private volatile Consumer<List<AliasRecord>> events;

  @Test
  void followsTheTableAndTheWatchAndRecoversWhatTheWatchMissed() throws Exception {
    table.set(new Table(List.of(new AliasRecord("a", "x", 5)), 5));
    List<AliasRecord> seen = new CopyOnWriteArrayList<>();
    AtomicInteger refusals = new AtomicInteger();
    CountDownLatch first = new CountDownLatch(1);
    AliasFollower.Watching watching = (revision, ev, ended) -> {
      opened.add(revision);
      events = ev;
      return new Watch.Watcher() {
        @Override
        public void close() {
          ended.accept("closed"); // jetcd reports a closed watch as completed, synchronously
        }

        @Override
        public void requestProgress() {}
      };
    };
    try (AliasFollower f = new AliasFollower(() -> {
      reads.incrementAndGet();
      return table.get();
    }, watching, "test")) {
      f.start(r -> {
        seen.add(r);
        return !(r.alias().equals("c") && refusals.getAndIncrement() == 0); // c fails once
      }, first::countDown);
      assertTrue(first.await(30, TimeUnit.SECONDS));
      await(() -> opened.size() == 1);
      assertEquals(List.of(new AliasRecord("a", "x", 5)), seen);
      assertEquals(6L, opened.get(0), "watching from the revision after the table");

      events.accept(List.of(new AliasRecord("b", "y", 7)));
      await(() -> seen.size() == 2);
      assertEquals(new AliasRecord("b", "y", 7), seen.get(1));

      // a silent watch: etcd changed a (revision 9) and nothing was delivered
      table.set(new Table(List.of(new AliasRecord("a", "z", 9), new AliasRecord("b", "y", 7)), 9));
      await(() -> seen.contains(new AliasRecord("a", "z", 9)));
      await(() -> opened.size() == 2);
      assertEquals(10L, opened.get(1), "reopened after what the table held");
      int after = reads.get();
      await(() -> reads.get() >= after + 2); // two more reconcile rounds
      assertEquals(2, opened.size(), "closing the stale watch on purpose started no further resync");

      // a change that fails here is offered again at the next round, then applies
      table.set(new Table(List.of(new AliasRecord("a", "z", 9), new AliasRecord("b", "y", 7), new AliasRecord("c", "w",
          11)), 11));
      events.accept(List.of(new AliasRecord("c", "w", 11)));
      await(() -> seen.stream().filter(r -> r.alias().equals("c")).count() == 2);
      assertEquals(List.of("a", "b", "a", "c", "c"), names(seen));
    }
  }

  private static List<String> names(List<AliasRecord> rs) {
    List<String> out = new ArrayList<>();
    rs.forEach(r -> out.add(r.alias()));
    return out;
  }

  /** Polls until true; the deadline only ends a hung test. */
  private static void await(BooleanSupplier c) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("never happened");
      }
      Thread.sleep(10);
    }
  }
}
