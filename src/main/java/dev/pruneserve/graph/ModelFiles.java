package dev.pruneserve.graph;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reading and writing model files for pruning: a model stored with external data is read whole
 * into memory ({@link ExternalData#inline}) and written back in the same form, with its own data
 * file ({@link #DATA_SUFFIX}) beside it. Stateless.
 */
public final class ModelFiles {
  /** The data file of a model written with external data: {@code model.onnx} → {@code model.onnx.data}. */
  public static final String DATA_SUFFIX = ".data";

  private ModelFiles() {}

  /** A model read for pruning, every tensor in memory; {@code externalData}: the file kept them outside. */
  public record Loaded(ModelProto model, boolean externalData) {}

  /**
   * Reads {@code file} and the external data it names (files in its folder), with its weights in
   * the one form discovery reads: Constant-node weights lifted ({@link ConstantWeights}), weights
   * behind Transpose folded ({@link TransposedWeights}). The function is unchanged.
   */
  public static Loaded read(Path file) throws IOException {
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(file));
    boolean external = ExternalData.uses(m);
    ModelProto inline = external ? ExternalData.inline(m, file.toAbsolutePath().getParent()) : m;
    return new Loaded(TransposedWeights.fold(ConstantWeights.lift(inline)), external);
  }
}
