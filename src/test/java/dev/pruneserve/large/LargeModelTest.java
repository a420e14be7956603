package dev.pruneserve.large;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.checkpoint.HfImport;
import dev.pruneserve.graph.ExternalData;
import dev.pruneserve.graph.ModelFiles;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.repository.ModelFileWriter;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model over 2 GiB end to end (profile {@code -Plarge-models}: tag "large", 16 GB heap): a seeded
 * random Llama-shaped checkpoint of 2.3 GB FP32 is converted with ONNX external data, served by
 * ONNX Runtime, read back for pruning, pruned by magnitude (validated in ONNX Runtime, which loads
 * it with external data) and written as a variant with its own data file that serves.
 */
@Tag("large")
class LargeModelTest {
  @TempDir Path dir;

  @Test
  void aCheckpointOverTwoGibIsServedAndPruned() throws Exception {
    Path folder = dev.pruneserve.testing.RandomLlama.write(dir.resolve("llama-2g"), 10, true); // 2.3 GB
    Path onnx = new HfImport(dir.resolve("cache")).modelFile(folder);
    Path data = onnx.resolveSibling("model.onnx" + ModelFiles.DATA_SUFFIX);
    assertTrue(Files.size(data) > (2L << 30) && Files.size(onnx) < (16L << 20), "external data: " + Files.size(data));
    serves(onnx);
    ModelFiles.Loaded dense = ModelFiles.read(onnx);
    assertTrue(dense.externalData());
    Pruner.Result p = PruneMethods.apply(dense.model(), PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(2));
    assertTrue(p.parametersAfter() < 0.75 * p.parametersBefore());
    Path variant = Files.createDirectories(dir.resolve("variant/1")).resolve("model.onnx");
    ModelFileWriter.write(p.model(), variant, true);
    assertTrue(ExternalData.uses(ModelProto.parseFrom(Files.readAllBytes(variant))));
    serves(variant);
  }

  private static void serves(Path model) throws Exception {
    try (ModelSession s = OrtRuntime.cpu(2).load("large/1", model); KvDecoder d = new KvDecoder(s)) {
      for (float v : d.step(new int[] {1, 450, 4996})) {
        assertTrue(Float.isFinite(v));
      }
    }
  }

}
