package dev.pruneserve.graph;

import static dev.pruneserve.graph.ShapeMath.attr;
import static dev.pruneserve.graph.ShapeMath.broadcast;
import static dev.pruneserve.graph.ShapeMath.clamp;
import static dev.pruneserve.graph.ShapeMath.declared;
import static dev.pruneserve.graph.ShapeMath.ints;
import static dev.pruneserve.graph.ShapeMath.matmul;
import static dev.pruneserve.graph.ShapeMath.pool;
import static dev.pruneserve.graph.ShapeMath.product;
import static dev.pruneserve.graph.ShapeMath.str;

import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Static shapes for the ops structured pruning touches, in node order, and the contradictions an
 * inconsistent edit leaves (a MatMul whose inner dimensions differ, a Conv reading more channels
 * than its input has, a per-channel parameter of the wrong length, a Reshape that changes the
 * element count…). Dimensions are {@code -1} when unknown (symbolic batch or sequence); an op not
 * covered gives unknown outputs, never an error, and unknowns propagate: CNN and MLP graphs are
 * inferred end to end, transformer graphs up to their attention blocks (RoPE tables and masks are
 * built by ops not covered), where ONNX Runtime validation takes over. Also checks that nodes are
 * topologically sorted.
 */
public final class ShapeInference {
  /** A contradiction at one node, in words a user can act on. */
  public record Mismatch(String node, String op, String message) {}

  /** Inferred shapes by value name (absent = unknown rank) and the contradictions found. */
  public record Result(Map<String, long[]> shapes, List<Mismatch> mismatches) {}

  private final OnnxGraph g;
  private final Map<String, long[]> shapes = new HashMap<>();
  private final List<Mismatch> mismatches = new ArrayList<>();

  private ShapeInference(OnnxGraph g) {
    this.g = g;
  }

  public static Result infer(OnnxGraph g) {
    ShapeInference s = new ShapeInference(g);
    s.run();
    return new Result(s.shapes, s.mismatches);
  }

  private void run() {
    java.util.Set<String> known = new java.util.HashSet<>();
    for (ValueInfoProto in : g.model().getGraph().getInputList()) {
      shapes.put(in.getName(), declared(in));
      known.add(in.getName());
    }
    for (TensorProto t : g.model().getGraph().getInitializerList()) {
      shapes.put(t.getName(), t.getDimsList().stream().mapToLong(Long::longValue).toArray());
      known.add(t.getName());
    }
    for (NodeProto n : g.nodes()) {
      for (String in : n.getInputList()) {
        if (!in.isEmpty() && !known.contains(in) && g.producer(in).isPresent()) {
          mismatches.add(new Mismatch(n.getName(), n.getOpType(), "reads '" + in + "' before the node producing it"
              + " (nodes are not topologically sorted)"));
        }
      }
      try {
        if (n.getOpType().equals("Split")) {
          split(n);
          known.addAll(n.getOutputList());
          continue;
        }
        long[] out = infer(n);
        if (out != null && n.getOutputCount() > 0) {
          shapes.put(n.getOutput(0), out);
        }
      } catch (IllegalStateException e) {
        mismatches.add(new Mismatch(n.getName(), n.getOpType(), e.getMessage()));
      }
      known.addAll(n.getOutputList());
    }
  }

  /** Split: sizes from the constant `split` input (opset 13+), the attribute, or equal parts. */
  private void split(NodeProto n) {
    long[] x = in(n, 0);
    if (x == null) {
      return;
    }
    int axis = (int) n.getAttributeList().stream().filter(a -> a.getName().equals("axis")).mapToLong(a -> a.getI())
        .findFirst().orElse(0);
    axis = axis < 0 ? axis + x.length : axis;
    long[] sizes = n.getInputCount() > 1 && !n.getInput(1).isEmpty()
        ? g.constant(n.getInput(1)).map(ShapeInference::int64s).orElse(null)
        : n.getAttributeList().stream().filter(a -> a.getName().equals("split")).findFirst()
            .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).orElse(null);
    int parts = n.getOutputCount();
    if (sizes == null && x[axis] >= 0 && x[axis] % parts == 0) {
      sizes = new long[parts];
      java.util.Arrays.fill(sizes, x[axis] / parts);
    }
    if (sizes == null || sizes.length != parts) {
      return;
    }
    for (int o = 0; o < parts; o++) {
      long[] out = x.clone();
      out[axis] = sizes[o];
      shapes.put(n.getOutput(o), out);
    }
  }

  private long[] infer(NodeProto n) {
    return switch (n.getOpType()) {
      case "Relu", "Sigmoid", "Tanh", "Erf", "Neg", "Sqrt", "Identity", "LeakyRelu", "Clip", "HardSigmoid",
          "HardSwish", "Softmax", "LogSoftmax", "Cast", "Dropout", "Elu", "Softplus", "Gelu", "Exp", "Log", "Abs",
          "Reciprocal", "Cos", "Sin", "Floor", "Ceil", "Round", "Sign", "Not" -> in(n, 0);
      case "Squeeze", "Unsqueeze" -> squeeze(n);
      case "Add", "Sub", "Mul", "Div", "Pow", "Greater", "Less", "Equal", "And", "Or" -> broadcast(in(n, 0), in(n, 1));
      case "Where" -> broadcast(broadcast(in(n, 0), in(n, 1)), in(n, 2));
      case "Expand" -> broadcast(in(n, 0), g.constant(n.getInput(1)).map(ShapeInference::int64s).orElse(null));
      case "MaxPool", "AveragePool" -> ShapeMath.pool(in(n, 0), n);
      case "MatMul" -> matmul(in(n, 0), in(n, 1));
      case "Gemm" -> gemm(n);
      case "Conv" -> conv(n);
      case "BatchNormalization" -> batchNorm(n);
      case "GlobalAveragePool" -> pool(in(n, 0));
      case "Flatten" -> flatten(n);
      case "Transpose" -> transpose(n);
      case "Reshape" -> reshape(n);
      case "Gather" -> gather(n);
      case "ReduceMean", "ReduceSum" -> reduce(n);
      case "Concat" -> concat(n);
      case "Constant" -> g.constant(n.getOutput(0)).map(t -> t.getDimsList().stream().mapToLong(Long::longValue)
          .toArray()).orElse(null);
      case "Slice" -> slice(n);
      default -> null;
    };
  }

  private long[] in(NodeProto n, int i) {
    return i < n.getInputCount() ? shapes.get(n.getInput(i)) : null;
  }

  private long[] gemm(NodeProto n) {
    long[] a = in(n, 0);
    long[] b = in(n, 1);
    if (a == null || b == null || a.length != 2 || b.length != 2) {
      return null;
    }
    long ka = attr(n, "transA", 0) == 1 ? a[0] : a[1];
    boolean tb = attr(n, "transB", 0) == 1;
    long kb = tb ? b[1] : b[0];
    if (ka >= 0 && kb >= 0 && ka != kb) {
      throw new IllegalStateException("inner dimensions differ: A " + Arrays.toString(a) + " × B " + Arrays.toString(b)
          + (tb ? " (transB)" : ""));
    }
    return new long[] {attr(n, "transA", 0) == 1 ? a[1] : a[0], tb ? b[0] : b[1]};
  }

  private long[] conv(NodeProto n) {
    long[] x = in(n, 0);
    long[] w = in(n, 1);
    if (x == null || w == null || x.length != 4 || w.length != 4) {
      return null;
    }
    long group = attr(n, "group", 1);
    if (x[1] >= 0 && x[1] != w[1] * group) {
      throw new IllegalStateException("input has " + x[1] + " channels but the weight " + Arrays.toString(w)
          + " with group " + group + " reads " + w[1] * group);
    }
    long[] b = in(n, 2);
    if (b != null && (b.length != 1 || b[0] != w[0])) {
      throw new IllegalStateException("bias " + Arrays.toString(b) + " does not match " + w[0] + " output channels");
    }
    long[] pads = ints(n, "pads", 0, 0, 0, 0);
    long[] strides = ints(n, "strides", 1, 1);
    long[] dil = ints(n, "dilations", 1, 1);
    long[] out = {x[0], w[0], -1, -1};
    for (int i = 0; i < 2; i++) {
      if (x[2 + i] >= 0 && !"SAME_UPPER".equals(str(n, "auto_pad")) && !"SAME_LOWER".equals(str(n, "auto_pad"))) {
        out[2 + i] = (x[2 + i] + pads[i] + pads[i + 2] - dil[i] * (w[2 + i] - 1) - 1) / strides[i] + 1;
      }
    }
    return out;
  }

  private long[] batchNorm(NodeProto n) {
    long[] x = in(n, 0);
    for (int i = 1; i < Math.min(5, n.getInputCount()); i++) {
      long[] p = in(n, i);
      if (x != null && x.length > 1 && x[1] >= 0 && p != null && (p.length != 1 || p[0] != x[1])) {
        throw new IllegalStateException("parameter " + n.getInput(i) + " " + Arrays.toString(p) + " does not match "
            + x[1] + " channels");
      }
    }
    return x;
  }

  private long[] flatten(NodeProto n) {
    long[] x = in(n, 0);
    if (x == null) {
      return null;
    }
    int axis = (int) attr(n, "axis", 1);
    return new long[] {product(x, 0, axis), product(x, axis, x.length)};
  }

  /** Squeeze / Unsqueeze with constant axes (opset ≥ 13 input). */
  private long[] squeeze(NodeProto n) {
    long[] x = in(n, 0);
    long[] axes = n.getInputCount() > 1 ? g.constant(n.getInput(1)).map(ShapeInference::int64s).orElse(null) : null;
    if (x == null || axes == null) {
      return null;
    }
    boolean un = n.getOpType().equals("Unsqueeze");
    int rank = un ? x.length + axes.length : x.length;
    java.util.Set<Integer> at = new java.util.HashSet<>();
    for (long a : axes) {
      at.add((int) (a < 0 ? a + rank : a));
    }
    long[] out = new long[un ? rank : x.length - at.size()];
    for (int k = 0, src = 0, dst = 0; k < rank; k++) {
      if (un) {
        out[dst++] = at.contains(k) ? 1 : x[src++];
      } else if (!at.contains(k)) {
        out[dst++] = x[k];
      }
    }
    return out;
  }

  private long[] transpose(NodeProto n) {
    long[] x = in(n, 0);
    long[] perm = ints(n, "perm");
    if (x == null || perm == null || perm.length != x.length) {
      return null;
    }
    long[] out = new long[x.length];
    for (int i = 0; i < perm.length; i++) {
      out[i] = x[(int) perm[i]];
    }
    return out;
  }

  /** Constant target shapes only (0 copies the input dimension, −1 is inferred). */
  private long[] reshape(NodeProto n) {
    long[] x = in(n, 0);
    Optional<TensorProto> t = g.constant(n.getInput(1));
    if (x == null || t.isEmpty() || t.get().getDataType() != 7) {
      return null;
    }
    long[] target = int64s(t.get());
    long[] out = target.clone();
    int infer = -1;
    for (int i = 0; i < out.length; i++) {
      if (out[i] == 0 && i < x.length) {
        out[i] = x[i];
      } else if (out[i] == -1) {
        infer = i;
      }
    }
    long total = product(x, 0, x.length);
    long known = 1;
    for (int i = 0; i < out.length; i++) {
      if (i != infer) {
        known = out[i] < 0 || known < 0 ? -1 : known * out[i];
      }
    }
    if (infer >= 0) {
      out[infer] = total >= 0 && known > 0 ? total / known : -1;
    } else if (total >= 0 && known >= 0 && total != known) {
      throw new IllegalStateException("reshapes " + total + " elements " + Arrays.toString(x) + " into "
          + Arrays.toString(out));
    }
    return out;
  }

  /** Gather along axis 0 of a constant table (embeddings): indices shape + table row shape. */
  private long[] gather(NodeProto n) {
    long[] data = in(n, 0);
    long[] idx = in(n, 1);
    if (data == null || idx == null || attr(n, "axis", 0) != 0) {
      return null;
    }
    long[] out = Arrays.copyOf(idx, idx.length + data.length - 1);
    System.arraycopy(data, 1, out, idx.length, data.length - 1);
    return out;
  }

  /** Reductions over the axes attribute (opset < 18) or a constant axes input. */
  private long[] reduce(NodeProto n) {
    long[] x = in(n, 0);
    long[] axes = ints(n, "axes");
    if (axes == null && n.getInputCount() > 1) {
      axes = g.constant(n.getInput(1)).map(ShapeInference::int64s).orElse(null);
    }
    if (x == null || axes == null) {
      return null;
    }
    boolean keep = attr(n, "keepdims", 1) == 1;
    java.util.Set<Integer> red = new java.util.HashSet<>();
    for (long a : axes) {
      red.add((int) (a < 0 ? a + x.length : a));
    }
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      if (!red.contains(i)) {
        out.add(x[i]);
      } else if (keep) {
        out.add(1L);
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  /** Slice (opset ≥ 10): sliced axes get their length when starts/ends are constant, else unknown. */
  private long[] slice(NodeProto n) {
    long[] x = in(n, 0);
    if (x == null || n.getInputCount() < 3) {
      return null;
    }
    long[] axes = n.getInputCount() > 3 ? g.constant(n.getInput(3)).map(ShapeInference::int64s).orElse(null)
        : java.util.stream.LongStream.range(0, x.length).toArray();
    if (axes == null) {
      return null;
    }
    long[] starts = g.constant(n.getInput(1)).map(ShapeInference::int64s).orElse(null);
    long[] ends = g.constant(n.getInput(2)).map(ShapeInference::int64s).orElse(null);
    long[] steps = n.getInputCount() > 4 ? g.constant(n.getInput(4)).map(ShapeInference::int64s).orElse(null) : null;
    long[] out = x.clone();
    for (int i = 0; i < axes.length; i++) {
      int a = (int) (axes[i] < 0 ? axes[i] + x.length : axes[i]);
      long step = steps == null ? 1 : steps[i];
      if (starts == null || ends == null || x[a] < 0 || step != 1) {
        out[a] = -1;
        continue;
      }
      long s = clamp(starts[i] < 0 ? starts[i] + x[a] : starts[i], x[a]);
      long e = clamp(ends[i] < 0 ? ends[i] + x[a] : ends[i], x[a]);
      out[a] = Math.max(0, e - s);
    }
    return out;
  }

  private long[] concat(NodeProto n) {
    long[] first = in(n, 0);
    if (first == null) {
      return null;
    }
    int axis = (int) attr(n, "axis", 0);
    axis = axis < 0 ? axis + first.length : axis;
    long[] out = first.clone();
    for (int i = 1; i < n.getInputCount(); i++) {
      long[] s = in(n, i);
      if (s == null || s.length != first.length) {
        return null;
      }
      for (int d = 0; d < s.length; d++) {
        if (d == axis) {
          out[d] = out[d] < 0 || s[d] < 0 ? -1 : out[d] + s[d];
        } else if (out[d] >= 0 && s[d] >= 0 && out[d] != s[d]) {
          throw new IllegalStateException("inputs differ outside axis " + axis + ": " + Arrays.toString(first) + " vs "
              + Arrays.toString(s));
        }
      }
    }
    return out;
  }

  /** The values of an int64 tensor, from int64_data or raw little-endian data. */
  public static long[] int64s(TensorProto t) {
    return ShapeMath.int64s(t);
  }
}
