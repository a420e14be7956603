package dev.pruneserve.http.kserve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.http.JsonBody;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.RawTensors;
import dev.pruneserve.tensor.Shapes;
import dev.pruneserve.tensor.Tensor;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * v2 REST tensors ↔ {@link Tensor}: {@code data} as a flat or nested row-major JSON array (BOOL as
 * booleans, integers range-checked, BYTES as UTF-8 strings), or with {@code parameters.
 * binary_data_size} as raw bytes after the JSON header (Triton's binary-data extension, in input
 * order). FP16/BF16 have no JSON form: binary data only, as in Triton. Stateless.
 */
final class V2Tensors {
  private V2Tensors() {}

  /** The request's inputs; {@code binary} holds the bytes after the JSON header (empty if none). */
  static List<Tensor> inputs(JsonBody req, ByteBuffer binary) {
    JsonNode inputs = req.array("inputs");
    if (inputs.isEmpty()) {
      throw ServingException.invalid("'inputs' is required: an array of {name, shape, datatype, data}");
    }
    List<Tensor> out = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      JsonBody in = JsonBody.element(inputs.get(i), "inputs[" + i + "]");
      String name = in.requiredString("name");
      String typeName = in.requiredString("datatype");
      DataType type = DataType.fromWireName(typeName).orElseThrow(() -> ServingException.invalid("input '" + name
          + "': unknown datatype '" + typeName + "'; expected one of "
          + Arrays.stream(DataType.values()).map(DataType::wireName).toList()));
      long[] shape = shape(name, in.array("shape"));
      Long binarySize = in.object("parameters").integer("binary_data_size");
      if (binarySize != null) {
        if (binarySize < 0 || binarySize > binary.remaining()) {
          throw ServingException.invalid("input '" + name + "': binary_data_size " + binarySize + " but only "
              + binary.remaining() + " binary bytes remain after the JSON header");
        }
        ByteBuffer blob = binary.slice().limit(binarySize.intValue());
        binary.position(binary.position() + binarySize.intValue());
        out.add(RawTensors.decode(name, type, shape, blob));
      } else {
        out.add(fromJson(name, type, shape, in.get("data")));
      }
    }
    if (binary.hasRemaining()) {
      throw ServingException.invalid(binary.remaining() + " binary bytes after the JSON header are not claimed by"
          + " any input's binary_data_size");
    }
    return out;
  }

  /** An output as JSON metadata, with its data inline or (binary) appended to {@code blobs}. */
  static ObjectNode output(Tensor t, boolean binary, List<byte[]> blobs) {
    ObjectNode o = JsonBody.JSON.createObjectNode().put("name", t.name()).put("datatype", t.type().wireName());
    ArrayNode shape = o.putArray("shape");
    Arrays.stream(t.shape()).forEach(shape::add);
    if (binary) {
      byte[] raw = t.type() == DataType.BYTES ? RawTensors.encodeStrings(t.strings()) : bytes(t.dataView());
      o.putObject("parameters").put("binary_data_size", raw.length);
      blobs.add(raw);
      return o;
    }
    if (t.type() == DataType.FP16 || t.type() == DataType.BF16) {
      throw ServingException.invalid("output '" + t.name() + "' is " + t.type().wireName() + ", which has no JSON"
          + " form: ask for it with \"parameters\": {\"binary_data\": true}");
    }
    ArrayNode data = o.putArray("data");
    if (t.type() == DataType.BYTES) {
      t.strings().forEach(s -> data.add(new String(s, StandardCharsets.UTF_8)));
      return o;
    }
    ByteBuffer b = t.dataView();
    for (long i = 0; i < t.elementCount(); i++) {
      switch (t.type()) {
        case BOOL -> data.add(b.get() != 0);
        case INT8 -> data.add(b.get());
        case UINT8 -> data.add(Byte.toUnsignedInt(b.get()));
        case INT16 -> data.add(b.getShort());
        case UINT16 -> data.add(Short.toUnsignedInt(b.getShort()));
        case INT32 -> data.add(b.getInt());
        case UINT32 -> data.add(Integer.toUnsignedLong(b.getInt()));
        case INT64 -> data.add(b.getLong());
        case UINT64 -> data.add(new BigInteger(Long.toUnsignedString(b.getLong())));
        case FP32 -> data.add(b.getFloat());
        case FP64 -> data.add(b.getDouble());
        default -> throw new IllegalStateException(t.type().toString());
      }
    }
    return o;
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static long[] shape(String name, JsonNode dims) {
    long[] shape = new long[dims.size()];
    for (int d = 0; d < shape.length; d++) {
      JsonNode v = dims.get(d);
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
        throw ServingException.invalid("input '" + name + "': shape " + dims + " must hold non-negative integers;"
            + " requests give concrete shapes");
      }
      shape[d] = v.asLong();
    }
    try {
      Shapes.elementCount(shape);
    } catch (ArithmeticException e) {
      throw ServingException.invalid("input '" + name + "': shape " + dims + " is too large");
    }
    return shape;
  }

  private static Tensor fromJson(String name, DataType type, long[] shape, JsonNode data) {
    if (data == null) {
      throw ServingException.invalid("input '" + name + "' has no data: give 'data' or parameters.binary_data_size");
    }
    if (type == DataType.FP16 || type == DataType.BF16) {
      throw ServingException.invalid("input '" + name + "': " + type.wireName() + " has no JSON form; send it as"
          + " binary data (parameters.binary_data_size and the Inference-Header-Content-Length header)");
    }
    List<JsonNode> flat = new ArrayList<>();
    flatten(data, flat);
    long n = Shapes.elementCount(shape);
    if (flat.size() != n) {
      throw ServingException.invalid("input '" + name + "': data holds " + flat.size() + " elements, shape "
          + Shapes.format(shape) + " needs " + n);
    }
    if (type == DataType.BYTES) {
      List<byte[]> strings = new ArrayList<>();
      for (JsonNode v : flat) {
        if (!v.isTextual()) {
          throw element(name, type, v);
        }
        strings.add(v.asText().getBytes(StandardCharsets.UTF_8));
      }
      return Tensor.bytes(name, shape, strings);
    }
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * type.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonNode v : flat) {
      put(b, name, type, v);
    }
    b.flip();
    return Tensor.fixed(name, type, shape, b);
  }

  private static void flatten(JsonNode v, List<JsonNode> out) {
    if (v.isArray()) {
      v.forEach(e -> flatten(e, out));
    } else {
      out.add(v);
    }
  }

  private static void put(ByteBuffer b, String name, DataType type, JsonNode v) {
    switch (type) {
      case BOOL -> {
        if (!v.isBoolean()) {
          throw element(name, type, v);
        }
        b.put((byte) (v.asBoolean() ? 1 : 0));
      }
      case FP32 -> b.putFloat((float) number(name, type, v));
      case FP64 -> b.putDouble(number(name, type, v));
      case UINT64 -> {
        if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0 || v.bigIntegerValue().bitLength() > 64) {
          throw element(name, type, v);
        }
        b.putLong(v.bigIntegerValue().longValue());
      }
      default -> {
        long x = integer(name, type, v);
        switch (type.byteSize()) {
          case 1 -> b.put((byte) x);
          case 2 -> b.putShort((short) x);
          case 4 -> b.putInt((int) x);
          default -> b.putLong(x);
        }
      }
    }
  }

  private static double number(String name, DataType type, JsonNode v) {
    if (!v.isNumber()) {
      throw element(name, type, v);
    }
    return v.asDouble();
  }

  /** An integer within {@code type}'s range. */
  private static long integer(String name, DataType type, JsonNode v) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw element(name, type, v);
    }
    long x = v.asLong();
    int bits = type.byteSize() * 8;
    boolean unsigned = type.wireName().startsWith("U");
    long min = unsigned ? 0 : bits == 64 ? Long.MIN_VALUE : -(1L << (bits - 1));
    long max = bits == 64 ? Long.MAX_VALUE : unsigned ? (1L << bits) - 1 : (1L << (bits - 1)) - 1;
    if (x < min || x > max) {
      throw ServingException.invalid("input '" + name + "': " + x + " is out of range for " + type.wireName());
    }
    return x;
  }

  private static ServingException element(String name, DataType type, JsonNode v) {
    return ServingException.invalid("input '" + name + "': " + JsonBody.kind(v) + " is not a "
        + type.wireName() + " value");
  }
}
