package dev.pruneserve.testing;

import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.llm.Llama2cCheckpoint;
import dev.pruneserve.llm.LlamaOnnxExporter;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The dense stories15M ONNX model, exported once per test JVM, and a way to load any variant. */
public final class Stories15mModels {
  private static ModelProto dense;

  private Stories15mModels() {}

  public static synchronized ModelProto dense() {
    if (dense == null) {
      try {
        dense = LlamaOnnxExporter.export(Llama2cCheckpoint.read(Stories15m.modelFile(Fixtures.stories15m())),
            "stories15M");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return dense;
  }

  /** A CPU session (1 intra-op thread) over {@code model}, written into {@code dir}. */
  public static ModelSession load(Path dir, ModelProto model, String name) throws IOException {
    Path f = Files.createTempFile(dir, name, ".onnx");
    Files.write(f, model.toByteArray());
    return OrtRuntime.cpu(1).load(name + "/1", f);
  }
}
