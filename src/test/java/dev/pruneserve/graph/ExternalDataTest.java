package dev.pruneserve.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.StringStringEntryProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * External data: split then read back gives the same model message; the large tensors leave the
 * model file; locations outside the model's folder and extents that do not hold the tensor are
 * refused naming the tensor.
 */
class ExternalDataTest {
  @TempDir Path dir;

  @Test
  void splitThenReadIsTheSameModel() throws Exception {
    ModelProto m = ModelBuilder.mlp("m", 7, 16, 64, 64, 4);
    ModelProto stored = write(m, "model.onnx" + ModelFiles.DATA_SUFFIX);
    Files.write(dir.resolve("model.onnx"), stored.toByteArray());
    assertTrue(ExternalData.uses(stored));
    long external = stored.getGraph().getInitializerList().stream().filter(t -> !t.hasRawData()).count();
    long large = m.getGraph().getInitializerList().stream().filter(t -> t.getRawData().size() >= 1024).count();
    assertEquals(large, external);
    assertTrue(external > 0);
    ModelFiles.Loaded back = ModelFiles.read(dir.resolve("model.onnx"));
    assertTrue(back.externalData());
    assertEquals(m, back.model());
    assertFalse(ModelFiles.read(write("inline.onnx", m)).externalData());
  }

  @Test
  void locationsAndExtentsAreChecked() throws Exception {
    ModelProto m = ModelBuilder.mlp("m", 7, 16, 64, 64, 4);
    ModelProto stored = write(m, "w.bin");
    String big = stored.getGraph().getInitializerList().stream().filter(ExternalDataTest::external).findFirst()
        .orElseThrow().getName();
    var escape = assertThrows(IllegalArgumentException.class, () -> ExternalData.inline(relocate(stored, "../w.bin"),
        dir));
    assertTrue(escape.getMessage().contains("not a file in the model's folder"), escape.getMessage());
    Files.write(dir.resolve("short.bin"), new byte[100]);
    var extent = assertThrows(IllegalArgumentException.class, () -> ExternalData.inline(relocate(stored, "short.bin"),
        dir));
    assertTrue(extent.getMessage().contains("'" + big + "'"), extent.getMessage());
  }

  private static boolean external(TensorProto t) {
    return t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
  }

  private static ModelProto relocate(ModelProto m, String location) {
    var g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (external(t)) {
        var b = t.toBuilder().clearExternalData();
        t.getExternalDataList().forEach(e -> b.addExternalData(e.getKey().equals("location")
            ? StringStringEntryProto.newBuilder().setKey("location").setValue(location).build() : e));
        g.setInitializer(i, b);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

  /** Writes {@code m}'s large tensors to {@code dataName} in the test folder; returns the model referencing it. */
  private ModelProto write(ModelProto m, String dataName) throws Exception {
    ExternalData.Layout l = ExternalData.layout(m, dataName);
    try (var out = Files.newOutputStream(dir.resolve(dataName))) {
      ExternalData.writeData(l, out);
    }
    return l.model();
  }

  private Path write(String name, ModelProto m) throws Exception {
    return Files.write(dir.resolve(name), m.toByteArray());
  }
}
