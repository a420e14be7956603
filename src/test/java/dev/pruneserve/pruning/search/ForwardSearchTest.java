package dev.pruneserve.pruning.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.CausalLmLoss;
import dev.pruneserve.pruning.search.ForwardSearch.Budget;
import dev.pruneserve.pruning.search.ForwardSearch.Channels;
import dev.pruneserve.pruning.search.ForwardSearch.Options;
import dev.pruneserve.pruning.zo.LossProbe;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forward search on a generated decoder: LLM-Pruner's per-layer counts, the forward count of
 * the greedy head ablation, the physically pruned model computing the logits of the gated model it
 * was chosen on (with and without compensation, per-layer and global budgets).
 */
class ForwardSearchTest {
  @TempDir Path dir;

  @Test
  void prunedModelComputesTheChosenGatedModel() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(6, 4);
    for (boolean comp : new boolean[] {true, false}) {
      Options o = new Options(0.5, Channels.FLAP, Budget.PER_LAYER, comp, 4, 2);
      ForwardSearch.Outcome out = ForwardSearch.prune(dense, o, calib, OrtRuntime.cpu(1), dir, Progress.NONE);
      assertEquals(List.of(2, 2, 2), out.result().headsPerLayer());
      assertEquals(List.of(44, 44, 44), out.result().channelsPerLayer());
      assertEquals(3 * (4 + 3), out.forwards(), "4 then 3 candidate heads per layer");
      double pruned = CausalLmLoss.meanCrossEntropy(out.result().model(), calib.subList(0, 4), OrtRuntime.cpu(1),
          dir.resolve("pruned.onnx"));
      assertEquals(out.searchLoss(), pruned, 1e-4, "compensation " + comp);
      assertLogitsMatch(dense, o, out, GeneratedDecoder.sequences(5, 9));
    }
  }

  @Test
  void globalBudgetRemovesTheSameTotalAnywhere() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(6, 5);
    Options o = new Options(0.5, Channels.FLAP, Budget.GLOBAL, true, 4, 2);
    ForwardSearch.Outcome out = ForwardSearch.prune(dense, o, calib, OrtRuntime.cpu(1), dir, Progress.NONE);
    assertEquals(6, out.result().headsPerLayer().stream().mapToInt(Integer::intValue).sum(), "12 heads, 6 removed");
    assertTrue(out.result().headsPerLayer().stream().allMatch(h -> h >= 1));
    // each step tries every remaining head of the layers that keep two or more: at most 12 + 11 + … + 7
    assertTrue(out.forwards() <= 57 && out.forwards() > 6, "forwards " + out.forwards());
    assertLogitsMatch(dense, o, out, GeneratedDecoder.sequences(5, 10));
  }

  /** Logits of the pruned model = logits of the gated copy fed the outcome's gates, within 1e-4, on unseen sequences. */
  private void assertLogitsMatch(ModelProto dense, Options o, ForwardSearch.Outcome out, List<int[]> sequences)
      throws Exception {
    OrtRuntime rt = OrtRuntime.cpu(1);
    Path gatedFile = Files.write(dir.resolve("gated.onnx"), ForwardSearch.gatedCopy(dense, o.compensation())
        .toByteArray());
    Path prunedFile = Files.write(dir.resolve("pruned-logits.onnx"), out.result().model().toByteArray());
    double worst = 0;
    try (ModelSession gated = rt.load("gated/1", gatedFile); ModelSession pruned = rt.load("pruned/1", prunedFile)) {
      List<Map<String, Tensor>> g = LossProbe.batches(gated, sequences, 2, false);
      List<Map<String, Tensor>> p = LossProbe.batches(pruned, sequences, 2, false);
      for (int b = 0; b < g.size(); b++) {
        Map<String, Tensor> in = new LinkedHashMap<>(g.get(b));
        in.putAll(out.gateFeeds());
        float[] want = gated.run(in, Set.of("logits")).get("logits").toFloatArray();
        float[] got = pruned.run(p.get(b), Set.of("logits")).get("logits").toFloatArray();
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
          worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
      }
    }
    assertTrue(worst <= 1e-4, "largest logit difference " + worst);
  }
}
