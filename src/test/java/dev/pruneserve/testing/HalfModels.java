package dev.pruneserve.testing;

import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import java.nio.FloatBuffer;

/**
 * FP16 test models: {@link #halve} is onnxconverter-common's form ({@link
 * dev.pruneserve.graph.Float16Conversion}); {@link #rounded} keeps FP32 storage with FP16 values,
 * the reference that must prune exactly like its FP16 conversion.
 */
public final class HalfModels {
  private HalfModels() {}

  public static ModelProto halve(ModelProto m) {
    return dev.pruneserve.graph.Float16Conversion.convert(m);
  }

  /** {@code m} (FP32) with every FP32 initializer rounded to the nearest FP16 value, still stored as FP32. */
  public static ModelProto rounded(ModelProto m) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getDataType() == 1) {
        FloatBuffer f = dev.pruneserve.graph.FloatTensors.values(dev.pruneserve.graph.Float16Conversion.half(t));
        float[] v = new float[f.remaining()];
        f.get(v);
        g.setInitializer(i, t.toBuilder().clearFloatData().setRawData(dev.pruneserve.graph.FloatTensors.encode(v, 1)));
      }
    }
    return m.toBuilder().setGraph(g).build();
  }
}
