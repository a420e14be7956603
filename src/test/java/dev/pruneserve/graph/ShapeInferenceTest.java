package dev.pruneserve.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.testing.Fixtures;
import dev.pruneserve.testing.Stories15mModels;
import dev.pruneserve.testing.TestCnns;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Static shapes on the real graphs (stories15M, MiniLM) and the generated CNN: no contradictions;
 * the CNN is inferred end to end (logits [?, 5]) and the transformers up to their first attention
 * block (the q projection [?, ?, 288] / [?, ?, 384]); an inconsistent edit and an unsorted node list
 * are reported at the right node.
 */
class ShapeInferenceTest {
  @Test
  void realGraphsHaveNoContradictions() throws Exception {
    OnnxGraph stories = new OnnxGraph(Stories15mModels.dense());
    ShapeInference.Result d = ShapeInference.infer(stories);
    assertEquals(List.of(), d.mismatches());
    assertArrayEquals(new long[] {-1, -1, 288}, d.shapes().get(firstMatMulOutput(stories)));
    OnnxGraph minilm = new OnnxGraph(ModelProto.parseFrom(Files.readAllBytes(Fixtures.minilm())));
    ShapeInference.Result e = ShapeInference.infer(minilm);
    assertEquals(List.of(), e.mismatches());
    assertArrayEquals(new long[] {-1, -1, 384}, e.shapes().get(firstMatMulOutput(minilm)));
    ModelProto cnn = TestCnns.cnn(1, false);
    ShapeInference.Result c = ShapeInference.infer(new OnnxGraph(cnn));
    assertEquals(List.of(), c.mismatches());
    assertArrayEquals(new long[] {-1, 5}, c.shapes().get(cnn.getGraph().getOutput(0).getName()));
  }

  private static String firstMatMulOutput(OnnxGraph g) {
    return g.nodes().stream().filter(n -> n.getOpType().equals("MatMul")).findFirst().orElseThrow().getOutput(0);
  }

  @Test
  void reportsInconsistentEditsAndUnsortedNodes() {
    ModelProto mlp = ModelBuilder.mlp("mlp", 1, 4, 8, 2);
    var g = mlp.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      if (g.getInitializer(i).getName().equals("layers.1.weight")) { // [8, 2] → [7, 2]
        g.setInitializer(i, g.getInitializer(i).toBuilder().setDims(0, 7));
      }
    }
    List<ShapeInference.Mismatch> m = ShapeInference.infer(new OnnxGraph(mlp.toBuilder().setGraph(g).build()))
        .mismatches();
    assertEquals(1, m.size());
    assertEquals("MatMul", m.get(0).op());
    assertTrue(m.get(0).message().contains("inner dimensions differ"), m.get(0).message());

    var h = mlp.getGraph().toBuilder();
    NodeProto last = h.getNode(h.getNodeCount() - 1);
    h.removeNode(h.getNodeCount() - 1);
    h.addNode(0, last);
    List<ShapeInference.Mismatch> u = ShapeInference.infer(new OnnxGraph(mlp.toBuilder().setGraph(h).build()))
        .mismatches();
    assertTrue(u.get(0).message().contains("not topologically sorted"), u.get(0).message());
  }
}
