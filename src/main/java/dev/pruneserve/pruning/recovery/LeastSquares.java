package dev.pruneserve.pruning.recovery;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.graph.Reductions;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import dev.pruneserve.repository.ModelFileWriter;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import dev.pruneserve.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The normal equations of one re-fit, accumulated over calibration batches: for input rows Z [T,
 * n] and target rows Y [T, d], ZᵀZ, ZᵀY, Σz, Σy and T, computed in ONNX Runtime by a small model
 * (one session per reconstruction, {@link #open}) and summed in double in Java; {@link #solve}
 * fits {@code [W; c] = argmin ‖Z·W + c − Y‖² + λ‖W‖²} with λ relative to the mean diagonal of ZᵀZ.
 * Not thread-safe.
 */
final class LeastSquares {
  private final int n;
  private final int d;
  private final double[] zz;
  private final double[] zy;
  private final double[] sz;
  private final double[] sy;
  private long rows;

  LeastSquares(int n, int d) {
    this.n = n;
    this.d = d;
    zz = new double[n * n];
    zy = new double[n * d];
    sz = new double[n];
    sy = new double[d];
  }

  /** The session computing the products; {@code file} is removed once it is loaded. */
  static ModelSession open(SessionLoader loader, Path file) throws IOException {
    GraphProto.Builder g = GraphProto.newBuilder().setName("normal-equations");
    g.addInput(ModelBuilder.valueInfo("z", 1, "rows", "n")).addInput(ModelBuilder.valueInfo("y", 1, "rows", "d"));
    g.addNode(node("Transpose", "zt", "z"));
    g.addNode(node("MatMul", "zz", "zt", "z"));
    g.addNode(node("MatMul", "zy", "zt", "y"));
    g.addNode(Reductions.reduce("ReduceSum", "z", "sz", new long[] {0}, false, ModelBuilder.OPSET, g));
    g.addNode(Reductions.reduce("ReduceSum", "y", "sy", new long[] {0}, false, ModelBuilder.OPSET, g));
    for (String o : new String[] {"zz", "zy", "sz", "sy"}) {
      g.addOutput(ValueInfoProto.newBuilder().setName(o));
    }
    ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(
        dev.pruneserve.onnx.proto.Onnx.OperatorSetIdProto.newBuilder().setVersion(ModelBuilder.OPSET)).setGraph(g)
        .build();
    ModelFileWriter.write(m, file, false);
    try {
      return loader.load("reconstruction-normal-equations/1", file);
    } finally {
      ModelFileWriter.delete(file);
    }
  }

  private static NodeProto node(String op, String out, String... in) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(out).addOutput(out);
    for (String i : in) {
      b.addInput(i);
    }
    return b.build();
  }

  /** Adds one batch: {@code z} [T, n] and {@code y} [T, d], row t of each for the same sample. */
  void add(ModelSession products, Tensor z, Tensor y) {
    if (z.shape()[0] != y.shape()[0] || z.shape()[1] != n || y.shape()[1] != d) {
      throw new IllegalStateException("rows " + java.util.Arrays.toString(z.shape()) + " and " + java.util.Arrays
          .toString(y.shape()) + " do not pair as [T, " + n + "] and [T, " + d + "]");
    }
    Map<String, Tensor> r = products.run(Map.of("z", rename(z, "z"), "y", rename(y, "y")), Set.of("zz", "zy", "sz",
        "sy"));
    add(zz, r.get("zz").toFloatArray());
    add(zy, r.get("zy").toFloatArray());
    add(sz, r.get("sz").toFloatArray());
    add(sy, r.get("sy").toFloatArray());
    rows += z.shape()[0];
  }

  private static Tensor rename(Tensor t, String name) {
    return new Tensor(name, t.type(), t.shape(), t.data(), t.strings());
  }

  private static void add(double[] into, float[] v) {
    for (int i = 0; i < v.length; i++) {
      into[i] += v[i];
    }
  }

  long rows() {
    return rows;
  }

  /** Whether there are at least twice as many rows as unknowns per output (else the fit memorises). */
  boolean determined() {
    return rows >= 2L * (n + 1);
  }

  /** [W; c] as [(n + 1), d] row-major: n weight rows, then the intercept. */
  double[] solve(double lambda) {
    int m = n + 1;
    double[] a = new double[m * m];
    double diag = 0;
    for (int i = 0; i < n; i++) {
      System.arraycopy(zz, i * n, a, i * m, n);
      a[i * m + n] = sz[i];
      a[n * m + i] = sz[i];
      diag += zz[i * n + i] / n;
    }
    a[n * m + n] = rows;
    double[] b = new double[m * d];
    System.arraycopy(zy, 0, b, 0, n * d);
    System.arraycopy(sy, 0, b, n * d, d);
    return Ridge.solve(a, b, m, d, lambda * diag, n);
  }
}
