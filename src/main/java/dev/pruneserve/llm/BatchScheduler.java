package dev.pruneserve.llm;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.repository.GenerationSettings;
import dev.pruneserve.session.ModelSession;
import io.micrometer.core.instrument.DistributionSummary;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Continuous batching for one session (one model version or variant): a thread that decodes all
 * running sequences in one step, prefills arriving prompts together (up to {@code prefill_tokens}
 * padded tokens) and lets them join at the next step, and drops finished or cancelled sequences at
 * once (their rows stay as padding until the next rebuild: a join, or as many rows gone as left).
 *
 * <p>Threading: {@link #submit} from any thread; everything else on the scheduler's own thread.
 * Leases: each submitter holds a lease on the session until its future completes, so the
 * scheduler touches the session only while some submitted sequence is outstanding; it frees the
 * batch before completing the last one. The thread ends after {@link #IDLE_MS} without work.
 */
final class BatchScheduler implements Runnable {
  static final long IDLE_MS = 2000;

  /** A submitted sequence and where its outcome goes. */
  record Job(Sequence seq, CompletableFuture<GenerationResult> done) {}

  private final ModelSession session;
  private final GenerationSettings settings;
  private final int vocab;
  private final Runnable retired;
  private final DistributionSummary batchSizes;
  private final ArrayDeque<Job> waiting = new ArrayDeque<>();
  private boolean closed;
  // scheduler thread only:
  private final List<Job> rows = new ArrayList<>(); // null entries: rows that have left
  private int[] next = new int[0];
  private int live;
  private final List<Runnable> outcomes = new ArrayList<>(); // completions, run once the session is idle

  /** {@code retired} runs (on the scheduler thread) once it has stopped accepting work. */
  BatchScheduler(ModelSession session, GenerationSettings settings, int vocab, DistributionSummary batchSizes,
      Runnable retired) {
    this.session = session;
    this.settings = settings;
    this.vocab = vocab;
    this.batchSizes = batchSizes;
    this.retired = retired;
  }

  /**
   * Queues {@code job}; false when this scheduler has retired (make a new one). Throws
   * RESOURCE_EXHAUSTED when {@code max_waiting} sequences already wait.
   */
  synchronized boolean submit(Job job) {
    if (closed) {
      return false;
    }
    if (waiting.size() >= settings.maxWaitingOrDefault()) {
      throw new ServingException(ErrorKind.RESOURCE_EXHAUSTED, waiting.size() + " generations are already"
          + " waiting for this model (generation.max_waiting); retry later");
    }
    waiting.add(job);
    notifyAll();
    return true;
  }

  /** Sequences queued and not yet decoding. */
  synchronized int waitingCount() {
    return waiting.size();
  }

  @Override
  public void run() {
    try (DecodeBatch batch = new DecodeBatch(session, vocab)) {
      while (true) {
        List<Job> joining = admit();
        if (joining == null) {
          return;
        }
        try {
          decode(batch, joining);
        } catch (RuntimeException | Error e) { // a step failed: every sequence of the batch fails
          batch.rebuild(List.of()); // frees the cache before anyone is told
          java.util.stream.Stream.concat(rows.stream(), joining.stream()).filter(j -> j != null)
              .forEach(j -> outcomes.add(() -> j.done().completeExceptionally(e))); // no-op for those done
          rows.clear();
          live = 0;
        }
        outcomes.forEach(Runnable::run);
        outcomes.clear();
      }
    } finally {
      retired.run();
    }
  }

  /** Takes the prompts to prefill now; waits while there is nothing to do; null once retired. */
  private synchronized List<Job> admit() {
    long idleSince = System.nanoTime();
    while (waiting.isEmpty() && live == 0) {
      long left = IDLE_MS - (System.nanoTime() - idleSince) / 1_000_000;
      if (left <= 0) {
        closed = true;
        return null;
      }
      try {
        wait(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closed = true; // nothing waits (the loop's condition)
        return null;
      }
    }
    List<Job> out = new ArrayList<>();
    int width = 0;
    while (!waiting.isEmpty() && live + out.size() < settings.maxBatchOrDefault()) {
      Job j = waiting.peek();
      int w = Math.max(width, j.seq().prompt().length);
      if (!out.isEmpty() && (long) w * (out.size() + 1) > settings.prefillTokensOrDefault()) {
        break;
      }
      out.add(waiting.poll());
      width = w;
    }
    return out;
  }

  /** One iteration: prefill and join, then one step; completions are queued in {@link #outcomes}. */
  private void decode(DecodeBatch batch, List<Job> joining) {
    List<Job> ready = new ArrayList<>();
    joining.removeIf(j -> {
      if (j.seq().cancelRequested()) {
        j.seq().cancel();
        finish(j);
        return true;
      }
      return false;
    });
    DecodeBatch.Prefill p = null;
    try {
      p = joining.isEmpty() ? null : batch.prefill(joining.stream().map(j -> j.seq().prompt()).toList());
    } catch (RuntimeException e) { // only the prompts of this prefill fail; the running rows go on
      joining.forEach(j -> outcomes.add(() -> j.done().completeExceptionally(e)));
    }
    if (p != null) {
      List<DecodeBatch.RowRef> refs = new ArrayList<>();
      List<Integer> firstIds = new ArrayList<>();
      for (int i = 0; i < joining.size(); i++) {
        int id = advance(joining.get(i), p.logits(), i * vocab);
        if (id >= 0) {
          ready.add(joining.get(i));
          refs.add(p.rows().get(i));
          firstIds.add(id);
        }
      }
      if (!ready.isEmpty()) {
        compact(batch, refs, ready, firstIds);
      }
    }
    for (int r = 0; r < rows.size(); r++) { // cancelled rows leave before the step
      Job j = rows.get(r);
      if (j != null && j.seq().cancelRequested()) {
        j.seq().cancel();
        finish(j);
        leave(r);
      }
    }
    if (ready.isEmpty() && live > 0 && (settings.gathered() || rows.size() - live >= live)) {
      compact(batch, List.of(), List.of(), List.of());
    }
    if (live > 0) {
      batchSizes.record(live);
      float[] logits = batch.step(next);
      for (int r = 0; r < rows.size(); r++) {
        Job j = rows.get(r);
        if (j != null) {
          int id = advance(j, logits, r * vocab);
          if (id < 0) {
            leave(r);
          } else {
            next[r] = id;
          }
        }
      }
    }
    if (live == 0 && rows.size() > 0) {
      rows.clear();
      batch.rebuild(List.of()); // frees the cache while the finishing sequences still hold their leases
    }
  }

  /** Rebuilds the batch from the rows still running plus {@code joined} (with their first tokens). */
  private void compact(DecodeBatch batch, List<DecodeBatch.RowRef> joinedRefs, List<Job> joined,
      List<Integer> firstIds) {
    List<DecodeBatch.RowRef> current = batch.current();
    List<DecodeBatch.RowRef> refs = new ArrayList<>();
    List<Job> kept = new ArrayList<>();
    List<Integer> ids = new ArrayList<>();
    for (int r = 0; r < rows.size(); r++) {
      if (rows.get(r) != null) {
        refs.add(current.get(r));
        kept.add(rows.get(r));
        ids.add(next[r]);
      }
    }
    refs.addAll(joinedRefs);
    kept.addAll(joined);
    ids.addAll(firstIds);
    batch.rebuild(refs);
    rows.clear();
    rows.addAll(kept);
    next = ids.stream().mapToInt(Integer::intValue).toArray();
    live = rows.size();
  }

  /** Advances one sequence; a failure (e.g. its sink threw) ends that sequence alone. −1: it has left. */
  private int advance(Job j, float[] logits, int offset) {
    try {
      int id = j.seq().advance(logits, offset);
      if (id < 0) {
        finish(j);
      }
      return id;
    } catch (RuntimeException e) {
      outcomes.add(() -> j.done().completeExceptionally(e));
      return -1;
    }
  }

  private void finish(Job j) {
    outcomes.add(() -> j.done().complete(j.seq().result()));
  }

  private void leave(int row) {
    rows.set(row, null);
    live--;
  }
}
