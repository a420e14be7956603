package dev.pruneserve.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
      out.add(raw > 0 ? fromRaw(in.getName(), type, shape, req.getRawInputContents(i))
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
    resp.addRawOutputContents(t.type() == DataType.BYTES ? encodeBytes(t.strings()) : wrap(t.dataView()));
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

  private static Tensor fromRaw(String name, DataType type, long[] shape, ByteString blob) {
    long n = Shapes.elementCount(shape);
    if (type == DataType.BYTES) {
      return Tensor.bytes(name, shape, decodeBytes(name, n, blob));
    }
    long expected;
    try {
      expected = Math.multiplyExact(n, (long) type.byteSize());
    } catch (ArithmeticException e) {
      throw ServingException.invalid("input '" + name + "': shape " + Shapes.format(shape) + " is too large");
    }
    if (blob.size() != expected) {
      throw ServingException.invalid("input '" + name + "': raw content has " + blob.size() + " bytes, expected "
          + expected + " (" + n + " x " + type.wireName() + " for shape " + Shapes.format(shape) + ")");
    }
    return Tensor.fixed(name, type, shape, blob.asReadOnlyByteBuffer());
  }

  /** BYTES raw form: per element a 4-byte little-endian length, then that many bytes. */
  private static List<byte[]> decodeBytes(String name, long count, ByteString blob) {
    ByteBuffer b = blob.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> out = new ArrayList<>();
    while (b.remaining() >= 4) {
      long len = Integer.toUnsignedLong(b.getInt());
      if (len > b.remaining()) {
        throw ServingException.invalid("input '" + name + "': BYTES element " + out.size() + " declares "
            + len + " bytes but only " + b.remaining() + " remain");
      }
      byte[] e = new byte[(int) len];
      b.get(e);
      out.add(e);
    }
    if (b.hasRemaining() || out.size() != count) {
      throw ServingException.invalid("input '" + name + "': raw BYTES content holds " + out.size()
          + " elements (+" + b.remaining() + " stray bytes), expected " + count);
    }
    return out;
  }

  private static ByteString encodeBytes(List<byte[]> strings) {
    ByteString.Output out = ByteString.newOutput();
    ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] s : strings) {
      len.clear();
      len.putInt(s.length);
      out.write(len.array(), 0, 4);
      out.write(s, 0, s.length);
    }
    return out.toByteString();
  }
}
