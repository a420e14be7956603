package dev.pruneserve.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.llm.DecoderSpec;
import dev.pruneserve.llm.LlamaOnnxExporter;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.CheckpointImport;
import dev.pruneserve.repository.FileHashes;
import dev.pruneserve.repository.ModelConfigFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Serves Hugging Face model folders: converts {@code config.json} + safetensors into
 * pruneserve's ONNX decoder on first use, cached under {@code <cache>/hf/<sha256>/model.onnx},
 * keyed by the content of the config and weight files and the converter's revision (a changed
 * file converts again; an unchanged one is never rehashed while its size and mtime hold,
 * {@link FileHashes}).
 * Thread-safe; one conversion per content at a time.
 */
public final class HfImport implements CheckpointImport {
  /** Bump when the conversion's output changes for the same checkpoint. */
  static final String REVISION = "hf-import-1";
  private static final Logger LOG = Logger.getLogger(HfImport.class);

  private final Path cacheRoot;
  private final ObjectMapper json = new ObjectMapper();
  private final FileHashes hashes = new FileHashes();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  /** @param cacheRoot where converted models are kept ({@code ~/.cache/pruneserve} by default) */
  public HfImport(Path cacheRoot) {
    this.cacheRoot = cacheRoot;
  }

  @Override
  public boolean recognises(Path dir) {
    Path config = dir.resolve(HfCheckpoint.CONFIG);
    if (!Files.isRegularFile(config)) {
      return false;
    }
    boolean weights = Files.isRegularFile(dir.resolve(HfCheckpoint.SINGLE))
        || Files.isRegularFile(dir.resolve(HfCheckpoint.INDEX));
    try {
      return weights && HfConfig.isCheckpoint(json.readTree(config.toFile()));
    } catch (IOException e) {
      return false; // not JSON: the repository reports it as pruneserve's own invalid config.json
    }
  }

  @Override
  public ModelConfigFile defaults(Path dir) {
    DecoderSpec spec = guarded(dir, () -> HfConfig.spec(json.readTree(dir.resolve(HfCheckpoint.CONFIG).toFile())));
    String tokenizer = Files.isRegularFile(dir.resolve("tokenizer.json")) ? "tokenizer.json" : null;
    return new ModelConfigFile(ModelConfigFile.CAUSAL_LM, tokenizer, null, null, null, spec.contextLength(), null,
        null, null, null, null);
  }

  @Override
  public Path modelFile(Path dir) {
    String dtype = guarded(dir, () -> dtype(dir));
    String key = guarded(dir, () -> contentHash(dir, dtype));
    Path target = cacheRoot.resolve("hf").resolve(key).resolve("model.onnx");
    synchronized (locks.computeIfAbsent(key, k -> new Object())) {
      if (!Files.isRegularFile(target)) {
        guarded(dir, () -> {
          convert(dir, target, dtype);
          return null;
        });
      }
    }
    return target;
  }

  /**
   * The served dtype from pruneserve.json's {@code dtype}: {@code float32} (default) or {@code
   * float16} (weights and compute in FP16, inputs and outputs FP32: half the memory); anything
   * else → FAILED_PRECONDITION naming the key.
   */
  private String dtype(Path dir) throws IOException {
    Path settings = dir.resolve(dev.pruneserve.repository.ModelRepository.SETTINGS_FILE);
    String v = Files.isRegularFile(settings) ? json.readTree(settings.toFile()).path("dtype").asText("float32")
        : "float32";
    if (!v.equals("float32") && !v.equals("float16")) {
      throw new UnsupportedCheckpointException(
          dev.pruneserve.repository.ModelRepository.SETTINGS_FILE + " dtype '" + v + "' is not one of"
              + " float32, float16");
    }
    return v;
  }

  private void convert(Path dir, Path target, String dtype) throws IOException {
    long t0 = System.nanoTime();
    HfCheckpoint ck = HfCheckpoint.open(dir);
    DecoderSpec spec = ck.spec();
    ModelProto model;
    try {
      model = LlamaOnnxExporter.export(spec, ck, ck.config().path("model_type").asText() + " checkpoint "
          + dir.getFileName());
    } catch (IllegalArgumentException e) {
      throw new UnsupportedCheckpointException(e.getMessage());
    }
    if (dtype.equals("float16")) {
      model = dev.pruneserve.graph.Float16Conversion.convert(model);
    }
    List<String> unread = ck.unread(spec.tiedEmbeddings());
    if (!unread.isEmpty()) {
      throw new UnsupportedCheckpointException("the checkpoint has tensors the conversion does not use, so it would"
          + " serve a different model: " + unread.subList(0, Math.min(5, unread.size()))
          + (unread.size() > 5 ? " and " + (unread.size() - 5) + " more" : ""));
    }
    Files.createDirectories(target.getParent());
    // streamed: no second copy of the weights in memory; over the inline limit with external data
    dev.pruneserve.repository.ModelFileWriter.write(model, target, false);
    LOG.infof("converted checkpoint %s (%s, %d layers, %d/%d heads) to %s in %d ms", dir,
        spec.grouped() ? "GQA" : "MHA",
        spec.layers(), spec.heads(), spec.kvHeads(), target, (System.nanoTime() - t0) / 1_000_000);
  }

  /** sha256 over the revision, each of config.json and the weight files (name and sha256), and a non-default dtype. */
  private String contentHash(Path dir, String dtype) throws IOException {
    List<Path> files = new ArrayList<>(List.of(dir.resolve(HfCheckpoint.CONFIG)));
    files.addAll(HfCheckpoint.weightFiles(dir));
    StringBuilder manifest = new StringBuilder(REVISION);
    for (Path f : files) {
      manifest.append('\n').append(f.getFileName()).append(' ').append(hashes.sha256(f));
    }
    if (!dtype.equals("float32")) { // absent by default: keys of float32 conversions stay as they were
      manifest.append("\ndtype ").append(dtype);
    }
    return HexFormat.of().formatHex(FileHashes.sha256().digest(manifest.toString()
        .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  private interface Step<T> {
    T run() throws IOException;
  }

  /** Runs {@code step}, turning what a checkpoint can get wrong into FAILED_PRECONDITION naming the folder. */
  private static <T> T guarded(Path dir, Step<T> step) {
    try {
      return step.run();
    } catch (UnsupportedCheckpointException e) {
      throw ServingException.precondition("checkpoint folder '" + dir.getFileName() + "': " + e.getMessage());
    } catch (IOException | java.io.UncheckedIOException e) {
      LOG.warnf(e, "checkpoint folder %s", dir);
      throw ServingException.precondition("checkpoint folder '" + dir.getFileName() + "': cannot read its files ("
          + e.getClass().getSimpleName() + "); see the server log");
    }
  }
}
