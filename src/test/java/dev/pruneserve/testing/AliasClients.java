package dev.pruneserve.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Clients generating through one alias on one packaged server until stopped, counting what was
 * served and collecting what failed (shared counters, so several replicas' clients add up).
 */
public final class AliasClients {
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<CompletableFuture<Void>> running = new ArrayList<>();

  /** Starts {@code n} clients on {@code s}, each looping {@link FleetCalls#generate} through {@code alias}. */
  public AliasClients(PackagedServer s, String alias, int n, AtomicInteger served, Queue<String> failures) {
    for (int i = 0; i < n; i++) {
      running.add(CompletableFuture.runAsync(() -> {
        while (!stop.get()) {
          try {
            FleetCalls.generate(s, alias);
            served.incrementAndGet();
          } catch (RuntimeException e) {
            failures.add(e.toString());
          }
        }
      }));
    }
  }

  /** Stops the clients and waits for their last requests. */
  public void stop() throws Exception {
    stop.set(true);
    CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
  }
}
