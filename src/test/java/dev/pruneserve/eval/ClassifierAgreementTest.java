package dev.pruneserve.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classifier harness on a generated 6→32→4 ReLU MLP: with the dense model's own predictions as
 * labels, dense scores accuracy 1 and agreement 1; a copy with half its hidden channels pruned
 * agrees on fewer inputs, and its accuracy against those labels equals its agreement.
 */
class ClassifierAgreementTest {
  @TempDir Path dir;

  @Test
  void denseAgreesWithItselfAndAPrunedCopyLess() throws Exception {
    ModelProto dense = dev.pruneserve.graph.ModelBuilder.mlp("mlp", 3, 6, 32, 4);
    ModelProto pruned = PruneMethods.apply(dense, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1)).model();
    String logits = dense.getGraph().getOutput(0).getName();
    SplittableRandom rng = new SplittableRandom(9);
    List<Map<String, Tensor>> batches = new ArrayList<>();
    for (int b = 0; b < 8; b++) {
      float[] x = new float[16 * 6];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) rng.nextGaussian();
      }
      batches.add(Map.of("x", Tensor.fp32("x", new long[] {16, 6}, x)));
    }
    try (ModelSession d = Stories15mModels.load(dir, dense, "dense");
        ModelSession p = Stories15mModels.load(dir, pruned, "pruned")) {
      int[] labels = new int[128];
      int k = 0;
      for (Map<String, Tensor> batch : batches) {
        Tensor out = d.run(batch, Set.of(logits)).get(logits);
        float[] v = out.toFloatArray();
        int classes = (int) out.shape()[1];
        for (int i = 0; i < v.length / classes; i++) {
          int best = 0;
          for (int c = 1; c < classes; c++) {
            best = v[i * classes + c] > v[i * classes + best] ? c : best;
          }
          labels[k++] = best;
        }
      }
      ClassifierAgreement.Result self = ClassifierAgreement.evaluate(d, d, batches, logits, labels);
      assertEquals(1.0, self.accuracy());
      assertEquals(1.0, self.agreement());
      assertEquals(128, self.examples());
      ClassifierAgreement.Result r = ClassifierAgreement.evaluate(p, d, batches, logits, labels);
      assertTrue(r.agreement() < 1.0, r.toString());
      assertEquals(r.agreement(), r.accuracy());
    }
  }
}
