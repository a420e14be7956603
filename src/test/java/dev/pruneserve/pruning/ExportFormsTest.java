package dev.pruneserve.pruning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.methods.PruneMethods;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.ShapeSlot;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.GeneratedDecoder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoder export forms of third-party exporters, built from the generated decoder: transformers'
 * eager attention ({@code Softmax → Cast → Cast → MatMul}) is discovered and pruned exactly like
 * the plain form; a head split whose head count is inferred ({@code view(..., -1, head_dim)}) is
 * not matched, and pruning is refused naming the Softmax and the Reshape instead of pruning MLPs
 * only while the recipe says heads.
 */
class ExportFormsTest {
  @TempDir Path dir;

  /** Every Softmax's output goes through Cast(float) → Cast(float) before its MatMul. */
  static ModelProto castsAroundSoftmax(ModelProto m) {
    GraphProto.Builder g = m.getGraph().toBuilder().clearNode();
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals("Softmax")) {
        String y = n.getOutput(0);
        g.addNode(n.toBuilder().setOutput(0, y + ".raw"));
        g.addNode(NodeProto.newBuilder().setOpType("Cast").setName(n.getName() + ".up").addInput(y + ".raw")
            .addOutput(y + ".f32").addAttribute(ModelBuilder.intAttr("to", 1)));
        g.addNode(NodeProto.newBuilder().setOpType("Cast").setName(n.getName() + ".down").addInput(y + ".f32")
            .addOutput(y).addAttribute(ModelBuilder.intAttr("to", 1)));
      } else {
        g.addNode(n);
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

  @Test
  void castsAroundSoftmaxAreLookedThrough() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    ModelProto eager = castsAroundSoftmax(plain);
    HeadDiscovery.Scan scan = HeadDiscovery.scan(new OnnxGraph(eager));
    assertEquals(List.of(), scan.unmatched());
    assertEquals(HeadDiscovery.attentionBlocks(new OnnxGraph(plain)), scan.blocks());
    Pruner.Result a = PruneMethods.apply(plain, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1));
    Pruner.Result b = PruneMethods.apply(eager, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1));
    assertEquals(a.headsPerLayer(), b.headsPerLayer());
    assertTrue(a.headsPerLayer().stream().allMatch(h -> h < GeneratedDecoder.HEADS), a.headsPerLayer().toString());
    for (TensorProto t : a.model().getGraph().getInitializerList()) {
      assertEquals(t, new OnnxGraph(b.model()).initializer(t.getName()).orElseThrow(), t.getName());
    }
  }

  @Test
  void anInferredHeadCountIsNamedAndPruningIsRefused() throws Exception {
    ModelProto plain = GeneratedDecoder.model(dir);
    OnnxGraph g = new OnnxGraph(plain);
    HeadGroup first = HeadDiscovery.attentionBlocks(g).get(0);
    ShapeSlot slot = first.splitShapes().get(0);
    TensorProto shape = g.initializer(slot.tensor()).orElseThrow(() -> new AssertionError("shape " + slot.tensor()
        + " is a Constant node in this export; the test expects an initializer"));
    long[] v = dev.pruneserve.graph.ShapeInference.int64s(shape);
    v[slot.index()] = -1;
    GraphProto.Builder b = plain.getGraph().toBuilder();
    for (int i = 0; i < b.getInitializerCount(); i++) {
      if (b.getInitializer(i).getName().equals(slot.tensor())) {
        TensorProto.Builder t = b.getInitializer(i).toBuilder().clearRawData().clearInt64Data();
        for (long x : v) {
          t.addInt64Data(x);
        }
        b.setInitializer(i, t);
      }
    }
    ModelProto inferred = plain.toBuilder().setGraph(b).build();
    HeadDiscovery.Scan scan = HeadDiscovery.scan(new OnnxGraph(inferred));
    assertTrue(!scan.unmatched().isEmpty() && scan.unmatched().get(0).contains("inferred"), scan.unmatched()
        .toString());
    ServingException e = assertThrows(ServingException.class,
        () -> PruneMethods.apply(inferred, PruneRecipe.of("magnitude-l2", 0.5), null, OrtRuntime.cpu(1)));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("Softmax node") && e.getMessage().contains("inferred"), e.getMessage());
  }
}
