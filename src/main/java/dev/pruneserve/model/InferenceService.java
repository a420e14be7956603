package dev.pruneserve.model;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs inference on the registry's models: lease, validate, run, record statistics and metrics.
 * Blocking; call it from worker threads, never from an event loop. Thread-safe.
 *
 * <p>Metrics: {@code pruneserve_inference_requests_total{model,version,outcome}} and the histogram
 * {@code pruneserve_inference_duration_seconds{model,version}}.
 */
public final class InferenceService {
  /** Model label for requests that named no served model. */
  static final String UNKNOWN = "_unknown_";

  private final ModelRegistry registry;
  private final MeterRegistry meters;
  private final long maxResponseBytes;
  private final Map<ModelSession, DynamicBatcher> batchers = new java.util.concurrent.ConcurrentHashMap<>();

  /** @param maxResponseBytes largest response in tensor bytes (pruneserve.limits.max-response-bytes) */
  public InferenceService(ModelRegistry registry, MeterRegistry meters, long maxResponseBytes) {
    this.registry = registry;
    this.meters = meters;
    this.maxResponseBytes = maxResponseBytes;
  }

  public InferenceService(ModelRegistry registry, MeterRegistry meters) {
    this(registry, meters, 268_435_456L);
  }

  public InferenceResult infer(InferenceRequest request) {
    long start = System.nanoTime();
    try (Lease lease = registry.acquire(request.model(), request.version())) {
      ModelStats stats = registry.statsFor(request.model(), lease.version());
      try {
        ModelSession session = lease.session();
        Map<String, Tensor> inputs = InputValidator.inputs(request.model(), session.inputs(), request.inputs());
        Set<String> outputs = InputValidator.outputs(request.model(), session.outputs(), request.outputs());
        requireResponseSize(request.model(), OutputBytes.predict(session, inputs, outputs));
        long t0 = System.nanoTime();
        Map<String, Tensor> result = batching(lease, inputs)
            ? batched(lease, inputs, outputs) : session.run(inputs, outputs);
        requireResponseSize(request.model(), result.values().stream().mapToLong(OutputBytes::of).sum());
        long inferNs = System.nanoTime() - t0;
        long total = System.nanoTime() - start;
        stats.recordSuccess(batchSize(session.inputs(), request.inputs()), total, inferNs, now());
        record(request.model(), lease.version(), "success", total);
        // the model that served (an alias resolves to its target), as Generate and ModelMetadata report it
        return new InferenceResult(lease.model(), lease.version(), new ArrayList<>(result.values()));
      } catch (RuntimeException e) {
        long total = System.nanoTime() - start;
        stats.recordFailure(total, now());
        record(request.model(), lease.version(), outcome(e), total);
        throw e;
      }
    } catch (ServingException e) {
      if (e.kind() == ErrorKind.NOT_FOUND || e.kind() == ErrorKind.UNAVAILABLE) {
        // Names and versions that do not exist are client input: never let them mint label values.
        boolean known = e.kind() == ErrorKind.UNAVAILABLE;
        counter(known ? request.model() : UNKNOWN, "", outcome(e)).increment();
      }
      throw e;
    }
  }

  /**
   * Whether this request goes through the model's dynamic batcher: config.json has {@code
   * dynamic_batching} and {@code max_batch_size}, every input is batched along a dynamic first
   * dimension and this request's rows (equal in every input) fit {@code max_batch_size}.
   */
  private static boolean batching(Lease lease, Map<String, Tensor> inputs) {
    int max = lease.config().maxBatchSizeOrDefault();
    if (lease.config().dynamicBatching() == null || max <= 0 || inputs.isEmpty()) {
      return false;
    }
    long rows = -1;
    for (TensorSpec s : lease.session().inputs()) {
      Tensor t = inputs.get(s.name());
      if (t == null || s.shape().length == 0 || s.shape()[0] >= 0 || (rows >= 0 && t.shape()[0] != rows)) {
        return false;
      }
      rows = t.shape()[0];
    }
    return rows > 0 && rows <= max;
  }

  private Map<String, Tensor> batched(Lease lease, Map<String, Tensor> inputs, Set<String> outputs) {
    long rows = inputs.values().iterator().next().shape()[0];
    DynamicBatcher.Item item = DynamicBatcher.Item.of(inputs, outputs, rows);
    ModelSession session = lease.session();
    while (true) {
      DynamicBatcher b = batchers.computeIfAbsent(session, k -> start(lease));
      if (b.submit(item)) {
        break;
      }
      batchers.remove(session, b);
    }
    try {
      return item.done().join(); // uninterruptible: the lease must outlive the batcher's use of it
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e.getCause() instanceof RuntimeException re ? re : e;
    }
  }

  private DynamicBatcher start(Lease lease) {
    ModelSession session = lease.session();
    DistributionSummary sizes = DistributionSummary.builder("pruneserve.inference.batch.size")
        .description("Rows per dynamically batched run").tags("model", lease.model(), "version", lease.version())
        .register(meters);
    DynamicBatcher[] self = new DynamicBatcher[1];
    self[0] = new DynamicBatcher(session, lease.config().maxBatchSizeOrDefault(), lease.config().dynamicBatching(),
        sizes, () -> batchers.remove(session, self[0]));
    dev.pruneserve.concurrent.DaemonThreads.start(self[0], "batch-" + lease.model() + "-" + lease.version());
    return self[0];
  }

  private void requireResponseSize(String model, long bytes) {
    if (bytes > maxResponseBytes) {
      throw new ServingException(ErrorKind.RESOURCE_EXHAUSTED, "the response of '" + model + "' would hold " + bytes
          + " bytes of tensors, more than pruneserve.limits.max-response-bytes = " + maxResponseBytes
          + "; ask for fewer outputs or a smaller input");
    }
  }

  private void record(String model, String version, String outcome, long nanos) {
    counter(model, version, outcome).increment();
    Timer.builder("pruneserve.inference.duration")
        .description("ModelInfer latency inside the server")
        .tags("model", model, "version", version)
        .publishPercentileHistogram()
        .register(meters)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  private Counter counter(String model, String version, String outcome) {
    return Counter.builder("pruneserve.inference.requests")
        .description("Inference requests by outcome")
        .tags("model", model, "version", version, "outcome", outcome)
        .register(meters);
  }

  private static String outcome(RuntimeException e) {
    return e instanceof ServingException se ? se.kind().name().toLowerCase() : "internal";
  }

  /** Batch = leading dim of the first input when that dim is dynamic; else 1. */
  private static long batchSize(List<TensorSpec> specs, List<Tensor> inputs) {
    if (specs.isEmpty() || inputs.isEmpty()) {
      return 1;
    }
    long[] spec = specs.get(0).shape();
    Tensor first = inputs.stream().filter(t -> t.name().equals(specs.get(0).name())).findFirst().orElseThrow();
    return spec.length > 0 && spec[0] < 0 ? Math.max(1, first.shape()[0]) : 1;
  }

  private static long now() {
    return System.currentTimeMillis();
  }
}
