package dev.pruneserve.embed;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.Lease;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import dev.pruneserve.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sentence embeddings from encoder models (config.json kind {@code encoder} with a {@code
 * tokenizer.json}): texts are tokenized, padded into one batch, run, and the last hidden state
 * [batch, seq, dim] is pooled over the attention mask (mean, cls or last: the request's {@code
 * pooling}, else config.json's, else mean) and optionally L2-normalised.
 * Blocking; thread-safe.
 */
public final class EmbeddingService {
  public static final String ENCODER = "encoder";
  public static final int MAX_TEXTS = 256;
  static final int MAX_TOKENS = 512;

  /** Embeddings in request order, with their token counts. */
  public record Result(String model, String version, List<float[]> vectors, int[] tokenCounts) {}

  private final ModelRegistry registry;
  private final Map<String, Loaded> tokenizers = new ConcurrentHashMap<>();

  public EmbeddingService(ModelRegistry registry) {
    this.registry = registry;
  }

  public Result embed(String model, String version, List<String> texts, boolean normalize) {
    return embed(model, version, texts, normalize, "");
  }

  /** @param pooling mean|cls|last; empty = config.json's {@code pooling} (default mean) */
  public Result embed(String model, String version, List<String> texts, boolean normalize, String pooling) {
    if (texts.isEmpty() || texts.size() > MAX_TEXTS) {
      throw ServingException.invalid("give 1 to " + MAX_TEXTS + " texts, got " + texts.size());
    }
    try (Lease lease = registry.acquire(model, version)) {
      ModelConfigFile config = lease.config();
      if (!ENCODER.equals(config.kindOrDefault()) || config.tokenizer() == null) {
        throw ServingException.precondition("model '" + model + "' is not an encoder (config.json kind '"
            + config.kindOrDefault() + "'); Embed needs kind \"encoder\" and a tokenizer.json");
      }
      HfTokenizer tok = tokenizer(lease.directory().resolve(config.tokenizer()));
      checkSignature(model, lease.session());
      List<HfTokenizer.Encoded> enc = texts.stream().map(tok::encode).toList();
      int seq = enc.stream().mapToInt(e -> e.ids().length).max().orElse(1);
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      for (TensorSpec in : lease.session().inputs()) {
        inputs.put(in.name(), switch (in.name()) {
          case "input_ids" -> batch(in.name(), enc, seq, HfTokenizer.Encoded::ids);
          case "attention_mask" -> batch(in.name(), enc, seq, HfTokenizer.Encoded::mask);
          case "token_type_ids" -> batch(in.name(), enc, seq, HfTokenizer.Encoded::typeIds);
          default -> throw ServingException.precondition("encoder input '" + in.name()
              + "' is not one of input_ids, attention_mask, token_type_ids");
        });
      }
      TensorSpec hidden = lease.session().outputs().stream()
          .filter(o -> o.type() == DataType.FP32 && o.shape().length == 3).findFirst()
          .orElseThrow(() -> ServingException.precondition("encoder '" + model
              + "' has no [batch, seq, dim] output to pool"));
      Tensor out = lease.session().run(inputs, Set.of(hidden.name())).get(hidden.name());
      Pooling.Mode mode = Pooling.Mode.parse(pooling, Pooling.Mode.parse(config.pooling(), Pooling.Mode.MEAN,
          "config.json pooling"), "pooling");
      List<float[]> vectors = Pooling.pool(mode, out.toFloatArray(), enc, seq, (int) out.shape()[2], normalize);
      int[] counts = enc.stream().mapToInt(e -> e.ids().length).toArray();
      return new Result(model, lease.version(), vectors, counts);
    }
  }

  /** Inputs INT64 [batch, seq]; a FP32 [batch, seq, dim] output to pool. */
  private static void checkSignature(String model, dev.pruneserve.session.ModelSession s) {
    for (TensorSpec in : s.inputs()) {
      if (in.type() != DataType.INT64 || in.shape().length != 2) {
        throw ServingException.precondition("encoder '" + model + "' input '" + in.name()
            + "' is not INT64 [batch, seq]");
      }
    }
    if (s.outputs().stream().noneMatch(o -> o.type() == DataType.FP32 && o.shape().length == 3)) {
      throw ServingException.precondition("encoder '" + model + "' has no FP32 [batch, seq, dim] output to pool");
    }
  }

  /** One tokenizer per file; a changed file replaces (and frees) the previous one. */
  private HfTokenizer tokenizer(Path file) {
    long mtime;
    try {
      mtime = Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      throw ServingException.precondition("tokenizer " + file.getFileName() + " is missing");
    }
    return tokenizers.compute(file.toAbsolutePath().toString(), (k, old) -> {
      if (old != null && old.mtime() == mtime) {
        return old;
      }
      try {
        Loaded fresh = new Loaded(mtime, HfTokenizer.load(file, MAX_TOKENS));
        if (old != null) {
          old.tokenizer().close();
        }
        return fresh;
      } catch (IOException | RuntimeException e) {
        throw ServingException.precondition("cannot load tokenizer " + file.getFileName() + ": " + e.getMessage());
      }
    }).tokenizer();
  }

  private record Loaded(long mtime, HfTokenizer tokenizer) {}

  /** int64 [texts, seq], right-padded with zeros. */
  private static Tensor batch(String name, List<HfTokenizer.Encoded> enc, int seq,
      java.util.function.Function<HfTokenizer.Encoded, long[]> field) {
    ByteBuffer b = ByteBuffer.allocate(enc.size() * seq * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (HfTokenizer.Encoded e : enc) {
      long[] v = field.apply(e);
      for (int i = 0; i < seq; i++) {
        b.putLong(i < v.length ? v[i] : 0);
      }
    }
    b.flip();
    return Tensor.fixed(name, DataType.INT64, new long[] {enc.size(), seq}, b);
  }
}
