package dev.pruneserve.testing;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Generated models of the test repository (see {@link TestRepositoryResource}). */
public final class TestModels {
  /** ONNX type codes served by the all-types identity model, keyed by v2 datatype. */
  public static final List<String> IDENTITY_TYPES = List.of("BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16",
      "FP32", "FP64", "BF16", "BYTES");

  private TestModels() {}

  /** mlp: x[batch,16] -> y[batch,4], ReLU MLP 16-32-4, seed 7. */
  public static ModelProto mlp() {
    return ModelBuilder.mlp("mlp", 7, 16, 32, 4);
  }

  /** identity: for every type T in {@link #IDENTITY_TYPES}, in_T[-1..] -> out_T (same values). */
  public static ModelProto identityAllTypes() {
    ModelBuilder b = new ModelBuilder("identity");
    for (String t : IDENTITY_TYPES) {
      int code = dev.pruneserve.tensor.DataType.fromWireName(t).orElseThrow().onnxCode();
      b.input("in_" + t, code, "n", "m").output("out_" + t, code, "n", "m");
      b.node("Identity", new String[] {"in_" + t}, new String[] {"out_" + t});
    }
    return b.build();
  }

  /** A model with a UINT16 input, which ORT's Java API cannot feed. */
  public static ModelProto identityUint16() {
    return new ModelBuilder("u16").input("x", 4, 2).output("y", 4, 2)
        .node("Identity", new String[] {"x"}, new String[] {"y"}).build();
  }

  /** Writes {@code model} as {@code <root>/<name>/<version>/model.onnx}. */
  public static void write(Path root, String name, int version, ModelProto model) throws IOException {
    AtomicFiles.write(
        root.resolve(name).resolve(Integer.toString(version)).resolve("model.onnx"), model.toByteArray());
  }

  /**
   * {@code model} as {@code name/version/model.onnx} with every tensor of at least 1 KiB in the data
   * file {@code dataName} beside it (ONNX external data, as torch.onnx and Optimum write it).
   */
  public static void writeExternal(Path root, String name, int version, ModelProto model, String dataName)
      throws IOException {
    Path dir = root.resolve(name).resolve(Integer.toString(version));
    dev.pruneserve.graph.ExternalData.Layout l = dev.pruneserve.graph.ExternalData.layout(model, dataName);
    AtomicFiles.write(dir.resolve(dataName), out -> dev.pruneserve.graph.ExternalData.writeData(l, out));
    AtomicFiles.write(dir.resolve("model.onnx"), l.model().toByteArray());
  }

  public static void writeText(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }
}
