package dev.pruneserve.llm;

import dev.pruneserve.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One generation's decoding state: sampler, stop strings, visible text, finish reason. Fed one
 * row of logits per step by whoever runs the model (the batch-1 loop or a {@link BatchScheduler});
 * it does not touch the model. Not thread-safe: one thread advances it at a time (hand-over
 * between threads must be ordered, e.g. through a queue).
 */
final class Sequence {
  private final String model;
  private final String version;
  private final SamplingParams params;
  private final Tokenizer tok;
  private final int vocab;
  private final int context;
  private final int[] prompt;
  private final BooleanSupplier cancelled;
  private final Consumer<GenerationService.TokenEvent> sink;
  private final long t0;
  private final Sampler sampler;
  private final StopMatcher stops;
  private final BitSet seen;
  private final BitSet stopIds = new BitSet();
  private final Utf8Text text = new Utf8Text();
  private final List<Integer> out = new ArrayList<>();
  private int prev;
  private int streamed;
  private long firstAt;
  private int cached;
  private String visible = "";
  private FinishReason reason;

  /** {@code t0}: when the request arrived (System.nanoTime), for the time to first token. */
  Sequence(String model, String version, SamplingParams params, Tokenizer tok, int vocab, int context,
      int[] prompt, BooleanSupplier cancelled, Consumer<GenerationService.TokenEvent> sink, long t0) {
    this.model = model;
    this.version = version;
    this.params = params;
    this.tok = tok;
    this.vocab = vocab;
    this.context = context;
    this.prompt = prompt.clone();
    this.cancelled = cancelled;
    this.sink = sink;
    this.t0 = t0;
    this.sampler = new Sampler(params);
    this.stops = new StopMatcher(params.stops());
    this.seen = new BitSet(vocab);
    for (int s : tok.stopIds()) {
      stopIds.set(s);
    }
    for (int id : prompt) {
      seen.set(id);
    }
    this.prev = prompt[prompt.length - 1];
    this.cached = prompt.length;
  }

  int[] prompt() {
    return prompt;
  }

  /** Positions the model has cached for this sequence (prompt + tokens fed back). */
  int cached() {
    return cached;
  }

  boolean finished() {
    return reason != null;
  }

  /** Whether the client has gone; polled before every step. */
  boolean cancelRequested() {
    return cancelled.getAsBoolean();
  }

  /**
   * Consumes the logits that predict the next token ({@code logits[offset .. offset+vocab)},
   * modified in place), streams it to the sink and returns the id to feed next, or −1 when the
   * sequence has finished (EOS, stop string, length, context or cancellation).
   */
  int advance(float[] logits, int offset) {
    if (cancelRequested()) {
      reason = FinishReason.CANCELLED;
      return -1;
    }
    int id = sampler.next(logits, offset, vocab, seen);
    if (firstAt == 0) {
      firstAt = System.nanoTime();
    }
    if (stopIds.get(id)) {
      reason = FinishReason.EOS;
      return -1;
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
    sink.accept(new GenerationService.TokenEvent(id, safe > streamed ? visible.substring(streamed, safe) : ""));
    streamed = Math.max(streamed, safe);
    if (reason == null && out.size() >= params.maxNewTokens()) {
      reason = FinishReason.LENGTH;
    } else if (reason == null && cached >= context) {
      reason = FinishReason.CONTEXT;
    }
    if (reason != null) {
      return -1;
    }
    cached++;
    return id;
  }

  /** Finishes a sequence that never got its first logits (cancelled while it waited). */
  void cancel() {
    reason = FinishReason.CANCELLED;
  }

  /** The outcome; only once {@link #finished()}. */
  GenerationResult result() {
    String all = reason == FinishReason.STOP ? visible : text.all();
    long end = System.nanoTime();
    double ttft = firstAt == 0 ? 0 : (firstAt - t0) / 1e6;
    double decodeSeconds = firstAt == 0 ? 0 : (end - firstAt) / 1e9;
    double tps = out.size() > 1 && decodeSeconds > 0 ? (out.size() - 1) / decodeSeconds : 0;
    return new GenerationResult(model, version, reason, prompt.length,
        out.stream().mapToInt(Integer::intValue).toArray(), all, all.substring(Math.min(streamed, all.length())),
        ttft, tps, params.seed());
  }
}
