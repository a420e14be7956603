package dev.pruneserve.graph;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.StringStringEntryProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX external data (initializers whose bytes live in a file beside the model: {@code
 * data_location = EXTERNAL}, {@code external_data} keys {@code location}, {@code offset}, {@code
 * length}), as torch.onnx and Optimum write it. {@link #inline} reads them into {@code raw_data}
 * so the pruning code sees one in-memory model; {@link #layout} and {@link #writeData} write them
 * out again (streamed: models over 2 GiB, each tensor under 2 GiB). Locations must name a file
 * inside the model's folder. Stateless.
 */
public final class ExternalData {
  /** Tensors at least this large go to the data file (the ONNX tools' default size threshold). */
  public static final int MIN_BYTES = 1024;

  private ExternalData() {}

  /** Whether any initializer of {@code m} is stored externally. */
  public static boolean uses(ModelProto m) {
    return m.getGraph().getInitializerList().stream().anyMatch(ExternalData::external);
  }

  /**
   * {@code m} with every external initializer read from {@code dir} into {@code raw_data}.
   *
   * @throws IllegalArgumentException naming the tensor: a location outside {@code dir}, a missing
   *     file, or an offset/length outside it or not matching the tensor's shape
   */
  public static ModelProto inline(ModelProto m, Path dir) throws IOException {
    if (!uses(m)) {
      return m;
    }
    GraphProto.Builder g = m.getGraph().toBuilder();
    Path root = dir.toRealPath();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (!external(t)) {
        continue;
      }
      ByteString bytes = read(t, root); // each tensor under 2 GiB; the model as a whole may be larger
      g.setInitializer(i, t.toBuilder().clearExternalData().clearDataLocation().setRawData(bytes));
    }
    return m.toBuilder().setGraph(g).build();
  }

  private static ByteString read(TensorProto t, Path root) throws IOException {
    String location = value(t, "location");
    if (location == null || location.isEmpty()) {
      throw new IllegalArgumentException("initializer '" + t.getName() + "' is external but names no location");
    }
    Path file = root.resolve(location).normalize();
    if (Path.of(location).isAbsolute() || !file.startsWith(root) || !Files.isRegularFile(file)
        || !file.toRealPath().startsWith(root)) {
      throw new IllegalArgumentException("initializer '" + t.getName() + "': external data file '" + location
          + "' is not a file in the model's folder");
    }
    long offset = number(t, "offset", 0);
    try (FileChannel ch = FileChannel.open(file)) {
      long length = number(t, "length", ch.size() - offset);
      long expected = elementBytes(t.getDataType()) < 0 ? -1
          : ShapeMath.product(t.getDimsList().stream().mapToLong(Long::longValue).toArray(), 0, t.getDimsCount())
              * elementBytes(t.getDataType());
      if (offset < 0 || length < 0 || offset + length > ch.size() || (expected >= 0 && length != expected)
          || length >= Integer.MAX_VALUE) {
        throw new IllegalArgumentException("initializer '" + t.getName() + "': external data [" + offset + ", "
            + (offset + length) + ") of '" + location + "' (" + ch.size() + " bytes) does not hold its "
            + (expected >= 0 ? expected + " bytes" : "data"));
      }
      ByteBuffer b = ByteBuffer.allocate((int) length);
      while (b.hasRemaining() && ch.read(b, offset + b.position()) >= 0) {
        // read until full
      }
      return UnsafeByteOperations.unsafeWrap(b.array());
    }
  }

  /**
   * Where each large tensor goes: {@code model} references {@code dataName} for every initializer
   * of at least {@link #MIN_BYTES} raw bytes, whose bytes are {@code chunks} in file order, each at
   * a 64-byte aligned offset. The chunks are the original tensors' bytes, not copies.
   */
  public record Layout(ModelProto model, List<ByteString> chunks, long dataBytes) {}

  /** The external-data layout of {@code m} for a data file named {@code dataName}. */
  public static Layout layout(ModelProto m, String dataName) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    List<ByteString> chunks = new ArrayList<>();
    long size = 0;
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (!t.hasRawData() || t.getRawData().size() < MIN_BYTES) {
        continue;
      }
      size = aligned(size);
      chunks.add(t.getRawData());
      g.setInitializer(i, t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .addExternalData(entry("location", dataName)).addExternalData(entry("offset", Long.toString(size)))
          .addExternalData(entry("length", Integer.toString(t.getRawData().size()))));
      size += t.getRawData().size();
    }
    return new Layout(chunks.isEmpty() ? m : m.toBuilder().setGraph(g).build(), chunks, size);
  }

  /** Writes {@code layout}'s data file content: each chunk at its aligned offset, zero padding between. */
  public static void writeData(Layout layout, OutputStream out) throws IOException {
    long at = 0;
    for (ByteString c : layout.chunks()) {
      for (long pad = aligned(at) - at; pad > 0; pad--) {
        out.write(0);
      }
      at = aligned(at);
      c.writeTo(out);
      at += c.size();
    }
  }

  private static long aligned(long offset) {
    return (offset + 63) / 64 * 64;
  }

  private static boolean external(TensorProto t) {
    return t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
  }

  private static String value(TensorProto t, String key) {
    return t.getExternalDataList().stream().filter(e -> e.getKey().equals(key)).map(StringStringEntryProto::getValue)
        .findFirst().orElse(null);
  }

  private static long number(TensorProto t, String key, long fallback) {
    String v = value(t, key);
    try {
      return v == null ? fallback : Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("initializer '" + t.getName() + "': external data " + key + " '" + v
          + "' is not a number");
    }
  }

  private static StringStringEntryProto entry(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  /** Bytes per element of a fixed-size ONNX data type; −1 for strings and unknown types. */
  static int elementBytes(int dataType) {
    return switch (dataType) {
      case 1, 6, 12 -> 4; // float, int32, uint32
      case 7, 11, 13 -> 8; // int64, double, uint64
      case 10, 16, 5, 4 -> 2; // float16, bfloat16, int16, uint16
      case 2, 3, 9 -> 1; // uint8, int8, bool
      case 14 -> 8; // complex64
      case 15 -> 16; // complex128
      default -> -1;
    };
  }
}
