package dev.pruneserve.grad;

import static dev.pruneserve.grad.Emitter.attrs;
import static dev.pruneserve.grad.Emitter.i;
import static dev.pruneserve.grad.Emitter.ints;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Vector-Jacobian products in standard ONNX ops: given the gradient of a node's first output,
 * the gradients of its inputs (null where an input needs none). Elementwise rules reduce
 * broadcasts with {@link Emitter#sumTo}; rules that need ranks read the static shapes of the
 * forward graph. An op without a rule is an error naming it.
 */
final class VjpRules {
  private final Emitter e;
  private final Map<String, long[]> shapes;

  private final java.util.function.Function<String, long[]> constants;

  /** {@code constants}: the INT64 values of a constant value (initializer or Constant), or null. */
  VjpRules(Emitter e, Map<String, long[]> shapes, java.util.function.Function<String, long[]> constants) {
    this.e = e;
    this.shapes = shapes;
    this.constants = constants;
  }

  /** Ops with a rule (Conv and BatchNormalization are in {@link ConvRules}). */
  static final Set<String> OPS = Set.of("Split", "AveragePool", "Identity", "Neg", "Add", "Sub", "Mul", "Div", "Pow",
      "Sqrt", "Exp", "Log",
      "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Softmax", "LogSoftmax", "MatMul", "Gemm", "Reshape", "Flatten",
      "Squeeze", "Unsqueeze", "Transpose", "ReduceSum", "ReduceMean", "GlobalAveragePool", "Conv",
      "BatchNormalization", "Cast", "Expand", "Where", "Concat", "Slice", "Gather", "MaxPool", "ReduceLogSumExp",
      "GatherElements", "Clip", "HardSigmoid", "HardSwish");

  /** MaxPool nodes (by first output) → the Indices output the backward graph added to them. */
  private final Map<String, String> poolIndices = new java.util.HashMap<>();

  void poolIndices(String output, String indices) {
    poolIndices.put(output, indices);
  }

  String[] vjp(NodeProto n, String gy, Set<String> needs) {
    String x = n.getInput(0);
    String y = n.getOutput(0);
    String[] g = new String[n.getInputCount()];
    switch (n.getOpType()) {
      case "Identity" -> g[0] = gy;
      case "Neg" -> g[0] = e.op("Neg", gy);
      case "Add" -> {
        g[0] = needs.contains(x) ? sumTo(gy, y, x) : null;
        g[1] = needs.contains(n.getInput(1)) ? sumTo(gy, y, n.getInput(1)) : null;
      }
      case "Sub" -> {
        g[0] = needs.contains(x) ? sumTo(gy, y, x) : null;
        g[1] = needs.contains(n.getInput(1)) ? sumTo(e.op("Neg", gy), y, n.getInput(1)) : null;
      }
      case "Mul" -> {
        g[0] = needs.contains(x) ? sumTo(e.op("Mul", gy, n.getInput(1)), y, x) : null;
        g[1] = needs.contains(n.getInput(1)) ? sumTo(e.op("Mul", gy, x), y, n.getInput(1)) : null;
      }
      case "Div" -> {
        String b = n.getInput(1);
        g[0] = needs.contains(x) ? sumTo(e.op("Div", gy, b), y, x) : null;
        g[1] = needs.contains(b) ? sumTo(e.op("Neg", e.op("Mul", gy, e.op("Div", y, b))), y, b) : null;
      }
      case "Pow" -> {
        if (needs.contains(n.getInput(1))) {
          throw new UnsupportedOperationException("Pow node " + n.getName() + ": gradient w.r.t. the exponent");
        }
        String p = e.op("Cast", attrs(i("to", 1)), n.getInput(1)); // integer exponents too
        g[0] = sumTo(e.op("Mul", gy, e.op("Mul", p, e.op("Pow", x, e.op("Sub", p, e.scalar(1f))))), y, x);
      }
      case "Sqrt" -> g[0] = e.op("Div", gy, e.op("Mul", y, e.scalar(2f)));
      case "Reciprocal" -> g[0] = e.op("Neg", e.op("Mul", gy, e.op("Mul", y, y))); // d(1/x) = −y²
      case "Exp" -> g[0] = e.op("Mul", gy, y);
      case "Log" -> g[0] = e.op("Div", gy, x);
      case "Relu" -> g[0] = e.op("Mul", gy, e.op("Cast", attrs(i("to", 1)), e.op("Greater", x, e.scalar(0f))));
      case "LeakyRelu" -> {
        float alpha = attrFloat(n, "alpha", 0.01f);
        String pos = e.op("Greater", x, e.scalar(0f));
        g[0] = e.op("Mul", gy, e.op("Where", pos, e.scalar(1f), e.scalar(alpha)));
      }
      case "Clip" -> { // pass-through strictly inside [min, max]
        String inside = null;
        if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
          inside = e.op("Greater", x, n.getInput(1));
        }
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
          String below = e.op("Less", x, n.getInput(2));
          inside = inside == null ? below : e.op("And", inside, below);
        }
        g[0] = inside == null ? gy : e.op("Mul", gy, e.op("Cast", attrs(i("to", 1)), inside));
      }
      case "HardSigmoid", "HardSwish" -> { // h = max(0, min(1, αx + β)); HardSwish = x·h with α = 1/6
        boolean swish = n.getOpType().equals("HardSwish");
        float alpha = swish ? 1f / 6 : attrFloat(n, "alpha", 0.2f);
        float beta = swish ? 0.5f : attrFloat(n, "beta", 0.5f);
        String lin = e.op("Add", e.op("Mul", x, e.scalar(alpha)), e.scalar(beta));
        String inside = e.op("Cast", attrs(i("to", 1)), e.op("And", e.op("Greater", lin, e.scalar(0f)),
            e.op("Less", lin, e.scalar(1f))));
        String dh = e.op("Mul", inside, e.scalar(alpha));
        String d = swish ? e.op("Add", e.op("Clip", lin, e.scalar(0f), e.scalar(1f)), e.op("Mul", x, dh)) : dh;
        g[0] = e.op("Mul", gy, d);
      }
      case "Sigmoid" -> g[0] = e.op("Mul", gy, e.op("Mul", y, e.op("Sub", e.scalar(1f), y)));
      case "Tanh" -> g[0] = e.op("Mul", gy, e.op("Sub", e.scalar(1f), e.op("Mul", y, y)));
      case "Erf" -> g[0] = e.op("Mul", gy, e.op("Mul", e.scalar((float) (2 / Math.sqrt(Math.PI))),
          e.op("Exp", e.op("Neg", e.op("Mul", x, x)))));
      case "Softmax" -> {
        long axis = attrInt(n, "axis", -1);
        String dot = e.op("ReduceSum", attrs(i("keepdims", 1)), e.op("Mul", gy, y), e.int64s(axis));
        g[0] = e.op("Mul", y, e.op("Sub", gy, dot));
      }
      case "LogSoftmax" -> {
        long axis = attrInt(n, "axis", -1);
        String sum = e.op("ReduceSum", attrs(i("keepdims", 1)), gy, e.int64s(axis));
        g[0] = e.op("Sub", gy, e.op("Mul", e.op("Exp", y), sum));
      }
      case "MatMul" -> matMul(n, gy, needs, g);
      case "Gemm" -> gemm(n, gy, needs, g);
      case "Reshape", "Flatten", "Squeeze", "Unsqueeze" -> g[0] = e.op("Reshape", gy, e.op("Shape", x));
      case "Transpose" -> g[0] = e.op("Transpose", attrs(ints("perm", inverse(n, rank(x)))), gy);
      case "ReduceSum", "ReduceMean" -> g[0] = reduce(n, gy);
      case "ReduceLogSumExp" -> { // ∂/∂x = gy · exp(x − y): the softmax over the reduced axes
        String yk = keptDims(n, y);
        g[0] = e.op("Mul", e.op("Expand", keptDims(n, gy), e.op("Shape", x)), e.op("Exp", e.op("Sub", x, yk)));
      }
      case "GatherElements" -> {
        String zeros = e.op("Mul", e.onesLike(x), e.scalar(0f));
        g[0] = e.op("ScatterElements", attrs(i("axis", attrInt(n, "axis", 0)),
            ModelBuilder.stringAttr("reduction", "add")), zeros, n.getInput(1), gy);
      }
      case "GlobalAveragePool" -> g[0] = e.op("Div", e.op("Expand", gy, e.op("Shape", x)), count(x, y));
      case "Cast" -> g[0] = e.op("Cast", attrs(i("to", 1)), gy); // differentiable inputs are FP32
      case "Expand" -> g[0] = sumTo(gy, y, x);
      case "Where" -> {
        String zero = e.scalar(0f);
        g[1] = needs.contains(n.getInput(1)) ? sumTo(e.op("Where", x, gy, zero), y, n.getInput(1)) : null;
        g[2] = needs.contains(n.getInput(2)) ? sumTo(e.op("Where", x, zero, gy), y, n.getInput(2)) : null;
      }
      case "Concat" -> concat(n, gy, needs, g);
      case "Slice" -> g[0] = slice(n, gy);
      case "Gather" -> g[0] = gather(n, gy);
      case "MaxPool" -> { // scatter-add gy to the argmax positions (Indices index the flattened input)
        String idx = poolIndices.get(y);
        String zeros = e.op("Mul", e.onesLike(x), e.scalar(0f));
        String flat = e.int64s(-1);
        String scattered = e.op("ScatterElements", attrs(i("axis", 0), ModelBuilder.stringAttr("reduction", "add")),
            e.op("Reshape", zeros, flat), e.op("Reshape", idx, flat), e.op("Reshape", gy, flat));
        g[0] = e.op("Reshape", scattered, e.op("Shape", x));
      }
      case "Conv" -> new ConvRules(e, shapes).conv(n, gy, needs, g);
      case "BatchNormalization" -> new ConvRules(e, shapes).batchNorm(n, gy, needs, g);
      case "AveragePool" -> new ConvRules(e, shapes).averagePool(n, gy, g);
      default -> throw new UnsupportedOperationException("no gradient rule for op " + n.getOpType() + " (node "
          + n.getName() + "); supported: " + new java.util.TreeSet<>(OPS));
    }
    return g;
  }

  /** Y = A·B with numpy broadcasting: gA = gY·Bᵀ, gB = Aᵀ·gY, each summed back to its operand. */
  private void matMul(NodeProto n, String gy, Set<String> needs, String[] g) {
    String a = n.getInput(0);
    String b = n.getInput(1);
    int ra = rank(a);
    int rb = rank(b);
    if (ra < 2 || rb < 2) {
      throw new UnsupportedOperationException("MatMul node " + n.getName() + ": 1-D operands");
    }
    long[] ys = shapes.get(n.getOutput(0));
    if (needs.contains(a)) { // gY·Bᵀ has y's batch dims and a's matrix dims
      g[0] = e.sumTo(e.op("MatMul", gy, e.swapLast(b, rb)), withLast2(ys, shapes.get(a)), a, shapes.get(a));
    }
    if (needs.contains(b)) {
      g[1] = e.sumTo(e.op("MatMul", e.swapLast(a, ra), gy), withLast2(ys, shapes.get(b)), b, shapes.get(b));
    }
  }

  /** Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A (likewise B'). */
  private void gemm(NodeProto n, String gy, Set<String> needs, String[] g) {
    float alpha = attrFloat(n, "alpha", 1f);
    float beta = attrFloat(n, "beta", 1f);
    long ta = attrInt(n, "transA", 0);
    long tb = attrInt(n, "transB", 0);
    String a = n.getInput(0);
    String b = n.getInput(1);
    AttributeProto al = ModelBuilder.floatAttr("alpha", alpha);
    if (needs.contains(a)) { // gA' = α·gY·B'ᵀ
      g[0] = ta == 0 ? e.op("Gemm", attrs(al, i("transB", 1 - tb)), gy, b)
          : e.op("Gemm", attrs(al, i("transA", tb), i("transB", 1)), b, gy);
    }
    if (needs.contains(b)) { // gB' = α·A'ᵀ·gY
      g[1] = tb == 0 ? e.op("Gemm", attrs(al, i("transA", 1 - ta)), a, gy)
          : e.op("Gemm", attrs(al, i("transA", 1), i("transB", ta)), gy, a);
    }
    if (n.getInputCount() > 2 && needs.contains(n.getInput(2))) {
      g[2] = sumTo(e.op("Mul", gy, e.scalar(beta)), n.getOutput(0), n.getInput(2));
    }
  }

  /** Reductions: the gradient is broadcast back (divided by the reduced count for a mean). */
  private String reduce(NodeProto n, String gy) {
    String x = n.getInput(0);
    String out = e.op("Expand", keptDims(n, gy), e.op("Shape", x));
    return n.getOpType().equals("ReduceMean") ? e.op("Div", out, count(x, n.getOutput(0))) : out;
  }

  /** A reduction's output-shaped value with the reduced axes back as size 1 (as with keepdims = 1). */
  private String keptDims(NodeProto n, String v) {
    boolean keep = attrInt(n, "keepdims", 1) == 1;
    String axes = n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? n.getInput(1) : null;
    if (axes == null && n.getAttributeList().stream().anyMatch(a -> a.getName().equals("axes"))) {
      axes = e.int64s(n.getAttributeList().stream().filter(a -> a.getName().equals("axes")).findFirst().get()
          .getIntsList().stream().mapToLong(Long::longValue).toArray());
    }
    return keep || axes == null ? v : e.op("Unsqueeze", v, axes);
  }

  /** Concat: each input gets its slice of gy (offsets static, or from run-time shapes when unknown). */
  private void concat(NodeProto n, String gy, Set<String> needs, String[] g) {
    long axis = attrInt(n, "axis", 0);
    int rank = rank(n.getInput(0));
    int ax = (int) (axis < 0 ? axis + rank : axis);
    boolean known = n.getInputList().stream().allMatch(v -> shapes.get(v) != null && shapes.get(v)[ax] >= 0);
    long start = 0;
    String startAt = e.int64s(0); // run-time offset
    for (int k = 0; k < n.getInputCount(); k++) {
      String x = n.getInput(k);
      if (known) {
        long end = start + shapes.get(x)[ax];
        if (needs.contains(x)) {
          g[k] = e.op("Slice", gy, e.int64s(start), e.int64s(end), e.int64s(ax));
        }
        start = end;
      } else {
        String endAt = e.op("Add", startAt, e.op("Gather", e.op("Shape", x), e.int64s(ax)));
        if (needs.contains(x)) {
          g[k] = e.op("Slice", gy, startAt, endAt, e.int64s(ax));
        }
        startAt = endAt;
      }
    }
  }

  /** Slice with constant starts/ends/axes and unit steps: gy zero-padded back to x's shape. */
  private String slice(NodeProto n, String gy) {
    long[] xs = shapes.get(n.getInput(0));
    long[] starts = constant(n, 1);
    long[] ends = constant(n, 2);
    long[] axes = n.getInputCount() > 3 && !n.getInput(3).isEmpty() ? constant(n, 3) : null;
    long[] steps = n.getInputCount() > 4 && !n.getInput(4).isEmpty() ? constant(n, 4) : null;
    if (xs == null || starts == null || ends == null
        || (steps != null && java.util.Arrays.stream(steps).anyMatch(st -> st != 1))) {
      throw new UnsupportedOperationException("Slice node " + n.getName() + ": needs the input's rank, constant"
          + " starts/ends/axes and unit steps");
    }
    if (java.util.Arrays.stream(xs).anyMatch(d -> d < 0)) {
      return sliceAtRunTime(n.getInput(0), xs.length, gy, starts, ends, axes);
    }
    long[] pads = new long[2 * xs.length];
    for (int k = 0; k < starts.length; k++) {
      int ax = (int) (axes == null ? k : axes[k] < 0 ? axes[k] + xs.length : axes[k]);
      long b = Math.min(Math.max(starts[k] < 0 ? starts[k] + xs[ax] : starts[k], 0), xs[ax]);
      long en = Math.min(Math.max(ends[k] < 0 ? ends[k] + xs[ax] : ends[k], 0), xs[ax]);
      pads[ax] = b;
      pads[ax + xs.length] = xs[ax] - Math.max(en, b);
    }
    return e.op("Pad", gy, e.int64s(pads));
  }

  /** Slice gradient with the input's dimensions read at run time: pads computed in the graph. */
  private String sliceAtRunTime(String x, int rank, String gy, long[] starts, long[] ends, long[] axes) {
    long[] ax = new long[starts.length];
    long[] at = new long[2 * starts.length]; // positions of begin and end pads in [2·rank]
    for (int k = 0; k < ax.length; k++) {
      ax[k] = axes == null ? k : axes[k] < 0 ? axes[k] + rank : axes[k];
      at[k] = ax[k];
      at[k + ax.length] = ax[k] + rank;
    }
    String dims = e.op("Gather", e.op("Shape", x), e.int64s(ax));
    String zero = e.int64s(0);
    String b = clampIndex(e.int64s(starts), dims, zero);
    String en = e.op("Max", clampIndex(e.int64s(ends), dims, zero), b);
    String values = e.op("Concat", attrs(i("axis", 0)), b, e.op("Sub", dims, en));
    String zeros = e.int64s(new long[2 * rank]);
    String pads = e.op("ScatterElements", attrs(i("axis", 0)), zeros, e.int64s(at), values);
    return e.op("Pad", gy, pads);
  }

  /** Slice index semantics: negative counts from the end, then clamped to [0, dim]. */
  private String clampIndex(String idx, String dims, String zero) {
    String wrapped = e.op("Where", e.op("Less", idx, zero), e.op("Add", idx, dims), idx);
    return e.op("Max", e.op("Min", wrapped, dims), zero);
  }

  /** Gather on axis 0 (embeddings): scatter-add gy rows into zeros shaped like the data. */
  private String gather(NodeProto n, String gy) {
    if (attrInt(n, "axis", 0) != 0) {
      throw new UnsupportedOperationException("Gather node " + n.getName() + ": gradient for axis != 0");
    }
    String data = n.getInput(0);
    String zeros = e.op("Mul", e.onesLike(data), e.scalar(0f));
    String idx = e.op("Unsqueeze", e.op("Cast", attrs(i("to", 7)), n.getInput(1)), e.int64s(-1));
    return e.op("ScatterND", attrs(ModelBuilder.stringAttr("reduction", "add")), zeros, idx, gy);
  }

  private long[] constant(NodeProto n, int input) {
    return constants.apply(n.getInput(input));
  }

  /** Gradient shaped like value {@code like}, summed back to operand {@code a}. */
  private String sumTo(String grad, String like, String a) {
    return e.sumTo(grad, shapes.get(like), a, shapes.get(a));
  }

  private static long[] withLast2(long[] y, long[] operand) {
    if (y == null || operand == null) {
      return null;
    }
    long[] s = y.clone();
    s[s.length - 2] = operand[operand.length - 2];
    s[s.length - 1] = operand[operand.length - 1];
    return s;
  }

  /** Elements of x per element of y, as a float scalar. */
  private String count(String x, String y) {
    return e.op("Cast", attrs(i("to", 1)), e.op("Div", e.op("Size", x), e.op("Size", y)));
  }

  int rank(String v) {
    long[] s = shapes.get(v);
    if (s == null) {
      throw new UnsupportedOperationException("the rank of '" + v + "' is not known statically");
    }
    return s.length;
  }

  private static long[] inverse(NodeProto n, int rank) {
    long[] perm = n.getAttributeList().stream().filter(a -> a.getName().equals("perm")).findFirst()
        .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).orElse(null);
    long[] inv = new long[rank];
    for (int k = 0; k < rank; k++) {
      int p = perm == null ? rank - 1 - k : (int) perm[k];
      inv[p] = k;
    }
    return inv;
  }

  /** Split: the input gradient is the Concat of the outputs' gradients (zeros for outputs without one). */
  String split(NodeProto n, List<String> outputGrads) {
    String[] parts = new String[n.getOutputCount()];
    for (int o = 0; o < parts.length; o++) {
      parts[o] = outputGrads.get(o) != null ? outputGrads.get(o)
          : e.op("Mul", e.onesLike(n.getOutput(o)), e.scalar(0f));
    }
    return e.op("Concat", attrs(i("axis", attrInt(n, "axis", 0))), parts);
  }

  static long attrInt(NodeProto n, String name, long dflt) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst().map(AttributeProto::getI)
        .orElse(dflt);
  }

  static float attrFloat(NodeProto n, String name, float dflt) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst().map(AttributeProto::getF)
        .orElse(dflt);
  }
}
