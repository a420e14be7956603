package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.TransposedWeights;
import dev.pruneserve.llm.KvDecoder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.ExportForms;
import dev.pruneserve.testing.GeneratedDecoder;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoder export forms of third-party exporters ({@link ExportForms}), built from the generated
 * decoder, are discovered and pruned exactly like the plain form: transformers' eager attention
 * casts, head splits with an inferred head count, weights behind Transpose. A weight computed in
 * the graph is not matched, and pruning is refused naming the Softmax and the projection instead
 * of pruning MLPs only while the recipe says heads.
 */
class ExportFormsTest {
  private static final int[] IDS = {1, 5, 9, 33, 60, 2, 17};
  @TempDir Path dir;

  @Test
  void castsAroundSoftmaxAreLookedThrough() throws Exception {
    samePruning(ExportForms.castsAroundSoftmax(GeneratedDecoder.model(dir)));
  }

  @Test
  void inferredHeadCountsPruneLikeConstantOnes() throws Exception {
    samePruning(ExportForms.inferredHeadCounts(GeneratedDecoder.model(dir)));
  }

  @Test
  void weightsBehindTransposeAreFoldedAndPrunedLikeStoredOnes() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    ModelProto unfolded = ExportForms.transposedWeights(plain);
    assertTrue(HeadDiscovery.attentionBlocks(new OnnxGraph(unfolded)).isEmpty(), "the test form hides the weights");
    ModelProto folded = TransposedWeights.fold(unfolded);
    assertArrayEquals(logits(unfolded), logits(folded), "folding computes the same");
    samePruning(folded);
    assertEquals(plain, TransposedWeights.fold(plain), "nothing to fold: the same model");
  }

  /** transformers' RMSNorm (float32 Casts, Pow, Reciprocal): rank inference goes through it, so Taylor runs. */
  @Test
  void taylorRunsThroughTransformersRmsNorm() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    ModelProto hf = ExportForms.hfRmsNorm(plain);
    assertTrue(hf.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Reciprocal")));
    assertArrayEquals(logits(plain), logits(hf), 1e-5f, "the rewrite computes the same");
    List<int[]> calib = GeneratedDecoder.sequences(4, 3);
    Pruner.Result a = PruneMethods.apply(plain, PruneRecipe.of("taylor", 0.3), calib, OrtRuntime.cpu(1));
    Pruner.Result b = PruneMethods.apply(hf, PruneRecipe.of("taylor", 0.3), calib, OrtRuntime.cpu(1));
    assertEquals(a.headsPerLayer(), b.headsPerLayer());
    assertEquals(a.channelsPerLayer(), b.channelsPerLayer());
  }

  /** Same blocks, same pruned weights and the same pruned logits as the plain export. */
  private void samePruning(ModelProto form) throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    HeadDiscovery.Scan scan = HeadDiscovery.scan(new OnnxGraph(form));
    assertEquals(List.of(), scan.unmatched());
    assertEquals(GeneratedDecoder.LAYERS, scan.blocks().size());
    Pruner.Result a = PruneMethods.apply(plain, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1));
    Pruner.Result b = PruneMethods.apply(form, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1));
    assertEquals(a.headsPerLayer(), b.headsPerLayer());
    assertTrue(a.headsPerLayer().stream().allMatch(h -> h < GeneratedDecoder.HEADS), a.headsPerLayer().toString());
    assertEquals(a.parametersAfter(), b.parametersAfter());
    float[] x = logits(a.model());
    float[] y = logits(b.model());
    assertArrayEquals(x, y, 1e-5f);
  }

  @Test
  void aWeightComputedInTheGraphIsNamedAndPruningIsRefused() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    String q = HeadDiscovery.attentionBlocks(new OnnxGraph(plain)).get(1).qWeight();
    ModelProto computed = ExportForms.computedWeight(plain, q);
    HeadDiscovery.Scan scan = HeadDiscovery.scan(new OnnxGraph(computed));
    assertEquals(1, scan.unmatched().size(), scan.unmatched().toString());
    ServingException e = assertThrows(ServingException.class,
        () -> PruneMethods.apply(computed, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1)));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("Softmax node") && e.getMessage().contains("computed in the graph"),
        e.getMessage());
  }

  private float[] logits(ModelProto m) throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, m, "form"); KvDecoder d = new KvDecoder(s)) {
      return d.step(IDS);
    }
  }
}
