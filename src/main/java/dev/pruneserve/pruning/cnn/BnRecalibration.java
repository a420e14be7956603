package dev.pruneserve.pruning.cnn;

import dev.pruneserve.graph.FloatTensors;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.train.ImageSet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * BatchNormalization recalibration by forward passes only, for any CNN (any opset, no labels, no
 * training graph): a copy of the model normalises every BN input with its batch statistics (as a
 * network in training mode does) and outputs them; batches of images run through it; each BN's
 * running mean becomes the mean of the batch means and its running variance the mean of the
 * unbiased batch variances (PyTorch's cumulative average, {@code momentum=None}). Parameters other
 * than the running statistics are unchanged; statistics are computed in FP32 and stored in each
 * tensor's own type. Single-threaded.
 */
public final class BnRecalibration {
  /** Images per forward pass. */
  static final int BATCH = 32;
  /** Batch and spatial axes of [N, C, H, W]. */
  private static final long[] SPATIAL = {0, 2, 3};

  private BnRecalibration() {}

  /** One BN node: its input, epsilon, and its mean and variance initializers. */
  private record Norm(String input, float epsilon, String mean, String var) {}

  /** {@code model} with recalibrated running statistics, and how many BN layers were updated. */
  public record Result(ModelProto model, int layers) {}

  public static Result run(ModelProto model, ImageSet images, SessionLoader loader, Path work) throws IOException {
    Map<String, TensorProto> init = new HashMap<>();
    model.getGraph().getInitializerList().forEach(t -> init.put(t.getName(), t));
    List<Norm> norms = new ArrayList<>();
    for (NodeProto n : model.getGraph().getNodeList()) {
      if (n.getOpType().equals("BatchNormalization") && n.getInputCount() == 5 && init.containsKey(n.getInput(3))
          && init.containsKey(n.getInput(4))) {
        float eps = n.getAttributeList().stream().filter(a -> a.getName().equals("epsilon")).map(a -> a.getF())
            .findFirst().orElse(1e-5f);
        norms.add(new Norm(n.getInput(0), eps, n.getInput(3), n.getInput(4)));
      }
    }
    if (norms.isEmpty() || images.size() < 2) {
      return new Result(model, 0);
    }
    Path file = work.resolve("bn-recalibration.onnx");
    dev.pruneserve.repository.ModelFileWriter.write(batchStatistics(model), file, false);
    String input = dev.pruneserve.train.TrainingGraph.imagesInput(model);
    Map<String, double[]> sums = new LinkedHashMap<>();
    int batches = 0;
    try (ModelSession s = loader.load("bn-recalibration/1", file)) {
      int size = images.imageSize();
      for (int from = 0; from + 2 <= images.size(); from += BATCH) {
        int b = Math.min(BATCH, images.size() - from);
        float[] x = java.util.Arrays.copyOfRange(images.pixels(), from * size, (from + b) * size);
        Set<String> outs = new java.util.LinkedHashSet<>();
        norms.forEach(nm -> outs.addAll(List.of(mean(nm.mean()), var(nm.mean()), count(nm.mean()))));
        Map<String, Tensor> r = s.run(Map.of(input, Tensor.fp32(input, new long[] {b, images.channels(), images
            .height(), images.width()}, x)), outs);
        for (Norm nm : norms) {
          float[] m = r.get(mean(nm.mean())).toFloatArray();
          long n = r.get(count(nm.mean())).dataView().getLong(0) / Math.max(1, m.length); // batch × spatial
          accumulate(sums, nm.mean(), m, 1);
          accumulate(sums, nm.var(), r.get(var(nm.mean())).toFloatArray(), n > 1 ? n / (n - 1.0) : 1);
        }
        batches++;
      }
    }
    GraphProto.Builder g = model.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      double[] sum = sums.get(t.getName());
      if (sum != null) {
        float[] v = new float[sum.length];
        for (int c = 0; c < v.length; c++) {
          v[c] = (float) (sum[c] / batches);
        }
        g.setInitializer(i, t.toBuilder().clearFloatData().setRawData(FloatTensors.encode(v, t.getDataType())));
      }
    }
    return new Result(model.toBuilder().setGraph(g).build(), norms.size());
  }

  private static String mean(String meanName) {
    return "bnstat." + meanName + ".mean";
  }

  private static String var(String meanName) {
    return "bnstat." + meanName + ".var";
  }

  private static String count(String meanName) {
    return "bnstat." + meanName + ".n";
  }

  private static void accumulate(Map<String, double[]> sums, String name, float[] v, double scale) {
    double[] s = sums.computeIfAbsent(name, k -> new double[v.length]);
    for (int c = 0; c < v.length; c++) {
      s[c] += v[c] * scale;
    }
  }

  /**
   * {@code model} with every BatchNormalization computed from its batch statistics over all axes
   * but 1 ({@code y = (x − μ)/sqrt(σ² + ε)·γ + β}), which it outputs as {@code bnstat.<mean>.mean}
   * and {@code .var} ([1, C], biased), with {@code .n} the input's element count (int64). 2-D
   * convolution maps ([N, C, H, W]) only.
   */
  static ModelProto batchStatistics(ModelProto model) {
    long opset = dev.pruneserve.graph.Reductions.opset(model);
    GraphProto.Builder g = model.getGraph().toBuilder().clearNode();
    for (NodeProto n : model.getGraph().getNodeList()) {
      if (!n.getOpType().equals("BatchNormalization") || n.getInputCount() != 5) {
        g.addNode(n);
        continue;
      }
      String p = "bnstat." + n.getInput(3);
      String x = n.getInput(0);
      float eps = n.getAttributeList().stream().filter(a -> a.getName().equals("epsilon")).map(a -> a.getF())
          .findFirst().orElse(1e-5f);
      g.addNode(cast(x, p + ".x"));
      g.addNode(dev.pruneserve.graph.Reductions.reduce("ReduceMean", p + ".x", p + ".m", SPATIAL, true, opset, g));
      g.addNode(node("Sub", p + ".d", p + ".x", p + ".m"));
      g.addNode(node("Mul", p + ".d2", p + ".d", p + ".d"));
      g.addNode(dev.pruneserve.graph.Reductions.reduce("ReduceMean", p + ".d2", p + ".v", SPATIAL, true, opset, g));
      g.addInitializer(FloatTensors.tensor(p + ".eps", FloatTensors.FLOAT, new float[] {eps}));
      g.addNode(node("Add", p + ".ve", p + ".v", p + ".eps"));
      g.addNode(node("Sqrt", p + ".sd", p + ".ve"));
      g.addNode(node("Div", p + ".xn", p + ".d", p + ".sd"));
      g.addNode(node("Reshape", p + ".g", n.getInput(1), p + ".cshape"));
      g.addNode(node("Reshape", p + ".b", n.getInput(2), p + ".cshape"));
      g.addNode(cast(p + ".g", p + ".g32"));
      g.addNode(cast(p + ".b", p + ".b32"));
      g.addInitializer(TensorProto.newBuilder().setName(p + ".cshape").setDataType(7).addDims(3).addInt64Data(-1)
          .addInt64Data(1).addInt64Data(1));
      g.addNode(node("Mul", p + ".xg", p + ".xn", p + ".g32"));
      g.addNode(node("Add", p + ".y32", p + ".xg", p + ".b32"));
      int type = model.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(n.getInput(1)))
          .findFirst().map(TensorProto::getDataType).orElse(FloatTensors.FLOAT); // the data path's type
      g.addNode(NodeProto.newBuilder().setOpType("Cast").setName(p + ".out").addInput(p + ".y32").addOutput(n
          .getOutput(0)).addAttribute(ModelBuilder.intAttr("to", type)));
      // outputs: μ and the unbiased σ² as [C]
      g.addNode(node("Flatten", mean(n.getInput(3)), p + ".m"));
      g.addNode(node("Flatten", var(n.getInput(3)), p + ".v"));
      g.addNode(node("Size", count(n.getInput(3)), x));
      g.addOutput(ValueInfoProto.newBuilder().setName(mean(n.getInput(3))));
      g.addOutput(ValueInfoProto.newBuilder().setName(var(n.getInput(3))));
      g.addOutput(ValueInfoProto.newBuilder().setName(count(n.getInput(3))));
    }
    return model.toBuilder().setGraph(g).build();
  }

  private static NodeProto cast(String in, String out) {
    return NodeProto.newBuilder().setOpType("Cast").setName(out + ".node").addInput(in).addOutput(out)
        .addAttribute(ModelBuilder.intAttr("to", FloatTensors.FLOAT)).build();
  }

  private static NodeProto node(String op, String out, String... in) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(out + ".node").addOutput(out);
    for (String i : in) {
      b.addInput(i);
    }
    return b.build();
  }
}
