package dev.pruneserve.llm;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.Lease;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.tokenizer.Tokenizer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Text generation on causal LMs of the registry. One call = one batch-1 generation holding a lease
 * on the model version for its whole duration (a reload or unload never cuts it short); concurrent
 * calls share the session. Blocking; thread-safe.
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
      try (KvDecoder decoder = new KvDecoder(lease.session())) {
        return generate(lease.model(), lease.version(), lease.directory(), config, decoder, prompt, params, cancelled,
            sink, t0);
      }
    }
  }

  private GenerationResult generate(String model, String version, java.nio.file.Path dir, ModelConfigFile config,
      KvDecoder decoder, PromptInput prompt, SamplingParams params, BooleanSupplier cancelled,
      Consumer<TokenEvent> sink,
      long t0) {
    Tokenizer tok = tokenizers.get(dir.resolve(config.tokenizer()), decoder.vocab());
    int context = config.contextLength() == null ? Integer.MAX_VALUE : config.contextLength();
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
    GenerationResult r = loop(model, version, params, cancelled, sink, t0, decoder, tok, context, promptIds);
    record(r);
    return r;
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

  private static GenerationResult loop(String model, String version, SamplingParams params,
      BooleanSupplier cancelled, Consumer<TokenEvent> sink, long t0, KvDecoder decoder, Tokenizer tok,
      int context, int[] promptIds) {
    int vocab = decoder.vocab();
    Sampler sampler = new Sampler(params);
    StopMatcher stops = new StopMatcher(params.stops());
    BitSet seen = new BitSet(vocab);
    BitSet stopIds = new BitSet();
    for (int s : tok.stopIds()) {
      stopIds.set(s);
    }
    for (int id : promptIds) {
      seen.set(id);
    }
    Utf8Text text = new Utf8Text();
    List<Integer> out = new ArrayList<>();
    int prev = promptIds[promptIds.length - 1];
    int streamed = 0;
    long firstAt = 0;
    FinishReason reason = null;
    float[] logits = decoder.step(promptIds);
    int row = promptIds.length - 1;
    String visible = "";
    while (reason == null) {
      if (cancelled.getAsBoolean()) {
        reason = FinishReason.CANCELLED;
        break;
      }
      int id = sampler.next(logits, row * vocab, vocab, seen);
      if (firstAt == 0) {
        firstAt = System.nanoTime();
      }
      if (stopIds.get(id)) {
        reason = FinishReason.EOS;
        break;
      }
      out.add(id);
      seen.set(id);
      text.append(tok.piece(prev, id));
      prev = id;
      visible = text.complete();
      int stopAt = stops.match(visible);
      int safe = stopAt >= 0 ? stopAt : stops.safeLength(visible);
      if (stopAt >= 0) {
        visible = visible.substring(0, stopAt);
        reason = FinishReason.STOP;
      }
      sink.accept(new TokenEvent(id, safe > streamed ? visible.substring(streamed, safe) : ""));
      streamed = Math.max(streamed, safe);
      if (reason == null && out.size() >= params.maxNewTokens()) {
        reason = FinishReason.LENGTH;
      } else if (reason == null && decoder.length() >= context) {
        reason = FinishReason.CONTEXT;
      } else if (reason == null) {
        logits = decoder.step(new int[] {id});
        row = 0;
      }
    }
    String all = reason == FinishReason.STOP ? visible : text.all();
    long end = System.nanoTime();
    double ttft = firstAt == 0 ? 0 : (firstAt - t0) / 1e6;
    double decodeSeconds = firstAt == 0 ? 0 : (end - firstAt) / 1e9;
    double tps = out.size() > 1 && decodeSeconds > 0 ? (out.size() - 1) / decodeSeconds : 0;
    return new GenerationResult(model, version, reason, promptIds.length,
        out.stream().mapToInt(Integer::intValue).toArray(), all, all.substring(Math.min(streamed, all.length())),
        ttft, tps, params.seed());
  }
}
