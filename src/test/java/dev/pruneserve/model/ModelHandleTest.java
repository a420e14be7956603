package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The lease discipline that keeps ORT sessions from being closed under a running inference. */
class ModelHandleTest {

  @Test
  void retireWhileLeasedClosesOnlyAfterLastRelease() {
    FakeSession s = new FakeSession();
    ModelHandle h = new ModelHandle("1", s);
    Lease a = h.tryAcquire().orElseThrow();
    Lease b = h.tryAcquire().orElseThrow();
    h.retire();
    assertTrue(h.tryAcquire().isEmpty(), "a retired handle gives no new leases");
    a.close();
    a.close(); // idempotent: must not release twice
    assertEquals(0, s.closeCalls.get());
    b.close();
    assertEquals(1, s.closeCalls.get());
    h.retire();
    assertEquals(1, s.closeCalls.get());
  }

  @Test
  void retireWithoutLeasesClosesAtOnce() {
    FakeSession s = new FakeSession();
    new ModelHandle("1", s).retire();
    assertEquals(1, s.closeCalls.get());
  }

  @Test
  void concurrentAcquireReleaseAndRetireCloseExactlyOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 500; round++) {
        FakeSession s = new FakeSession();
        ModelHandle h = new ModelHandle("1", s);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger leasedAfterClose = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
          fs.add(pool.submit(() -> {
            start.await();
            for (int i = 0; i < 50; i++) {
              Optional<Lease> l = h.tryAcquire();
              if (l.isPresent()) {
                if (s.closeCalls.get() > 0) {
                  leasedAfterClose.incrementAndGet();
                }
                l.get().close();
              }
            }
            return null;
          }));
        }
        fs.add(pool.submit(() -> {
          start.await();
          h.retire();
          return null;
        }));
        start.countDown();
        for (Future<?> f : fs) {
          f.get(10, TimeUnit.SECONDS);
        }
        assertEquals(1, s.closeCalls.get(), "round " + round);
        assertEquals(0, leasedAfterClose.get(), "a lease saw a closed session in round " + round);
        assertEquals(0, h.references());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void inFlightRunFinishesOnRetiredSession() throws Exception {
    FakeSession s = new FakeSession();
    s.gate = new CountDownLatch(1);
    ModelHandle h = new ModelHandle("1", s);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<?> run = pool.submit(() -> {
        try (Lease l = h.tryAcquire().orElseThrow()) {
          l.session().run(java.util.Map.of("x", dev.pruneserve.tensor.Tensor.fp32("x", new long[] {1},
              new float[] {1})), java.util.Set.of("y"));
        }
      });
      assertTrue(s.entered.await(10, TimeUnit.SECONDS));
      h.retire();
      assertFalse(s.closeCalls.get() > 0, "closed while a run was in flight");
      s.gate.countDown();
      run.get(10, TimeUnit.SECONDS);
      assertEquals(1, s.closeCalls.get());
      assertEquals(0, s.runsAfterClose.get());
    } finally {
      pool.shutdownNow();
    }
  }
}
