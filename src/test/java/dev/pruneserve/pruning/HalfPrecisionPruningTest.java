package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.GeneratedDecoder;
import dev.pruneserve.testing.HalfModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FP16 models (onnxconverter-common's form, {@link HalfModels}) pruned in their own type. The
 * reference: the same model in FP32 with FP16-representable weights ({@link HalfModels#rounded})
 * has the same scores, so a weight-only method must cut exactly the same groups — the FP16
 * result's initializers equal, bit for bit, the FP32 result's converted to FP16. Calibration
 * methods (statistics in FP32 from FP16 activations) give validated FP16 models with the widths
 * their counts promise, FLAP's compensation bias in FP16.
 */
class HalfPrecisionPruningTest {
  @TempDir static Path dir;
  private static ModelProto decoder32;
  private static ModelProto cnn32;

  @BeforeAll
  static void build() throws Exception {
    decoder32 = HalfModels.rounded(GeneratedDecoder.model(dir));
    cnn32 = HalfModels.rounded(dev.pruneserve.train.ResNet.build("c", 3, 1, 28, 10, 1, 16, 32, 32));
  }

  @Test
  void weightOnlyPruningOfAnFp16DecoderCutsWhatFp32Cuts() throws Exception {
    for (String method : List.of("magnitude-l2", "magnitude-sp", "random")) {
      PruneRecipe r = PruneRecipe.of(method, 0.5);
      Pruner.Result half = PruneMethods.apply(HalfModels.halve(decoder32), r, null, OrtRuntime.cpu(1));
      Pruner.Result full = PruneMethods.apply(decoder32, r, null, OrtRuntime.cpu(1));
      assertEquals(full.headsPerLayer(), half.headsPerLayer(), method);
      assertEquals(full.channelsPerLayer(), half.channelsPerLayer(), method);
      assertEquals(initializers(HalfModels.halve(full.model())), initializers(half.model()), method);
      assertEquals(full.parametersAfter(), half.parametersAfter());
      assertTrue(half.parametersAfter() < half.parametersBefore());
    }
    // weights behind Transpose (do_constant_folding=False) in FP16 are folded in FP16, pruned the same
    PruneRecipe r = PruneRecipe.of("magnitude-l2", 0.5);
    Pruner.Result plain = PruneMethods.apply(HalfModels.halve(decoder32), r, null, OrtRuntime.cpu(1));
    Pruner.Result transposed = PruneMethods.apply(dev.pruneserve.graph.TransposedWeights.fold(HalfModels.halve(
        dev.pruneserve.testing.ExportForms.transposedWeights(decoder32))), r, null, OrtRuntime.cpu(1));
    assertEquals(plain.headsPerLayer(), transposed.headsPerLayer());
    assertEquals(plain.channelsPerLayer(), transposed.channelsPerLayer());
    assertEquals(plain.parametersAfter(), transposed.parametersAfter());
  }

  @Test
  void weightOnlyPruningOfAnFp16CnnCutsWhatFp32Cuts() throws Exception {
    PruneRecipe r = PruneRecipe.of("magnitude-l1", 0.3);
    Pruner.Result half = PruneMethods.apply(HalfModels.halve(cnn32), r, null, OrtRuntime.cpu(1));
    Pruner.Result full = PruneMethods.apply(cnn32, r, null, OrtRuntime.cpu(1));
    assertEquals(full.channelsPerLayer(), half.channelsPerLayer());
    assertEquals(initializers(HalfModels.halve(full.model())), initializers(half.model()));
  }

  @Test
  void calibrationMethodsPruneAnFp16DecoderInFp16() throws Exception {
    List<int[]> calib = GeneratedDecoder.sequences(6, 3);
    ModelProto half = HalfModels.halve(decoder32);
    Pruner.Result wanda = PruneMethods.apply(half, PruneRecipe.of("wanda-sp", 0.5), calib, OrtRuntime.cpu(1));
    assertEquals(List.of(2, 2, 2), wanda.headsPerLayer());
    assertEquals(List.of(44, 44, 44), wanda.channelsPerLayer());
    Pruner.Result flap = PruneMethods.apply(half, PruneRecipe.of("flap", 0.3), calib, OrtRuntime.cpu(1));
    assertTrue(flap.parametersAfter() < flap.parametersBefore());
    for (Pruner.Result r : List.of(wanda, flap)) {
      for (TensorProto t : r.model().getGraph().getInitializerList()) {
        assertTrue(t.getDataType() != 1, "no FP32 tensor in an FP16 result: " + t.getName());
      }
    }
    assertTrue(flap.model().getGraph().getInitializerList().stream().anyMatch(t -> t.getName().endsWith(".bias")
        && t.getDataType() == 10), "FLAP's compensation bias in FP16");
  }

  @Test
  void methodsThatNeedFp32WeightsRefuseNamingTheType() {
    List<int[]> calib = GeneratedDecoder.sequences(4, 3);
    for (String m : List.of("mini-llm", "taylor", "forward-search")) {
      var e = org.junit.jupiter.api.Assertions.assertThrows(dev.pruneserve.error.ServingException.class,
          () -> PruneMethods.apply(HalfModels.halve(decoder32), PruneRecipe.of(m, 0.3), calib, OrtRuntime.cpu(1)));
      assertEquals(dev.pruneserve.error.ErrorKind.FAILED_PRECONDITION, e.kind());
      assertTrue(e.getMessage().contains("are FP16") && e.getMessage().contains("wanda-sp"), e.getMessage());
    }
  }

  private static Map<String, TensorProto> initializers(ModelProto m) {
    return m.getGraph().getInitializerList().stream().collect(Collectors.toMap(TensorProto::getName,
        Function.identity()));
  }
}
