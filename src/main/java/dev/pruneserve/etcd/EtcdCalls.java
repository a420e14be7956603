package dev.pruneserve.etcd;

import dev.pruneserve.error.ServingException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits for an etcd call for at most {@code timeout}; every failure becomes UNAVAILABLE with a message for the user. */
record EtcdCalls(List<String> endpoints, Duration timeout) {
  <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw unavailable(e);
    } catch (ExecutionException e) {
      throw unavailable(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ServingException.unavailable("interrupted while waiting for etcd");
    }
  }

  ServingException unavailable(Throwable cause) {
    String why = cause instanceof TimeoutException ? "no answer within " + timeout.toMillis() + " ms"
        : cause.getClass().getSimpleName();
    return ServingException.unavailable("the fleet's etcd " + endpoints + " is unreachable (" + why
        + "); this replica keeps serving what it has, alias changes and prune locks wait until it is back"
        + " (a change sent just before may still apply: read it back before retrying)");
  }
}
