package dev.pruneserve.variant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Shutdown's cancellation: every watcher of a running job is told CANCELLED at once (its stream
 * ends with that status, even while the worker is in a phase without progress reports), the worker
 * stops at its next check, and awaitIdle returns when the worker ends the job, signalled.
 */
class JobBoardTest {
  @Test
  void cancelAllEndsWatchersAtOnceAndAwaitIdleIsSignalled() throws Exception {
    JobBoard board = new JobBoard(4, new SimpleMeterRegistry());
    JobBoard.Admission a = board.admit("m@x", Optional::empty);
    assertTrue(a.start());
    List<ServingException> told = new ArrayList<>();
    a.job().attach(new PruneJob.Listener() {
      @Override
      public void progress(PruneJob job) {}

      @Override
      public void done(PruneJob job, VariantManifest variant, boolean reused) {}

      @Override
      public void failed(PruneJob job, ServingException error) {
        told.add(error);
      }
    });
    assertEquals(1, board.cancelAll());
    assertEquals(1, told.size(), "told before the worker noticed");
    assertEquals(ErrorKind.CANCELLED, told.get(0).kind());
    assertTrue(told.get(0).getMessage().contains("shutting down"), told.get(0).getMessage());
    assertFalse(board.awaitIdle(Duration.ZERO), "the worker has not ended the job yet");
    CompletableFuture<Boolean> idle = CompletableFuture.supplyAsync(() -> {
      try {
        return board.awaitIdle(Duration.ofSeconds(60));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    boolean stopped;
    try {
      a.job().report("scoring", 0.5);
      stopped = false;
    } catch (CancellationException e) {
      stopped = true;
    }
    assertTrue(stopped, "the worker's next check stops it");
    board.end(a.job(), () -> a.job().fail(new ServingException(ErrorKind.CANCELLED, "cancelled"), true));
    assertTrue(idle.get());
    assertEquals(1, told.size(), "nobody is told twice");
  }
}
