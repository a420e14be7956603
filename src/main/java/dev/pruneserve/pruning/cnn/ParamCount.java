package dev.pruneserve.pruning.cnn;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;

/**
 * Size of a model's weights: {@code parameters} = elements of all FP32 initializers; {@code bytes}
 * = payload bytes of all initializers (raw data plus typed fields).
 */
public record ParamCount(long parameters, long bytes) {
  public static ParamCount of(ModelProto model) {
    long params = 0;
    long bytes = 0;
    for (TensorProto t : model.getGraph().getInitializerList()) {
      if (dev.pruneserve.graph.FloatTensors.isFloat(t.getDataType())) {
        params += t.getDimsList().stream().reduce(1L, (a, b) -> a * b);
      }
      bytes += t.getRawData().size() + 4L * t.getFloatDataCount() + 8L * t.getInt64DataCount()
          + 4L * t.getInt32DataCount() + 8L * t.getDoubleDataCount();
    }
    return new ParamCount(params, bytes);
  }
}
