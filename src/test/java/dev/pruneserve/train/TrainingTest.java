package dev.pruneserve.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pruneserve.assets.FashionMnist;
import dev.pruneserve.eval.ClassifierAgreement;
import dev.pruneserve.grad.Directional;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on ONNX Runtime through generated backward graphs: the training graph's gradients
 * (batch-statistics BatchNormalization, masks, cross-entropy) against central differences, and a
 * short SGD run on real Fashion-MNIST images that must learn.
 */
class TrainingTest {
  @TempDir Path dir;

  /** A tiny ResNet on random 8×8 images: three stages, projection shortcuts, BN, residual Adds. */
  static ModelProto tiny(long seed) {
    return ResNet.build("tiny", seed, 2, 8, 3, 1, 4, 6, 8);
  }

  static ImageSet random(int n, long seed) {
    return dev.pruneserve.testing.TestCnns.randomImages(n, 2, 8, 3, seed);
  }

  @Test
  void trainingGraphGradientsMatchFiniteDifferences() throws Exception {
    ImageSet data = random(4, 5);
    int[] order = {0, 1, 2, 3};
    try (TrainingSession s = TrainingSession.open(tiny(3), 4, OrtRuntime.cpu(1), dir)) {
      Map<String, Tensor> batch = s.batchFeeds(data, order, 0);
      Map<String, float[]> g = s.paramGradients(batch, s.masks());
      for (String p : List.of("conv0.weight", "conv0.bn.weight", "conv2.bn.bias", "conv4.weight", "conv5.weight",
          "fc.weight", "fc.bias")) {
        // along the gradient (unit length), h = 1e-3: 5e-3 relative plus 1e-3 for float32 noise and the
        // ReLU kinks a step may cross (BN over 4 images moves every pre-activation)
        float[] v = unit(g.get(p));
        double numeric = (loss(s, batch, p, v, 1e-3) - loss(s, batch, p, v, -1e-3)) / 2e-3;
        Directional.assertDerivative(Directional.widen(g.get(p)), v, numeric, 5e-3, 1e-3, "d loss / d " + p);
      }
      Map<String, float[]> gm = s.maskGradients(batch, s.params());
      for (TrainingGraph.Mask m : s.graph().masks()) {
        float[] v = unit(gm.get(m.name()));
        float[] base = s.masks().get(m.name()).clone();
        double[] at = new double[2];
        for (int k = 0; k < 2; k++) {
          float[] moved = s.masks().get(m.name());
          for (int i = 0; i < moved.length; i++) {
            moved[i] = (float) (base[i] + (k == 0 ? 1e-3 : -1e-3) * v[i]);
          }
          at[k] = s.maskGradients(batch, s.params()).get(TrainingGraph.LOSS)[0];
        }
        System.arraycopy(base, 0, s.masks().get(m.name()), 0, base.length);
        Directional.assertDerivative(Directional.widen(gm.get(m.name())), v, (at[0] - at[1]) / 2e-3, 5e-3, 1e-3,
            "d loss / d " + m.name());
      }
    }
  }

  private static float[] unit(float[] g) {
    double n = 0;
    for (float x : g) {
      n += (double) x * x;
    }
    float[] v = new float[g.length];
    for (int i = 0; i < g.length; i++) {
      v[i] = (float) (g[i] / Math.sqrt(n));
    }
    return v;
  }

  private static double loss(TrainingSession s, Map<String, Tensor> batch, String p, float[] v, double h)
      throws Exception {
    Map<String, float[]> moved = new HashMap<>(s.params());
    float[] w = moved.get(p).clone();
    for (int i = 0; i < w.length; i++) {
      w[i] += (float) (h * v[i]);
    }
    moved.put(p, w);
    return s.maskGradients(batch, moved).get(TrainingGraph.LOSS)[0];
  }

  /**
   * BN recalibration from one batch: the running statistics become that batch's mean and unbiased
   * variance, so the exported model in inference mode gives the batch-statistics (training-mode)
   * loss on it — which the initial statistics (mean 0, variance 1) do not.
   */
  @Test
  void recalibrationMakesInferenceMatchTheBatchStatistics() throws Exception {
    ImageSet data = random(4, 11);
    int[] order = {0, 1, 2, 3};
    try (TrainingSession s = TrainingSession.open(tiny(5), 4, OrtRuntime.cpu(1), dir)) {
      double train = s.maskGradients(s.batchFeeds(data, order, 0), s.params()).get(TrainingGraph.LOSS)[0];
      double before = inferenceLoss(s.export(), data);
      assertTrue(s.recalibrate(data, 1, 3) > 0, "the tiny ResNet has BN layers");
      double after = inferenceLoss(s.export(), data);
      // equal up to the unbiased variance n/(n - 1) (n = 4 images × the positions of each BN)
      assertEquals(train, after, 1e-2 * Math.abs(train), "inference = batch statistics");
      assertTrue(Math.abs(before - train) > 5 * Math.abs(after - train), "before " + before + ", train " + train
          + ", after " + after);
    }
  }

  /** Mean cross-entropy of {@code m} (inference mode) on every image of {@code data}. */
  private double inferenceLoss(ModelProto m, ImageSet data) throws Exception {
    Path f = dir.resolve("recal-" + System.nanoTime() + ".onnx");
    java.nio.file.Files.write(f, m.toByteArray());
    try (dev.pruneserve.session.ModelSession s = OrtRuntime.cpu(1).load("recal/1", f)) {
      String in = s.inputs().get(0).name();
      float[] logits = s.run(Map.of(in, Tensor.fp32(in, new long[] {data.size(), data.channels(), data.height(),
          data.width()}, data.pixels().clone())), java.util.Set.of(s.outputs().get(0).name())).values().iterator()
          .next().toFloatArray();
      int classes = logits.length / data.size();
      double loss = 0;
      for (int i = 0; i < data.size(); i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
          max = Math.max(max, logits[i * classes + c]);
        }
        double z = 0;
        for (int c = 0; c < classes; c++) {
          z += Math.exp(logits[i * classes + c] - max);
        }
        loss += Math.log(z) + max - logits[i * classes + data.labels()[i]];
      }
      return loss / data.size();
    }
  }

  /** Opset 18 moved ReduceMean's axes to an input: the batch-statistics BN must follow (same gradients). */
  @Test
  void anOpset18ModelTrainsWithTheSameGradients() throws Exception {
    ModelProto m17 = tiny(3);
    ModelProto m18 = m17.toBuilder().clearOpsetImport().addOpsetImport(
        dev.pruneserve.onnx.proto.Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(18)).build();
    ImageSet data = random(4, 5);
    int[] order = {0, 1, 2, 3};
    try (TrainingSession a = TrainingSession.open(m17, 4, OrtRuntime.cpu(1), dir);
        TrainingSession b = TrainingSession.open(m18, 4, OrtRuntime.cpu(1), dir)) {
      Map<String, float[]> ga = a.paramGradients(a.batchFeeds(data, order, 0), a.masks());
      Map<String, float[]> gb = b.paramGradients(b.batchFeeds(data, order, 0), b.masks());
      for (String p : ga.keySet()) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(ga.get(p), gb.get(p), 1e-6f, p);
      }
    }
  }

  @Test
  void sgdLearnsFashionMnist() throws Exception {
    assumeTrue(FashionMnist.available(), "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
    ImageSet train = FashionMnist.train().head(6400);
    ImageSet test = FashionMnist.test().head(1000);
    ModelProto dense = ResNet.build("small", 1, 1, 28, 10, 1, 8, 16, 32);
    ModelProto trained;
    double[] last = new double[1];
    try (TrainingSession s = TrainingSession.open(dense, 32, OrtRuntime.cpu(0), dir)) {
      Trainer.run(s, train, Trainer.Options.of(200, 0.1, 7), (step, lr, r) -> last[0] = r.loss());
      trained = s.export();
    }
    assertNotEquals(dense.getGraph().getInitializerList(), trained.getGraph().getInitializerList());
    Path file = dir.resolve("trained.onnx");
    Files.write(file, trained.toByteArray());
    try (ModelSession m = OrtRuntime.cpu(0).load("trained/1", file)) {
      double acc = ClassifierAgreement.accuracy(m, test, 250);
      // 10 classes (chance 0.1); 200 steps of 32 images reach ~0.8 with running BN statistics
      assertTrue(acc > 0.7, "test accuracy after 200 SGD steps: " + acc);
    }
    assertTrue(last[0] < 1.0, "final training loss " + last[0]);
  }
}
