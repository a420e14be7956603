package dev.pruneserve.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.llm.DecoderSpec;
import dev.pruneserve.llm.DecoderWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Hugging Face model folder: {@code config.json} plus {@code model.safetensors} or the shards
 * named by {@code model.safetensors.index.json}. The weights are read tensor by tensor on demand
 * and the names read are recorded, so {@link #unread} can tell which checkpoint tensors the
 * conversion ignored (a checkpoint feature that is not built must not be dropped silently).
 * Not thread-safe while converting; one conversion per instance.
 */
public final class HfCheckpoint implements DecoderWeights {
  public static final String CONFIG = "config.json";
  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";
  /** Checkpoint tensors that carry nothing the conversion needs (old exports store RoPE tables). */
  private static final String ROTARY_TABLE = ".rotary_emb.inv_freq";

  private final JsonNode config;
  private final Map<String, Safetensors> byTensor;
  private final Set<String> read = ConcurrentHashMap.newKeySet();

  private HfCheckpoint(JsonNode config, Map<String, Safetensors> byTensor) {
    this.config = config;
    this.byTensor = byTensor;
  }

  /** @throws UnsupportedCheckpointException when the folder lacks its config or weights */
  public static HfCheckpoint open(Path dir) throws IOException {
    JsonNode config = new ObjectMapper().readTree(dir.resolve(CONFIG).toFile());
    Map<String, Safetensors> byTensor = new TreeMap<>();
    for (Path f : weightFiles(dir)) {
      Safetensors s = Safetensors.open(f);
      for (String name : s.entries().keySet()) {
        if (byTensor.put(name, s) != null) {
          throw new UnsupportedCheckpointException("tensor " + name + " is stored in two safetensors files");
        }
      }
    }
    return new HfCheckpoint(config, byTensor);
  }

  /** The safetensors files of {@code dir}, in a stable order. */
  public static List<Path> weightFiles(Path dir) throws IOException {
    Path index = dir.resolve(INDEX);
    if (Files.isRegularFile(index)) {
      TreeMap<String, Path> files = new TreeMap<>();
      JsonNode map = new ObjectMapper().readTree(index.toFile()).path("weight_map");
      for (Iterator<JsonNode> it = map.elements(); it.hasNext();) {
        String file = it.next().asText();
        Path p = dir.resolve(file).normalize();
        if (!p.getParent().equals(dir.normalize()) || !Files.isRegularFile(p)) {
          throw new UnsupportedCheckpointException(INDEX + " names shard '" + file + "', which is not in the folder");
        }
        files.put(file, p);
      }
      return List.copyOf(files.values());
    }
    if (Files.isRegularFile(dir.resolve(SINGLE))) {
      return List.of(dir.resolve(SINGLE));
    }
    throw new UnsupportedCheckpointException("no " + SINGLE + " or " + INDEX + " (only safetensors weights are read;"
        + " convert pytorch_model.bin with transformers' save_pretrained(safe_serialization=True))");
  }

  public JsonNode config() {
    return config;
  }

  /** The decoder the config describes, checked against the weights present. */
  public DecoderSpec spec() {
    DecoderSpec s = HfConfig.spec(config);
    if (!s.tiedEmbeddings() && !contains("lm_head.weight")) {
      throw new UnsupportedCheckpointException("tie_word_embeddings is false but there is no lm_head.weight");
    }
    return s;
  }

  @Override
  public boolean contains(String name) {
    return byTensor.containsKey(name);
  }

  @Override
  public FloatBuffer get(String name, long elements) {
    Safetensors s = byTensor.get(name);
    if (s == null) {
      throw new UnsupportedCheckpointException("the checkpoint has no tensor " + name + " (config.json implies it)");
    }
    Safetensors.Entry e = s.entries().get(name);
    if (e.elements() != elements) {
      throw new UnsupportedCheckpointException("tensor " + name + " has shape " + java.util.Arrays.toString(e.shape())
          + "; config.json implies " + elements + " elements");
    }
    read.add(name);
    try {
      return s.read(name).asReadOnlyBuffer();
    } catch (IOException x) {
      throw new UncheckedIOException(x);
    }
  }

  /** Checkpoint tensors no {@link #get} asked for, except RoPE tables and a tied lm_head copy. */
  public List<String> unread(boolean tied) {
    List<String> out = new ArrayList<>();
    for (String name : byTensor.keySet()) {
      if (!read.contains(name) && !name.endsWith(ROTARY_TABLE) && !(tied && name.equals("lm_head.weight"))) {
        out.add(name);
      }
    }
    return out;
  }

}
