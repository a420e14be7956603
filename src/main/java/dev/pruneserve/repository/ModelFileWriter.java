package dev.pruneserve.repository;

import dev.pruneserve.graph.ExternalData;
import dev.pruneserve.graph.ModelFiles;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes models to files atomically ({@link AtomicFiles}), streamed: a model whose tensors exceed
 * {@link #INLINE_LIMIT} — or any model when asked — gets its large tensors in an ONNX external
 * data file beside it ({@code model.onnx} → {@code model.onnx.data}, written first), since one
 * protobuf message cannot exceed 2 GiB. Stateless.
 */
public final class ModelFileWriter {
  /** Most tensor bytes a model is written inline with (protobuf's 2 GiB message limit, with room for the graph). */
  public static final long INLINE_LIMIT = 1L << 30;

  private ModelFileWriter() {}

  /** Writes {@code m} to {@code file}, with external data when {@code external} or when it is large. */
  public static void write(ModelProto m, Path file, boolean external) throws IOException {
    if (!external && tensorBytes(m) <= INLINE_LIMIT) {
      AtomicFiles.write(file, m::writeTo);
      return;
    }
    String dataName = file.getFileName() + ModelFiles.DATA_SUFFIX;
    ExternalData.Layout layout = ExternalData.layout(m, dataName);
    if (!layout.chunks().isEmpty()) {
      AtomicFiles.write(file.resolveSibling(dataName), out -> ExternalData.writeData(layout, out));
    }
    AtomicFiles.write(file, layout.model()::writeTo);
  }

  /** Deletes {@code file} and its data file, if any. */
  public static void delete(Path file) throws IOException {
    Files.deleteIfExists(file);
    Files.deleteIfExists(file.resolveSibling(file.getFileName() + ModelFiles.DATA_SUFFIX));
  }

  /** Bytes of the initializers' raw data. */
  public static long tensorBytes(ModelProto m) {
    return m.getGraph().getInitializerList().stream().mapToLong(t -> t.getRawData().size()).sum();
  }
}
