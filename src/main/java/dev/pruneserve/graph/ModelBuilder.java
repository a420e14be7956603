package dev.pruneserve.graph;

import com.google.protobuf.ByteString;
import dev.pruneserve.onnx.proto.Onnx.AttributeProto;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.NodeProto;
import dev.pruneserve.onnx.proto.Onnx.OperatorSetIdProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.onnx.proto.Onnx.TensorShapeProto;
import dev.pruneserve.onnx.proto.Onnx.TypeProto;
import dev.pruneserve.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Builds small ONNX models in code (demo models, test fixtures, benchmarks). Not thread-safe.
 * Dimensions are given as {@code Object}s: a {@code Long}/{@code Integer} is fixed, a {@code String}
 * is a symbolic (dynamic) dimension.
 */
public final class ModelBuilder {
  public static final int OPSET = 17;
  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final java.util.Map<String, String> metadata = new java.util.LinkedHashMap<>();
  private int nodeCount;

  public ModelBuilder(String name) {
    graph.setName(name);
  }

  public ModelBuilder input(String name, int elemType, Object... dims) {
    graph.addInput(valueInfo(name, elemType, dims));
    return this;
  }

  public ModelBuilder output(String name, int elemType, Object... dims) {
    graph.addOutput(valueInfo(name, elemType, dims));
    return this;
  }

  /** Adds an FP32 initializer of the given dims holding {@code values} (row-major). */
  public ModelBuilder initializer(String name, float[] values, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(1)
        .addAllDims(java.util.Arrays.stream(dims).boxed().toList())
        .setRawData(ByteString.copyFrom(b.array())));
    return this;
  }

  /** Adds an INT64 initializer (shapes, axes). */
  public ModelBuilder initializer(String name, long[] values, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7);
    java.util.Arrays.stream(dims).forEach(t::addDims);
    java.util.Arrays.stream(values).forEach(t::addInt64Data);
    graph.addInitializer(t);
    return this;
  }

  public ModelBuilder node(String op, String[] inputs, String[] outputs, AttributeProto... attrs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + nodeCount++);
    for (String i : inputs) {
      n.addInput(i);
    }
    for (String o : outputs) {
      n.addOutput(o);
    }
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    graph.addNode(n);
    return this;
  }

  public static AttributeProto intAttr(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  public static AttributeProto intsAttr(String name, long... values) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  public static AttributeProto stringAttr(String name, String value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
        .setS(com.google.protobuf.ByteString.copyFromUtf8(value)).build();
  }

  public static AttributeProto floatAttr(String name, float value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
  }

  public static AttributeProto tensorAttr(String name, TensorProto value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(value).build();
  }

  /** Adds an initializer given as a complete tensor (name set by the caller). */
  public ModelBuilder initializer(TensorProto tensor) {
    graph.addInitializer(tensor);
    return this;
  }

  public ModelBuilder metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  public ModelProto build() {
    ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(8).setProducerName("pruneserve")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setGraph(graph);
    metadata.forEach((k, v) -> m.addMetadataProps(
        dev.pruneserve.onnx.proto.Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    return m.build();
  }

  /** Uniform values in [-scale, scale), reproducible from {@code seed}. */
  public static float[] uniform(SplittableRandom rng, int n, double scale) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
    }
    return out;
  }

  /**
   * A ReLU MLP {@code x[batch, widths[0]] -> y[batch, widths[last]]} with MatMul+Add layers and
   * uniform Kaiming-scaled weights from {@code seed}; no activation after the last layer.
   */
  public static ModelProto mlp(String name, long seed, int... widths) {
    SplittableRandom rng = new SplittableRandom(seed);
    ModelBuilder b = new ModelBuilder(name).input("x", 1, "batch", (long) widths[0]);
    String cur = "x";
    for (int l = 0; l + 1 < widths.length; l++) {
      int in = widths[l];
      int out = widths[l + 1];
      String w = "layers." + l + ".weight";
      String bias = "layers." + l + ".bias";
      b.initializer(w, uniform(rng, in * out, Math.sqrt(6.0 / in)), in, out);
      b.initializer(bias, uniform(rng, out, 0.1), out);
      boolean last = l + 2 == widths.length;
      String mm = "h" + l + ".mm";
      String add = last ? "y" : "h" + l + ".pre";
      b.node("MatMul", new String[] {cur, w}, new String[] {mm});
      b.node("Add", new String[] {mm, bias}, new String[] {add});
      if (!last) {
        b.node("Relu", new String[] {add}, new String[] {"h" + l});
        cur = "h" + l;
      }
    }
    return b.output("y", 1, "batch", (long) widths[widths.length - 1]).build();
  }

  public static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String s) {
        dim.setDimParam(s);
      } else {
        dim.setDimValue(((Number) d).longValue());
      }
      shape.addDim(dim);
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
        .build();
  }
}
