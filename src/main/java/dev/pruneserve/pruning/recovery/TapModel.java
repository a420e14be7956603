package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.Reductions;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Calibration copies of a model for reconstruction: a {@link Projection}'s input Z (as this model
 * computes it) or its output Y, as float32 rows [samples, width] named {@link #ROWS}, the graph cut
 * to the nodes they need. A Conv's input becomes patches [positions, K·∏k] ordered as its weight
 * [O, K, k…] flattens; its output is taken at the same positions. Every {@code steps}-th output
 * position per spatial axis is used (int64 input {@link #STEPS} [spatial rank], opset ≥ 10), so a
 * large feature map costs a bounded number of rows; {@link #SHAPE} is the Conv output's shape.
 * Kept graph inputs: all of the model's. Stateless.
 */
final class TapModel {
  static final String ROWS = "recon.rows";
  static final String SHAPE = "recon.shape";
  static final String STEPS = "recon.steps";
  /** With a stream target: the pruned model's residual operand [samples, D]. */
  static final String RESIDUAL = "recon.residual";
  /** With a stream target: the targets' input, the pruned model's stream [samples, D]. */
  static final String STREAM = "recon.stream";

  private TapModel() {}

  /** The projection's input rows [samples, width of the input], width from {@code m}'s weight. */
  static ModelProto inputs(ModelProto m, Projection p) {
    OnnxGraph g = new OnnxGraph(m);
    NodeProto n = Projection.reader(g, p.weight()).orElseThrow();
    TensorProto w = g.initializer(p.weight()).orElseThrow();
    GraphProto.Builder b = m.getGraph().toBuilder();
    String x = cast(b, n.getInput(0), "recon.z");
    if (p.kind() != Projection.Kind.CONV) {
      int k = (int) w.getDims(p.kind() == Projection.Kind.GEMM && Projection.intAttr(n, "transB", 0) == 1 ? 1 : 0);
      reshape(b, x, k, ROWS);
      if (!p.streamTarget()) {
        return finish(m, b, List.of(ROWS));
      }
      String r = cast(b, ResidualChain.of(g, n.getOutput(0)).orElseThrow().residual(), "recon.r");
      reshape(b, r, w.getDims(1), RESIDUAL);
      return finish(m, b, List.of(ROWS, RESIDUAL));
    }
    int k = (int) w.getDims(1);
    int rank = w.getDimsCount() - 2;
    int q = 1;
    long[] kernel = new long[rank];
    for (int i = 0; i < rank; i++) {
      kernel[i] = w.getDims(2 + i);
      q *= (int) kernel[i];
    }
    float[] onehot = new float[k * q * q];
    for (int c = 0; c < k; c++) {
      for (int t = 0; t < q; t++) {
        onehot[(c * q + t) * q + t] = 1;
      }
    }
    long[] dims = new long[2 + rank];
    dims[0] = (long) k * q;
    dims[1] = 1;
    System.arraycopy(kernel, 0, dims, 2, rank);
    b.addInitializer(FloatTensors.tensor("recon.patch.w", FloatTensors.FLOAT, onehot, dims));
    NodeProto.Builder conv = NodeProto.newBuilder().setOpType("Conv").setName("recon.patch").addInput(x).addInput(
        "recon.patch.w").addOutput("recon.patches");
    for (AttributeProto a : n.getAttributeList()) {
      if (!a.getName().equals("group") && !a.getName().equals("kernel_shape")) {
        conv.addAttribute(a);
      }
    }
    conv.addAttribute(ModelBuilder.intAttr("group", k)).addAttribute(ModelBuilder.intsAttr("kernel_shape", kernel));
    b.addNode(conv);
    rows(m, b, "recon.patches", rank, k * q, null);
    return finish(m, b, List.of(ROWS));
  }

  /**
   * The projection's target rows [samples, kept outputs] from the (dense) model {@code m}: its
   * output; with a stream target, its output when its block reads the stream of input {@link
   * #STREAM} (the pruned model's, batch 1) instead of its own.
   */
  static ModelProto outputs(ModelProto m, Projection p) {
    OnnxGraph g = new OnnxGraph(m);
    NodeProto n = Projection.reader(g, p.weight()).orElseThrow();
    TensorProto w = g.initializer(p.weight()).orElseThrow();
    GraphProto.Builder b = m.getGraph().toBuilder();
    if (p.streamTarget()) { // the dense block reads the pruned model's stream, fed as input STREAM
      String r = ResidualChain.of(g, n.getOutput(0)).orElseThrow().residual();
      String fed = "recon.stream.fed";
      for (int i = 0; i < b.getNodeCount(); i++) {
        NodeProto.Builder nb = b.getNodeBuilder(i);
        for (int j = 0; j < nb.getInputCount(); j++) {
          if (nb.getInput(j).equals(r)) {
            nb.setInput(j, fed);
          }
        }
      }
      b.addInput(ModelBuilder.valueInfo(STREAM, FloatTensors.FLOAT, "rows", w.getDims(1)));
      b.addInitializer(longs(STREAM + ".shape", 1, -1, w.getDims(1)));
      b.addNode(0, NodeProto.newBuilder().setOpType("Reshape").setName(STREAM + ".reshape").addInput(STREAM).addInput(
          STREAM + ".shape").addOutput(STREAM + ".3d").build());
      b.addNode(1, NodeProto.newBuilder().setOpType("Cast").setName(fed).addInput(STREAM + ".3d").addOutput(fed)
          .addAttribute(ModelBuilder.intAttr("to", w.getDataType())).build());
    }
    String y = cast(b, n.getOutput(0), "recon.y");
    if (p.kind() == Projection.Kind.CONV) {
      b.addNode(NodeProto.newBuilder().setOpType("Shape").setName(SHAPE).addInput(n.getOutput(0)).addOutput(SHAPE));
      rows(m, b, y, w.getDimsCount() - 2, (int) w.getDims(0), p.keptOutputs());
      return finish(m, b, List.of(ROWS, SHAPE));
    }
    int d = (int) w.getDims(p.kind() == Projection.Kind.GEMM && Projection.intAttr(n, "transB", 0) == 1 ? 0 : 1);
    if (p.keptOutputs() == null) {
      reshape(b, y, d, ROWS);
    } else {
      reshape(b, y, d, "recon.y2");
      gather(b, "recon.y2", p.keptOutputs(), ROWS);
    }
    return finish(m, b, List.of(ROWS));
  }

  /** [N, C, s…] → every steps-th position → [N·positions, C] (→ kept columns) as ROWS. */
  private static void rows(ModelProto m, GraphProto.Builder b, String v, int rank, int channels, int[] kept) {
    String sampled = v;
    if (Reductions.opset(m) >= 10) {
      long[] axes = new long[rank];
      long[] zeros = new long[rank];
      long[] ends = new long[rank];
      for (int i = 0; i < rank; i++) {
        axes[i] = 2 + i;
        ends[i] = Long.MAX_VALUE;
      }
      b.addInitializer(longs("recon.starts." + v, zeros));
      b.addInitializer(longs("recon.ends." + v, ends));
      b.addInitializer(longs("recon.axes." + v, axes));
      sampled = v + ".sampled";
      b.addNode(NodeProto.newBuilder().setOpType("Slice").setName(sampled).addInput(v).addInput("recon.starts." + v)
          .addInput("recon.ends." + v).addInput("recon.axes." + v).addInput(STEPS).addOutput(sampled));
      if (b.getInputList().stream().noneMatch(i -> i.getName().equals(STEPS))) {
        b.addInput(ModelBuilder.valueInfo(STEPS, 7, rank));
      }
    }
    long[] perm = new long[rank + 2];
    for (int i = 0; i < rank; i++) {
      perm[1 + i] = 2 + i;
    }
    perm[rank + 1] = 1;
    b.addNode(NodeProto.newBuilder().setOpType("Transpose").setName(v + ".last").addInput(sampled).addOutput(v
        + ".last").addAttribute(ModelBuilder.intsAttr("perm", perm)));
    if (kept == null) {
      reshape(b, v + ".last", channels, ROWS);
    } else {
      reshape(b, v + ".last", channels, v + ".rows");
      gather(b, v + ".rows", kept, ROWS);
    }
  }

  private static String cast(GraphProto.Builder b, String v, String out) {
    b.addNode(NodeProto.newBuilder().setOpType("Cast").setName(out).addInput(v).addOutput(out).addAttribute(
        ModelBuilder.intAttr("to", FloatTensors.FLOAT)));
    return out;
  }

  private static void reshape(GraphProto.Builder b, String v, long width, String out) {
    b.addInitializer(longs(out + ".shape", -1, width));
    b.addNode(NodeProto.newBuilder().setOpType("Reshape").setName(out + ".reshape").addInput(v).addInput(out
        + ".shape").addOutput(out));
  }

  private static void gather(GraphProto.Builder b, String v, int[] columns, String out) {
    long[] idx = new long[columns.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = columns[i];
    }
    b.addInitializer(longs(out + ".columns", idx));
    b.addNode(NodeProto.newBuilder().setOpType("Gather").setName(out + ".gather").addInput(v).addInput(out
        + ".columns").addOutput(out).addAttribute(ModelBuilder.intAttr("axis", 1)));
  }

  private static TensorProto longs(String name, long... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(v.length);
    for (long x : v) {
      t.addInt64Data(x);
    }
    return t.build();
  }

  /** {@code b} with only {@code outputs} as outputs and only the nodes and initializers they need. */
  private static ModelProto finish(ModelProto m, GraphProto.Builder b, List<String> outputs) {
    Set<String> needed = new HashSet<>(outputs);
    List<NodeProto> kept = new ArrayList<>();
    List<NodeProto> nodes = b.getNodeList();
    for (int i = nodes.size() - 1; i >= 0; i--) {
      NodeProto n = nodes.get(i);
      if (n.getOutputList().stream().anyMatch(needed::contains)) {
        kept.add(0, n);
        needed.addAll(n.getInputList());
        n.getAttributeList().forEach(a -> references(a, needed));
      }
    }
    List<TensorProto> inits = b.getInitializerList().stream().filter(t -> needed.contains(t.getName())).toList();
    b.clearNode().addAllNode(kept).clearInitializer().addAllInitializer(inits).clearOutput().clearValueInfo();
    outputs.forEach(o -> b.addOutput(ValueInfoProto.newBuilder().setName(o)));
    return m.toBuilder().setGraph(b).build();
  }

  /** Every value a subgraph attribute reads (outer-scope names included). */
  private static void references(AttributeProto a, Set<String> into) {
    List<GraphProto> graphs = new ArrayList<>(a.getGraphsList());
    if (a.hasG()) {
      graphs.add(a.getG());
    }
    for (GraphProto g : graphs) {
      for (NodeProto n : g.getNodeList()) {
        into.addAll(n.getInputList());
        n.getAttributeList().forEach(x -> references(x, into));
      }
    }
  }
}
