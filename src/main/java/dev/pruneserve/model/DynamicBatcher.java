package dev.pruneserve.model;

import dev.pruneserve.repository.DynamicBatching;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.BatchAxis;
import dev.pruneserve.tensor.Tensor;
import io.micrometer.core.instrument.DistributionSummary;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Triton-style dynamic batching of ModelInfer requests on one session: queued requests whose
 * inputs agree in everything but the batch dimension are concatenated along it (up to {@code
 * max_batch_size} rows, preferring the {@code preferred_batch_size} values, waiting at most {@code
 * max_queue_delay_microseconds} after the oldest arrived), run once and split back. If the joint run
 * fails, or an output is not batched along dimension 0, each request runs alone, so a request's
 * error never fails its neighbours.
 *
 * <p>Threading: {@link #submit} from any thread; runs on its own thread, which ends after {@link
 * #IDLE_MS} without work. Leases: every submitter holds one until its future completes.
 */
final class DynamicBatcher implements Runnable {
  static final long IDLE_MS = 2000;

  /** One request: validated inputs (all with {@code rows} in dimension 0) and the outputs wanted. */
  record Item(Map<String, Tensor> inputs, Set<String> outputs, long rows, String key, long arrived,
      CompletableFuture<Map<String, Tensor>> done) {
    /** An item arriving now; its key says which others it can be joined with. */
    static Item of(Map<String, Tensor> inputs, Set<String> outputs, long rows) {
      String key = new TreeMap<>(inputs).entrySet().stream().map(e -> e.getKey() + BatchAxis.key(e.getValue()))
          .toList() + "→" + new java.util.TreeSet<>(outputs);
      return new Item(inputs, outputs, rows, key, System.nanoTime(), new CompletableFuture<>());
    }
  }

  private final ModelSession session;
  private final int maxBatch;
  private final List<Integer> preferred;
  private final long delayNanos;
  private final DistributionSummary sizes;
  private final Runnable retired;
  private final ArrayDeque<Item> queue = new ArrayDeque<>();
  private boolean closed;

  DynamicBatcher(ModelSession session, int maxBatch, DynamicBatching config, DistributionSummary sizes,
      Runnable retired) {
    this.session = session;
    this.maxBatch = maxBatch;
    this.preferred = config.preferredOrEmpty().stream().sorted().toList();
    this.delayNanos = config.delayMicrosOrDefault() * 1000;
    this.sizes = sizes;
    this.retired = retired;
  }

  /** Queues {@code item}; false when this batcher has retired (make a new one). */
  synchronized boolean submit(Item item) {
    if (closed) {
      return false;
    }
    queue.add(item);
    notifyAll();
    return true;
  }

  @Override
  public void run() {
    try {
      for (List<Item> batch = take(); batch != null; batch = take()) {
        execute(batch);
      }
    } finally {
      retired.run();
    }
  }

  /** The next batch: compatible requests in arrival order; null once retired. */
  private synchronized List<Item> take() {
    long idleSince = System.nanoTime();
    while (queue.isEmpty()) {
      long left = IDLE_MS - (System.nanoTime() - idleSince) / 1_000_000;
      if (left <= 0 || Thread.currentThread().isInterrupted()) {
        closed = true;
        return null;
      }
      waitMs(left);
    }
    int target = preferred.isEmpty() ? maxBatch : preferred.get(preferred.size() - 1);
    List<Item> batch = collect();
    long deadline = queue.peek().arrived() + delayNanos;
    while (rows(batch) < target && System.nanoTime() < deadline) {
      waitMs(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      batch = collect();
    }
    if (!preferred.isEmpty() && !preferred.contains((int) rows(batch))) { // the largest preferred prefix
      for (int n = batch.size() - 1; n > 0; n--) {
        if (preferred.contains((int) rows(batch.subList(0, n)))) {
          batch = new ArrayList<>(batch.subList(0, n));
          break;
        }
      }
    }
    queue.removeAll(batch);
    return batch;
  }

  private List<Item> collect() {
    List<Item> out = new ArrayList<>();
    String key = queue.peek().key();
    long total = 0;
    for (Iterator<Item> it = queue.iterator(); it.hasNext();) {
      Item i = it.next();
      if (total + i.rows() <= maxBatch && (out.isEmpty() || i.key().equals(key))) {
        out.add(i);
        total += i.rows();
      }
    }
    return out;
  }

  private void waitMs(long ms) {
    try {
      wait(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static long rows(List<Item> batch) {
    return batch.stream().mapToLong(Item::rows).sum();
  }

  private void execute(List<Item> batch) {
    sizes.record(rows(batch));
    if (batch.size() > 1) {
      try {
        List<Map<String, Tensor>> split = joint(batch);
        if (split != null) {
          for (int i = 0; i < batch.size(); i++) {
            Map<String, Tensor> mine = new LinkedHashMap<>(); // in this request's own output order
            for (String o : batch.get(i).outputs()) {
              mine.put(o, split.get(i).get(o));
            }
            batch.get(i).done().complete(mine);
          }
          return;
        }
      } catch (RuntimeException e) {
        // fall through: each request alone, so only the one at fault sees its error
      }
    }
    for (Item i : batch) {
      try {
        i.done().complete(session.run(i.inputs(), i.outputs()));
      } catch (RuntimeException e) {
        i.done().completeExceptionally(e);
      }
    }
  }

  /** One run over the concatenated inputs, split back; null when an output is not batched. */
  private List<Map<String, Tensor>> joint(List<Item> batch) {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (String name : batch.get(0).inputs().keySet()) {
      inputs.put(name, BatchAxis.concat(name, batch.stream().map(i -> i.inputs().get(name)).toList()));
    }
    Map<String, Tensor> out = session.run(inputs, batch.get(0).outputs());
    long total = rows(batch);
    long[] rows = batch.stream().mapToLong(Item::rows).toArray();
    List<Map<String, Tensor>> split = new ArrayList<>();
    batch.forEach(i -> split.add(new LinkedHashMap<>()));
    for (Map.Entry<String, Tensor> e : out.entrySet()) {
      long[] shape = e.getValue().shape();
      if (shape.length == 0 || shape[0] != total) {
        return null;
      }
      List<Tensor> parts = BatchAxis.split(e.getValue(), rows);
      for (int i = 0; i < parts.size(); i++) {
        split.get(i).put(e.getKey(), parts.get(i));
      }
    }
    return split;
  }
}
