package dev.pruneserve.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.RawTensors;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** KServe v2 tensor encoding (raw little-endian blobs or typed contents) to and from {@link Tensor}. */
final class TensorWire {
  private TensorWire() {}

  static List<Tensor> inputs(ModelInferRequest req) {
    int raw = req.getRawInputContentsCount();
    if (raw > 0) {
      for (ModelInferRequest.InferInputTensor in : req.getInputsList()) {
        if (in.hasContents()) {
          throw ServingException.invalid("input '" + in.getName()
              + "' sets contents while the request uses raw_input_contents; use one or the other");
        }
      }
      if (raw != req.getInputsCount()) {
        throw ServingException.invalid("raw_input_contents has " + raw + " entries for "
            + req.getInputsCount() + " inputs; give exactly one per input, in input order");
      }
    }
    List<Tensor> out = new ArrayList<>(req.getInputsCount());
    for (int i = 0; i < req.getInputsCount(); i++) {
      ModelInferRequest.InferInputTensor in = req.getInputs(i);
      DataType type = DataType.fromWireName(in.getDatatype()).orElseThrow(() -> ServingException.invalid(
          "input '" + in.getName() + "': unknown datatype '" + in.getDatatype() + "'; expected one of "
              + Arrays.stream(DataType.values()).map(DataType::wireName).toList()));
      long[] shape = shape(in);
      out.add(raw > 0 ? RawTensors.decode(in.getName(), type, shape, req.getRawInputContents(i).asReadOnlyByteBuffer())
          : TypedContents.decode(in.getName(), type, shape, in.hasContents() ? in.getContents() : null));
    }
    return out;
  }

  /** Adds {@code t} to the response as metadata plus one raw blob. */
  static void addOutput(ModelInferResponse.Builder resp, Tensor t) {
    ModelInferResponse.InferOutputTensor.Builder meta = ModelInferResponse.InferOutputTensor.newBuilder()
        .setName(t.name()).setDatatype(t.type().wireName());
    for (long d : t.shape()) {
      meta.addShape(d);
    }
    resp.addOutputs(meta);
    resp.addRawOutputContents(t.type() == DataType.BYTES
        ? UnsafeByteOperations.unsafeWrap(RawTensors.encodeStrings(t.strings())) : wrap(t.dataView()));
  }

  /** Zero-copy for array-backed data (what the runtime returns): serialises as a flat byte[]. */
  private static ByteString wrap(ByteBuffer data) {
    return data.hasArray()
        ? UnsafeByteOperations.unsafeWrap(data.array(), data.arrayOffset() + data.position(), data.remaining())
        : UnsafeByteOperations.unsafeWrap(data);
  }

  private static long[] shape(ModelInferRequest.InferInputTensor in) {
    long[] shape = new long[in.getShapeCount()];
    for (int d = 0; d < shape.length; d++) {
      shape[d] = in.getShape(d);
      if (shape[d] < 0) {
        throw ServingException.invalid("input '" + in.getName() + "': shape " + in.getShapeList()
            + " has a negative dimension; requests must give concrete shapes");
      }
    }
    try {
      Shapes.elementCount(shape);
    } catch (ArithmeticException e) {
      throw ServingException.invalid("input '" + in.getName() + "': shape " + in.getShapeList() + " is too large");
    }
    return shape;
  }
}
