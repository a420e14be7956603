package dev.pruneserve.llm;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.Lease;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.repository.GenerationSettings;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tokenizer.Tokenizer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Text generation on causal LMs of the registry. Each call holds a lease on the model version for
 * its whole duration (a reload, alias swap or eviction never cuts it short). Concurrent calls on
 * one version are decoded together by that session's {@link BatchScheduler} (continuous batching,
 * config.json {@code generation}); with {@code max_batch} 1, or a model without attention_mask and
 * position_ids inputs, each call runs its own batch-1 loop. Blocking; thread-safe.
 */
public final class GenerationService {
  /** Upper bound on the bytes one token can cover (llama2.c: max_token_length 27). */
  static final int MAX_TOKEN_BYTES = 64;

  /** One streamed token and the text it makes visible (possibly empty). */
  public record TokenEvent(int id, String text) {}

  /** Admission limits of every generation request (INVALID_ARGUMENT beyond them). */
  public record Limits(int maxNewTokens, int maxPromptBytes) {
    public static final Limits NONE = new Limits(SamplingParams.MAX_NEW_TOKENS_LIMIT, Integer.MAX_VALUE);
  }

  private final ModelRegistry registry;
  private final MeterRegistry meters;
  private final Limits limits;
  private final TokenizerCache tokenizers = new TokenizerCache();
  private final Map<ModelSession, BatchScheduler> schedulers = new ConcurrentHashMap<>();

  /**
   * Metrics: {@code pruneserve_generation_requests_total{model,version,finish_reason}}, {@code
   * pruneserve_generation_tokens_total{model,version}} and the histogram {@code
   * pruneserve_generation_time_to_first_token_seconds{model,version}}.
   */
  public GenerationService(ModelRegistry registry, MeterRegistry meters, Limits limits) {
    this.registry = registry;
    this.meters = meters;
    this.limits = limits;
  }

  public GenerationService(ModelRegistry registry, MeterRegistry meters) {
    this(registry, meters, Limits.NONE);
  }

  public Limits limits() {
    return limits;
  }

  /**
   * Checks {@code req} against the limits, applies the defaults and generates; {@code sink}
   * receives each token as it is produced, {@code cancelled} is polled before every step.
   */
  public GenerationResult generate(GenerationRequest req, BooleanSupplier cancelled, Consumer<TokenEvent> sink) {
    if (req.maxNewTokens() > limits.maxNewTokens()) {
      throw ServingException.invalid("max_new_tokens is " + req.maxNewTokens() + "; this server allows at most "
          + limits.maxNewTokens() + " (pruneserve.limits.max-new-tokens)");
    }
    if (req.prompt().bytes() > limits.maxPromptBytes()) {
      throw ServingException.invalid("prompt is " + req.prompt().bytes() + " bytes; this server allows at most "
          + limits.maxPromptBytes() + " (pruneserve.limits.max-prompt-bytes)");
    }
    SamplingParams params = SamplingParams.of(req.maxNewTokens(), req.temperature(), req.topK(), req.topP(),
        req.repetitionPenalty(), req.seed(), req.stops());
    return generate(req.model(), req.version(), req.prompt(), params, cancelled, sink);
  }

  /**
   * Generates from {@code prompt}; {@code sink} receives each token as it is produced, and
   * {@code cancelled} is polled before every step.
   */
  public GenerationResult generate(String model, String version, String prompt, SamplingParams params,
      BooleanSupplier cancelled, Consumer<TokenEvent> sink) {
    return generate(model, version, PromptInput.text(prompt), params, cancelled, sink);
  }

  /** As above from a prompt or chat messages. */
  public GenerationResult generate(String model, String version, PromptInput prompt, SamplingParams params,
      BooleanSupplier cancelled, Consumer<TokenEvent> sink) {
    long t0 = System.nanoTime();
    try (Lease lease = registry.acquire(model, version)) {
      ModelConfigFile config = lease.config();
      if (!ModelConfigFile.CAUSAL_LM.equals(config.kindOrDefault()) || config.tokenizer() == null) {
        throw ServingException.precondition("model '" + model + "' is not a causal LM (config.json kind '"
            + config.kindOrDefault() + "'); Generate needs kind \"causal-lm\" and a tokenizer");
      }
      int vocab = KvDecoder.vocab(lease.session());
      Tokenizer tok = tokenizers.get(lease.directory().resolve(config.tokenizer()), vocab);
      int[] ids = promptIds(lease.model(), config, tok, prompt);
      AtomicBoolean abandoned = new AtomicBoolean();
      Sequence seq = new Sequence(lease.model(), lease.version(), params, tok, vocab, context(config), ids,
          () -> abandoned.get() || cancelled.getAsBoolean(), sink, t0);
      GenerationResult r;
      if (config.generationOrDefault().maxBatchOrDefault() > 1 && DecodeBatch.supports(lease.session())) {
        r = batched(lease, vocab, seq, abandoned);
      } else {
        try (KvDecoder decoder = new KvDecoder(lease.session())) {
          r = alone(seq, decoder);
        }
      }
      record(r);
      return r;
    }
  }

  private static int context(ModelConfigFile config) {
    return config.contextLength() == null ? Integer.MAX_VALUE : config.contextLength();
  }

  /** The prompt's token ids, checked against the model's context. */
  private static int[] promptIds(String model, ModelConfigFile config, Tokenizer tok, PromptInput prompt) {
    int context = context(config);
    // A token covers at most MAX_TOKEN_BYTES bytes, so longer prompts cannot fit: refuse them before
    // spending time on tokenization.
    long bytes = prompt.bytes();
    if (bytes > (long) context * MAX_TOKEN_BYTES) {
      throw ServingException.invalid("prompt is " + bytes + " bytes, far more than model '" + model
          + "' can take (context of " + context + " tokens)");
    }
    int[] promptIds = prompt.encode(tok, model, (long) context * MAX_TOKEN_BYTES);
    if (promptIds.length == 0) {
      throw ServingException.invalid("the prompt encodes to no token (this model's tokenizer adds no BOS)");
    }
    if (promptIds.length > context) {
      throw ServingException.invalid("prompt is " + promptIds.length + " tokens; model '" + model
          + "' has a context of " + context + " tokens");
    }
    return promptIds;
  }

  private void record(GenerationResult r) {
    Counter.builder("pruneserve.generation.requests").description("Finished generations by finish reason")
        .tags("model", r.model(), "version", r.version(), "finish_reason", r.reason().name().toLowerCase())
        .register(meters).increment();
    Counter.builder("pruneserve.generation.tokens").description("Generated tokens")
        .tags("model", r.model(), "version", r.version()).register(meters).increment(r.tokenIds().length);
    Timer.builder("pruneserve.generation.time.to.first.token").tags("model", r.model(), "version", r.version())
        .publishPercentileHistogram().register(meters)
        .record((long) (r.timeToFirstTokenMs() * 1e6), TimeUnit.NANOSECONDS);
  }

  /** Today's batch-1 loop on the caller's thread (max_batch 1, or models that cannot batch). */
  private static GenerationResult alone(Sequence seq, KvDecoder decoder) {
    float[] logits = decoder.step(seq.prompt());
    int offset = (seq.prompt().length - 1) * decoder.vocab();
    for (int id; (id = seq.advance(logits, offset)) >= 0; offset = 0) {
      logits = decoder.step(new int[] {id});
    }
    return seq.result();
  }

  /**
   * Hands {@code seq} to the session's {@link BatchScheduler} and waits for it. The caller's lease
   * stays held until the scheduler is done with the sequence, even if this thread is interrupted.
   */
  private GenerationResult batched(Lease lease, int vocab, Sequence seq, AtomicBoolean abandoned) {
    BatchScheduler.Job job = new BatchScheduler.Job(seq, new CompletableFuture<>());
    GenerationSettings settings = lease.config().generationOrDefault();
    ModelSession session = lease.session();
    while (true) {
      BatchScheduler s = schedulers.computeIfAbsent(session, k -> start(lease, settings, vocab));
      if (s.submit(job)) {
        break;
      }
      schedulers.remove(session, s);
    }
    try {
      return job.done().get();
    } catch (InterruptedException e) {
      abandoned.set(true); // the sequence leaves at the next step
      try {
        return job.done().join(); // uninterruptible: the lease must outlive the scheduler's use of it
      } catch (java.util.concurrent.CompletionException c) {
        throw unchecked(c.getCause());
      } finally {
        Thread.currentThread().interrupt();
      }
    } catch (ExecutionException e) {
      throw unchecked(e.getCause());
    }
  }

  private static RuntimeException unchecked(Throwable t) {
    if (t instanceof Error err) {
      throw err;
    }
    return t instanceof RuntimeException re ? re : new IllegalStateException(t);
  }

  /** Generations queued for {@code session}'s scheduler and not yet decoding (0 without one). */
  int waiting(ModelSession session) {
    BatchScheduler s = schedulers.get(session);
    return s == null ? 0 : s.waitingCount();
  }

  private BatchScheduler start(Lease lease, GenerationSettings settings, int vocab) {
    ModelSession session = lease.session();
    DistributionSummary sizes = DistributionSummary.builder("pruneserve.generation.batch.size")
        .description("Sequences decoded together per step").tags("model", lease.model(), "version", lease.version())
        .register(meters);
    BatchScheduler[] self = new BatchScheduler[1];
    self[0] = new BatchScheduler(session, settings, vocab, sizes, () -> schedulers.remove(session, self[0]));
    dev.pruneserve.concurrent.DaemonThreads.start(self[0], "generate-" + lease.model() + "-" + lease.version());
    return self[0];
  }
}
