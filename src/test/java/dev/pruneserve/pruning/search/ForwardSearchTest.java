package dev.pruneserve.pruning.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.CausalLmLoss;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forward search on a generated decoder: LLM-Pruner's per-layer counts, the forward count of
 * the greedy head ablation, and the physically pruned model computing what the gated model it was
 * chosen on computed (same calibration loss), with and without compensation.
 */
class ForwardSearchTest {
  @TempDir Path dir;

  @Test
  void prunedModelComputesTheChosenGatedModel() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(6, 4);
    for (boolean comp : new boolean[] {true, false}) {
      ForwardSearch.Outcome o = ForwardSearch.prune(dense, new ForwardSearch.Options(0.5, ForwardSearch.Channels.FLAP,
          ForwardSearch.Budget.PER_LAYER, comp, 4, 2), calib,
          OrtRuntime.cpu(1), dir, Progress.NONE);
      assertEquals(List.of(2, 2, 2), o.result().headsPerLayer());
      assertEquals(List.of(44, 44, 44), o.result().channelsPerLayer());
      assertEquals(3 * (4 + 3), o.forwards(), "4 then 3 candidate heads per layer");
      double pruned = CausalLmLoss.meanCrossEntropy(o.result().model(), calib.subList(0, 4), OrtRuntime.cpu(1),
          dir.resolve("pruned.onnx"));
      assertEquals(o.searchLoss(), pruned, 1e-4, "compensation " + comp);
    }
  }

  @Test
  void globalBudgetRemovesTheSameTotalAnywhere() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(6, 5);
    ForwardSearch.Outcome o = ForwardSearch.prune(dense, new ForwardSearch.Options(0.5, ForwardSearch.Channels.FLAP,
        ForwardSearch.Budget.GLOBAL, true, 4, 2), calib, OrtRuntime.cpu(1), dir, Progress.NONE);
    assertEquals(6, o.result().headsPerLayer().stream().mapToInt(Integer::intValue).sum(), "12 heads, 6 removed");
    assertTrue(o.result().headsPerLayer().stream().allMatch(h -> h >= 1));
    // each step tries every remaining head of the layers that keep two or more: at most 12 + 11 + … + 7
    assertTrue(o.forwards() <= 57 && o.forwards() > 6, "forwards " + o.forwards());
    double pruned = CausalLmLoss.meanCrossEntropy(o.result().model(), calib.subList(0, 4), OrtRuntime.cpu(1),
        dir.resolve("global.onnx"));
    assertEquals(o.searchLoss(), pruned, 1e-4);
  }
}
