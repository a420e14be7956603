package dev.pruneserve.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length N, N bytes of JSON
 * ({@code name → {dtype, shape, data_offsets: [begin, end]}}, offsets relative to the data that
 * follows the header), then the data. Tensors are memory-mapped one at a time on read, so files
 * over 2 GiB work (each tensor must stay under 2 GiB). F32, F16 and BF16 are read as FP32.
 * Immutable after {@link #open}; thread-safe.
 */
public final class Safetensors {
  /** A tensor's entry in the header. */
  public record Entry(String dtype, long[] shape, long begin, long end) {
    public long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private static final long MAX_HEADER = 100L << 20;
  private final Path file;
  private final long dataStart;
  private final Map<String, Entry> entries;

  private Safetensors(Path file, long dataStart, Map<String, Entry> entries) {
    this.file = file;
    this.dataStart = dataStart;
    this.entries = entries;
  }

  /** @throws IOException naming the file and what is wrong with its header */
  public static Safetensors open(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      while (len.hasRemaining() && ch.read(len) >= 0) {
        // fill
      }
      long n = len.flip().remaining() == 8 ? len.getLong() : -1;
      if (n <= 0 || n > MAX_HEADER || 8 + n > ch.size()) {
        throw new UnsupportedCheckpointException(
            file.getFileName() + ": not a safetensors file (header length " + n + ")");
      }
      ByteBuffer header = ByteBuffer.allocate((int) n);
      ch.read(header, 8);
      JsonNode json = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
      long dataBytes = ch.size() - 8 - n;
      Map<String, Entry> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : json.properties()) {
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        Entry entry = entry(e.getValue());
        if (width(entry.dtype()) < 0) {
          throw new UnsupportedCheckpointException(file.getFileName() + ": tensor " + e.getKey() + " has dtype '"
              + entry.dtype() + "', which safetensors does not define");
        }
        if (entry.begin() < 0 || entry.end() > dataBytes || entry.end() - entry.begin() != entry.elements()
            * width(entry.dtype())) {
          throw new UnsupportedCheckpointException(
              file.getFileName() + ": tensor " + e.getKey() + " has offsets [" + entry.begin()
                  + ", " + entry.end() + ") that do not fit its " + entry.dtype() + " shape or the file");
        }
        out.put(e.getKey(), entry);
      }
      return new Safetensors(file, 8 + n, Map.copyOf(out));
    }
  }

  private static Entry entry(JsonNode t) throws IOException {
    JsonNode shape = t.path("shape");
    JsonNode off = t.path("data_offsets");
    if (!t.path("dtype").isTextual() || !shape.isArray() || off.size() != 2) {
      throw new UnsupportedCheckpointException("malformed safetensors header entry " + t);
    }
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).asLong();
    }
    return new Entry(t.get("dtype").asText(), dims, off.get(0).asLong(), off.get(1).asLong());
  }

  /** Bytes per element of every safetensors dtype; −1 for a name the format does not define. */
  static int width(String dtype) {
    return switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2" -> 1;
      default -> -1;
    };
  }

  public Map<String, Entry> entries() {
    return entries;
  }

  public Path file() {
    return file;
  }

  /** The tensor as FP32 (a fresh heap buffer; F16/BF16 widened exactly). */
  public FloatBuffer read(String name) throws IOException {
    Entry e = entries.get(name);
    if (e == null) {
      throw new IOException(file.getFileName() + ": no tensor " + name);
    }
    if (!e.dtype().equals("F32") && !e.dtype().equals("F16") && !e.dtype().equals("BF16")) {
      throw new UnsupportedCheckpointException("tensor " + name + " is " + e.dtype()
          + "; only F32, F16 and BF16 weights are converted (quantised checkpoints are not)");
    }
    long bytes = e.end() - e.begin();
    if (bytes > Integer.MAX_VALUE - 16) {
      throw new UnsupportedCheckpointException(file.getFileName() + ": tensor " + name + " is over 2 GiB");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer raw = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), bytes)
          .order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[(int) e.elements()];
      switch (e.dtype()) {
        case "F32" -> raw.asFloatBuffer().get(out);
        case "BF16" -> {
          for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat((raw.getShort(2 * i) & 0xffff) << 16);
          }
        }
        default -> {
          for (int i = 0; i < out.length; i++) {
            out[i] = dev.pruneserve.graph.FloatTensors.halfToFloat(raw.getShort(2 * i));
          }
        }
      }
      return FloatBuffer.wrap(out);
    }
  }
}
