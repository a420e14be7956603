package dev.pruneserve.pruning.cnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.TestCnns;
import dev.pruneserve.train.ImageSet;
import dev.pruneserve.train.TrainingSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forward-only BN recalibration against the training graph's (batch statistics in backward-capable
 * training mode, PyTorch's cumulative average): on the same 32 images in one batch both give the
 * same running means and unbiased variances within 1e-4, and they differ from the stored ones.
 */
class BnRecalibrationTest {
  @TempDir Path dir;

  @Test
  void matchesTheTrainingGraphsRecalibration() throws Exception {
    ModelProto m = TestCnns.cnn(6, false);
    ImageSet images = TestCnns.randomImages(32, 3, 16, 5, 3);
    BnRecalibration.Result forward = BnRecalibration.run(m, images, OrtRuntime.cpu(1), dir);
    assertEquals(1, forward.layers());
    ModelProto reference;
    try (TrainingSession t = TrainingSession.open(m, 32, OrtRuntime.cpu(1), dir)) {
      t.recalibrate(images, 1, 5);
      reference = t.export();
    }
    for (String name : List.of("bn.mean", "bn.var")) {
      float[] want = values(reference, name);
      float[] got = values(forward.model(), name);
      assertNotEquals(values(m, name)[0], got[0], "recalibrated: " + name);
      for (int c = 0; c < want.length; c++) {
        assertEquals(want[c], got[c], 1e-4 * Math.max(1, Math.abs(want[c])), name + "[" + c + "]");
      }
    }
  }

  private static float[] values(ModelProto m, String name) {
    TensorProto t = m.getGraph().getInitializerList().stream().filter(x -> x.getName().equals(name)).findFirst()
        .orElseThrow();
    FloatBuffer f = FloatTensors.values(t);
    float[] v = new float[f.remaining()];
    f.get(v);
    return v;
  }
}
