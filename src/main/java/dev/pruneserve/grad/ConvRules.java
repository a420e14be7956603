package dev.pruneserve.grad;

import static dev.pruneserve.grad.Emitter.attrs;
import static dev.pruneserve.grad.Emitter.i;
import static dev.pruneserve.grad.Emitter.ints;

import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import java.util.Map;
import java.util.Set;

/**
 * Gradients of Conv (any groups, strides, pads, dilations; N-d spatial) and of inference-form
 * BatchNormalization (algorithms.md §3.8 table). Conv input gradient: ConvTranspose with the same
 * weights and an output_padding that restores the input size; weight gradient: a Conv of the
 * channel-as-batch input with the channel-as-batch output gradient as kernel (forward strides and
 * dilations swap roles), cropped to the kernel size, the group diagonal kept. Needs static shapes.
 */
final class ConvRules {
  private final Emitter e;
  private final Map<String, long[]> shapes;

  ConvRules(Emitter e, Map<String, long[]> shapes) {
    this.e = e;
    this.shapes = shapes;
  }

  void conv(NodeProto n, String gy, Set<String> needs, String[] g) {
    String x = n.getInput(0);
    String w = n.getInput(1);
    long[] xs = shape(x, n);
    long[] ys = shape(n.getOutput(0), n);
    long[] ws = shape(w, n);
    int sp = xs.length - 2;
    long group = VjpRules.attrInt(n, "group", 1);
    long[] strides = attrInts(n, "strides", sp, 1);
    long[] dil = attrInts(n, "dilations", sp, 1);
    long[] pads = pads(n, xs, ys, ws, strides, dil);
    if (needs.contains(x)) {
      long[] outPad = new long[sp];
      for (int d = 0; d < sp; d++) {
        long made = (ys[d + 2] - 1) * strides[d] + (ws[d + 2] - 1) * dil[d] + 1 - pads[d] - pads[d + sp];
        outPad[d] = xs[d + 2] - made;
      }
      g[0] = e.op("ConvTranspose", attrs(i("group", group), ints("strides", strides), ints("dilations", dil),
          ints("pads", pads), ints("output_padding", outPad)), gy, w);
    }
    if (needs.contains(w)) {
      g[1] = weightGrad(x, gy, xs, ws, group, strides, dil, pads);
    }
    if (n.getInputCount() > 2 && needs.contains(n.getInput(2))) {
      g[2] = e.op("ReduceSum", attrs(i("keepdims", 0)), gy, e.int64s(nonChannelAxes(xs.length)));
    }
  }

  /**
   * AveragePool (2-D, floor mode): each output gradient divided by its window's divisor (kh·kw, or
   * the window's in-bounds count when count_include_pad = 0) and spread back over the window by a
   * ConvTranspose with a ones kernel, channels folded into the batch.
   */
  void averagePool(NodeProto n, String gy, String[] g) {
    String x = n.getInput(0);
    long[] xs = shape(x, n);
    long[] ys = shape(n.getOutput(0), n);
    long[] k = attrInts(n, "kernel_shape", 2, 1);
    if (xs.length != 4 || VjpRules.attrInt(n, "ceil_mode", 0) != 0) {
      throw new UnsupportedOperationException("AveragePool node " + n.getName() + ": gradients need a 2-D pool"
          + " with ceil_mode 0");
    }
    long[] strides = attrInts(n, "strides", 2, 1);
    long[] pads = pads(n, xs, ys, k, strides, new long[] {1, 1});
    String div;
    if (VjpRules.attrInt(n, "count_include_pad", 0) == 1 || java.util.Arrays.stream(pads).allMatch(p -> p == 0)) {
      div = e.scalar(k[0] * k[1]);
    } else { // in-bounds count per window = AveragePool(ones, counting pads) · kh·kw
      div = e.op("Mul", e.op("AveragePool", attrs(ints("kernel_shape", k), ints("strides", strides),
          ints("pads", pads), i("count_include_pad", 1)), e.onesLike(x)), e.scalar(k[0] * k[1]));
    }
    String folded = e.op("Reshape", e.op("Div", gy, div), e.int64s(-1, 1, ys[2], ys[3]));
    long[] outPad = new long[2];
    for (int d = 0; d < 2; d++) {
      outPad[d] = xs[d + 2] - ((ys[d + 2] - 1) * strides[d] + k[d] - pads[d] - pads[d + 2]);
    }
    float[] ones = new float[(int) (k[0] * k[1])];
    java.util.Arrays.fill(ones, 1f);
    String spread = e.op("ConvTranspose", attrs(ints("strides", strides), ints("pads", pads),
        ints("output_padding", outPad)), folded, e.floats(ones, new long[] {1, 1, k[0], k[1]}));
    g[0] = e.op("Reshape", spread, e.op("Shape", x));
  }

  private String weightGrad(String x, String gy, long[] xs, long[] ws, long group, long[] strides, long[] dil,
      long[] pads) {
    int r = xs.length;
    int sp = r - 2;
    long[] swap = new long[r]; // [N, C, ...] <-> [C, N, ...]
    for (int k = 0; k < r; k++) {
      swap[k] = k < 2 ? 1 - k : k;
    }
    String xt = e.op("Transpose", attrs(ints("perm", swap)), x);
    String gt = e.op("Transpose", attrs(ints("perm", swap)), gy);
    String full = e.op("Conv", attrs(ints("strides", dil), ints("dilations", strides), ints("pads", pads)), xt, gt);
    long[] axes = new long[sp];
    long[] starts = new long[sp];
    long[] ends = new long[sp];
    for (int d = 0; d < sp; d++) {
      axes[d] = d + 2;
      ends[d] = ws[d + 2];
    }
    String r4 = e.op("Slice", full, e.int64s(starts), e.int64s(ends), e.int64s(axes)); // [C, O, k...]
    if (group == 1) {
      return e.op("Transpose", attrs(ints("perm", swap)), r4);
    }
    long c = xs[1];
    long o = ws[0];
    long[] split = new long[4 + sp]; // [g, C/g, g, O/g, k...]
    split[0] = group;
    split[1] = c / group;
    split[2] = group;
    split[3] = o / group;
    for (int d = 0; d < sp; d++) {
      split[4 + d] = ws[d + 2];
    }
    float[] eye = new float[(int) (group * group)];
    for (int k = 0; k < group; k++) {
      eye[(int) (k * group + k)] = 1f;
    }
    long[] eyeShape = new long[4 + sp];
    java.util.Arrays.fill(eyeShape, 1);
    eyeShape[0] = group;
    eyeShape[2] = group;
    String diag = e.op("ReduceSum", attrs(i("keepdims", 0)), e.op("Mul", e.op("Reshape", r4, e.int64s(split)),
        e.floats(eye, eyeShape)), e.int64s(2)); // [g, C/g, O/g, k...]
    long[] perm = new long[3 + sp];
    perm[0] = 0;
    perm[1] = 2;
    perm[2] = 1;
    for (int d = 0; d < sp; d++) {
      perm[3 + d] = 3 + d;
    }
    return e.op("Reshape", e.op("Transpose", attrs(ints("perm", perm)), diag), e.int64s(ws));
  }

  /** y = scale·(x − mean)/sqrt(var + ε) + B per channel (axis 1), inference form. */
  void batchNorm(NodeProto n, String gy, Set<String> needs, String[] g) {
    if (VjpRules.attrInt(n, "training_mode", 0) != 0 || n.getOutputCount() > 1) {
      throw new UnsupportedOperationException("BatchNormalization node " + n.getName() + ": training mode");
    }
    String x = n.getInput(0);
    int r = shape(x, n).length;
    if (needs.contains(n.getInput(3)) || needs.contains(n.getInput(4))) {
      throw new UnsupportedOperationException("BatchNormalization node " + n.getName()
          + ": gradient w.r.t. running mean/variance");
    }
    float eps = VjpRules.attrFloat(n, "epsilon", 1e-5f);
    String inv = e.op("Reciprocal", e.op("Sqrt", e.op("Add", n.getInput(4), e.scalar(eps))));
    if (needs.contains(x)) {
      g[0] = e.op("Mul", gy, perChannel(e.op("Mul", n.getInput(1), inv), r));
    }
    String axes = e.int64s(nonChannelAxes(r));
    if (needs.contains(n.getInput(1))) {
      String xhat = e.op("Mul", e.op("Sub", x, perChannel(n.getInput(3), r)), perChannel(inv, r));
      g[1] = e.op("ReduceSum", attrs(i("keepdims", 0)), e.op("Mul", gy, xhat), axes);
    }
    if (needs.contains(n.getInput(2))) {
      g[2] = e.op("ReduceSum", attrs(i("keepdims", 0)), gy, axes);
    }
  }

  /** A [C] vector shaped to broadcast over axis 1 of a rank-r tensor: [C, 1, ...]. */
  private String perChannel(String v, int r) {
    if (r <= 2) {
      return v;
    }
    long[] axes = new long[r - 2];
    for (int k = 0; k < axes.length; k++) {
      axes[k] = k + 1;
    }
    return e.op("Unsqueeze", v, e.int64s(axes));
  }

  private static long[] nonChannelAxes(int r) {
    long[] axes = new long[r - 1];
    axes[0] = 0;
    for (int k = 2; k < r; k++) {
      axes[k - 1] = k;
    }
    return axes;
  }

  /** Explicit pads [begin..., end...]; auto_pad SAME_* resolved from the static shapes. */
  private static long[] pads(NodeProto n, long[] xs, long[] ys, long[] ws, long[] strides, long[] dil) {
    int sp = xs.length - 2;
    if (ws.length == sp) { // a pool's kernel_shape: as a weight shape [1, 1, k...]
      long[] w = new long[sp + 2];
      System.arraycopy(ws, 0, w, 2, sp);
      ws = w;
    }
    String auto = n.getAttributeList().stream().filter(a -> a.getName().equals("auto_pad")).findFirst()
        .map(a -> a.getS().toStringUtf8()).orElse("NOTSET");
    if (auto.equals("NOTSET")) {
      return attrInts(n, "pads", 2 * sp, 0);
    }
    long[] p = new long[2 * sp];
    if (auto.startsWith("SAME")) {
      for (int d = 0; d < sp; d++) {
        long total = Math.max(0, (ys[d + 2] - 1) * strides[d] + (ws[d + 2] - 1) * dil[d] + 1 - xs[d + 2]);
        long small = total / 2;
        p[d] = auto.equals("SAME_UPPER") ? small : total - small;
        p[d + sp] = total - p[d];
      }
    }
    return p;
  }

  private static long[] attrInts(NodeProto n, String name, int count, long dflt) {
    long[] v = n.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst()
        .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).orElse(null);
    if (v == null || v.length == 0) {
      v = new long[count];
      java.util.Arrays.fill(v, dflt);
    }
    return v;
  }

  private long[] shape(String v, NodeProto n) {
    long[] s = shapes.get(v);
    if (s == null || java.util.Arrays.stream(s, 1, s.length).anyMatch(d -> d < 0)) { // batch may be dynamic
      throw new UnsupportedOperationException(n.getOpType() + " node " + n.getName() + ": the shape of '" + v
          + "' is not known statically");
    }
    return s;
  }
}
