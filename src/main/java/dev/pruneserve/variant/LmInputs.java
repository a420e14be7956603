package dev.pruneserve.variant;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.llm.SelfSampler;
import dev.pruneserve.llm.TokenizerCache;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;

/**
 * Text inputs of a prune job for causal LMs: calibration texts and sequences turned into token ids
 * (with the parent's tokenizer, ids checked against its vocabulary) and the evaluation of a variant
 * against its parent. Runs on the pruning worker; thread-safe.
 */
final class LmInputs {
  private final ModelRegistry registry;
  private final SessionLoader loader;
  private final TokenizerCache tokenizers = new TokenizerCache();

  LmInputs(ModelRegistry registry, SessionLoader loader) {
    this.registry = registry;
    this.loader = loader;
  }

  /** PPL (128-token windows), KL and top-1 of the variant against the parent on the evaluation texts. */
  /** @param progress told the fraction evaluated before each window; may throw to cancel */
  Map<String, Object> evaluate(PruneService.Spec spec, ModelProto dense, Path parentFile, ModelProto pruned,
      DoubleConsumer progress) throws IOException {
    int[] stream = encode(spec, dense, spec.evaluationTexts()).stream().flatMapToInt(java.util.Arrays::stream)
        .toArray();
    if (stream.length < 128) {
      throw ServingException.invalid("evaluation texts give " + stream.length + " tokens; perplexity needs at least"
          + " one 128-token window");
    }
    Path tmp = Files.createTempFile(dev.pruneserve.repository.Scratch.dir(), "eval", ".onnx");
    try {
      dev.pruneserve.repository.ModelFileWriter.write(pruned, tmp, false);
      try (var d = loader.load(spec.model() + "/eval-parent", parentFile); var p = loader.load("variant/eval", tmp)) {
        var q = dev.pruneserve.eval.LmQuality.evaluate(p, d, stream, 128, progress);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("perplexity", q.perplexity());
        m.put("kl", q.kl());
        m.put("top1", q.top1());
        m.put("windows", q.windows());
        m.put("tokens", stream.length);
        return m;
      }
    } finally {
      dev.pruneserve.repository.ModelFileWriter.delete(tmp);
    }
  }

  private List<int[]> encode(PruneService.Spec spec, ModelProto dense, List<String> texts) {
    return encode(spec, dense, texts, f -> {});
  }

  /** Tokenizes each text (with BOS); {@code progress} is told the fraction done before each (may cancel). */
  private List<int[]> encode(PruneService.Spec spec, ModelProto dense, List<String> texts, DoubleConsumer progress) {
    Tokenizer tok = tokenizer(spec, dense, "texts");
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      progress.accept((double) i / texts.size());
      out.add(tok.encode(texts.get(i), true));
    }
    return out;
  }

  private Tokenizer tokenizer(PruneService.Spec spec, ModelProto dense, String what) {
    ModelConfigFile config = registry.repository().config(spec.model());
    if (!ModelConfigFile.CAUSAL_LM.equals(config.kindOrDefault()) || config.tokenizer() == null) {
      throw ServingException.precondition("model '" + spec.model() + "' has no causal-lm tokenizer for " + what
          + "; give calibration as token sequences (evaluation needs a causal LM)");
    }
    return tokenizers.get(registry.repository().modelDir(spec.model()).resolve(config.tokenizer()), vocab(dense));
  }

  /**
   * Calibration sequences: the given token sequences, then the texts tokenized (each with BOS), then
   * the self-samples drawn from the parent ({@code progress} gets the fraction sampled).
   */
  List<int[]> calibration(PruneService.Spec spec, ModelProto dense, Path parentFile, DoubleConsumer tokenizing,
      DoubleConsumer progress) throws IOException {
    ModelConfigFile config = registry.repository().config(spec.model());
    if (ModelConfigFile.ENCODER.equals(config.kindOrDefault())) {
      return encoderCalibration(spec, config, tokenizing);
    }
    Integer context = config.contextLength();
    List<int[]> out = new ArrayList<>(spec.calibration().sequences());
    if (!spec.calibration().texts().isEmpty()) {
      List<int[]> encoded = encode(spec, dense, spec.calibration().texts(), tokenizing);
      for (int i = 0; i < encoded.size(); i++) {
        if (encoded.get(i).length < 2) {
          throw ServingException.invalid("calibration text " + i + " gives no token after BOS; give texts with"
              + " content");
        }
      }
      out.addAll(encoded);
    }
    check(out, vocab(dense), context); // before any sampling: a bad request fails at once
    CalibrationInput.SelfSamples ss = spec.calibration().samples();
    if (ss != null) {
      Tokenizer tok = tokenizer(spec, dense, "self-samples (BOS/EOS ids)");
      int length = context == null ? ss.maxLength() : Math.min(ss.maxLength(), context); // never past the context
      try (var session = loader.load(spec.model() + "/self-samples", parentFile)) {
        out.addAll(SelfSampler.sample(session, ss.count(), length, ss.seed(),
            tok.bosId() >= 0 ? tok.bosId() : tok.eosId(), tok.stopIds(),
            done -> progress.accept(done / (double) ss.count())));
      }
    }
    return out;
  }

  /**
   * An encoder's calibration: the given sequences, then the texts tokenized by its tokenizer.json
   * as Embed does ([CLS] … [SEP], at most 512 tokens). Self-samples need a causal LM.
   */
  private List<int[]> encoderCalibration(PruneService.Spec spec, ModelConfigFile config, DoubleConsumer progress)
      throws IOException {
    if (spec.calibration().samples() != null) {
      throw ServingException.invalid("calibration.self_samples need a causal LM; give an encoder calibration texts");
    }
    List<int[]> out = new ArrayList<>(spec.calibration().sequences());
    List<String> texts = spec.calibration().texts();
    if (!texts.isEmpty()) {
      if (config.tokenizer() == null) {
        throw ServingException.precondition("encoder '" + spec.model() + "' has no tokenizer in config.json for"
            + " calibration texts; give token sequences");
      }
      try (var tok = dev.pruneserve.tokenizer.HfTokenizer.load(registry.repository().modelDir(spec.model()).resolve(
          config.tokenizer()), 512)) {
        for (int i = 0; i < texts.size(); i++) {
          progress.accept((double) i / texts.size());
          out.add(java.util.Arrays.stream(tok.encode(texts.get(i)).ids()).mapToInt(Math::toIntExact).toArray());
        }
      }
    }
    return out;
  }

  /** Token ids within the vocabulary and sequences within the context (when the model declares one). */
  private static void check(List<int[]> sequences, int vocab, Integer context) {
    for (int i = 0; i < sequences.size(); i++) {
      int[] s = sequences.get(i);
      if (context != null && s.length > context) {
        throw ServingException.invalid("calibration sequence " + i + " has " + s.length + " tokens; the model's"
            + " context is " + context);
      }
      for (int id : s) {
        if (id < 0 || id >= vocab) {
          throw ServingException.invalid("calibration token id " + id + " is outside the model's vocabulary [0, "
              + vocab + ")");
        }
      }
    }
  }

  private static int vocab(ModelProto m) {
    return m.getGraph().getOutputList().stream().filter(o -> o.getName().equals("logits")).findFirst()
        .filter(o -> o.getType().getTensorType().getShape().getDimCount() == 3)
        .map(o -> (int) o.getType().getTensorType().getShape().getDim(2).getDimValue())
        .filter(v -> v > 0)
        .orElseThrow(() -> ServingException.precondition("token calibration needs a causal LM with a logits"
            + " [batch, seq, vocab] output; CNN methods take calibration.images"));
  }
}
