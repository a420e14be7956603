package dev.pruneserve.pruning.taylor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.calibration.CausalLmLoss;
import dev.pruneserve.pruning.zo.MiniLlm;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LLM-Pruner Element¹ with backprop on a generated decoder: the calibration gradient is the
 * derivative of the mean cross-entropy (checked along its own direction against central
 * differences of {@link CausalLmLoss#meanCrossEntropy}), and pruning removes LLM-Pruner's counts.
 */
class TaylorLlmTest {
  @TempDir Path dir;

  @Test
  void gradientIsTheDerivativeOfTheMeanLoss() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    List<int[]> calib = GeneratedDecoder.sequences(6, 3);
    String w = new OnnxGraph(dense).nodes().stream().filter(n -> n.getOpType().equals("MatMul"))
        .map(n -> n.getInput(1)).filter(n -> n.contains("down_proj")).findFirst().orElseThrow();
    Map<String, double[]> g = TaylorLlm.gradients(dense, List.of(w), calib, OrtRuntime.cpu(1), dir, Progress.NONE);
    double[] gw = g.get(w);
    double norm = 0;
    for (double x : gw) {
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    double h = 1e-2;
    double up = CausalLmLoss.meanCrossEntropy(moved(dense, w, gw, h / norm), calib, OrtRuntime.cpu(1),
        dir.resolve("up.onnx"));
    double down = CausalLmLoss.meanCrossEntropy(moved(dense, w, gw, -h / norm), calib, OrtRuntime.cpu(1),
        dir.resolve("down.onnx"));
    assertEquals(norm, (up - down) / (2 * h), 1e-2 * norm, "directional derivative along the gradient");
  }

  @Test
  void prunesLlmPrunerCounts() throws Exception {
    ModelProto dense = GeneratedDecoder.model(dir);
    MiniLlm.Outcome o = TaylorLlm.prune(dense, 0.5, 0, -1, GeneratedDecoder.sequences(4, 5), OrtRuntime.cpu(1), dir,
        Progress.NONE);
    assertEquals(List.of(2, 2, 2), o.result().headsPerLayer());
    assertEquals(List.of(44, 44, 44), o.result().channelsPerLayer());
    assertTrue(o.headScores()[0][0] > 0);
  }

  private static ModelProto moved(ModelProto m, String name, double[] d, double step) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getName().equals(name)) {
        ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < d.length; k++) {
          out.putFloat((float) (b.getFloat(k * 4) + step * d[k]));
        }
        g.setInitializer(i, t.toBuilder().setRawData(com.google.protobuf.ByteString.copyFrom(out.array())));
      }
    }
    return m.toBuilder().setGraph(g).build();
  }
}
