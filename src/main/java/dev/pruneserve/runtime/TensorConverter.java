package dev.pruneserve.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.tensor.DataType;
import dev.pruneserve.tensor.Tensor;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between {@link Tensor} and ORT tensors. The caller owns (and closes) created tensors.
 * FP32 tensors over direct buffers are shared with ORT without a copy (large weight inputs of
 * calibration copies); everything else is copied.
 */
final class TensorConverter {
  private TensorConverter() {}

  static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
    if (t.type() == DataType.BYTES) {
      String[] s = new String[t.strings().size()];
      for (int i = 0; i < s.length; i++) {
        s[i] = utf8(t.name(), i, t.strings().get(i));
      }
      return OnnxTensor.createTensor(env, s, t.shape());
    }
    ByteBuffer src = t.dataView();
    if (src.isDirect() && t.type() == DataType.FP32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
      // Zero copy: ORT reads the caller's direct memory, which must stay unchanged until the run ends.
      return OnnxTensor.createTensor(env, src.asFloatBuffer(), t.shape());
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new ServingException(ErrorKind.UNIMPLEMENTED, "big-endian hosts are not supported");
    }
    direct.put(src).flip();
    long[] shape = t.shape();
    // Typed views: the ByteBuffer overload reinterprets some types (FLOAT became FLOAT16 in 1.24.1).
    return switch (t.type()) {
      case FP32 -> OnnxTensor.createTensor(env, direct.asFloatBuffer(), shape);
      case FP64 -> OnnxTensor.createTensor(env, direct.asDoubleBuffer(), shape);
      case INT32 -> OnnxTensor.createTensor(env, direct.asIntBuffer(), shape);
      case INT64 -> OnnxTensor.createTensor(env, direct.asLongBuffer(), shape);
      case INT16, FP16, BF16 -> OnnxTensor.createTensor(env, direct.asShortBuffer(), shape,
          javaType(t.type(), t.name()));
      default -> OnnxTensor.createTensor(env, direct, shape, javaType(t.type(), t.name()));
    };
  }

  /** ORT string tensors hold text: reject bytes that are not UTF-8 instead of altering them. */
  private static String utf8(String name, int index, byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw ServingException.invalid("input '" + name + "': BYTES element " + index
          + " is not valid UTF-8; ONNX string tensors carry text only");
    }
  }

  static Tensor fromOrt(String name, OnnxTensor value) throws OrtException {
    TensorInfo info = value.getInfo();
    DataType type = dataType(info.onnxType, name);
    long[] shape = info.getShape();
    if (type == DataType.BYTES) {
      List<byte[]> out = new ArrayList<>();
      flattenStrings(value.getValue(), out);
      return Tensor.bytes(name, shape, out);
    }
    ByteBuffer b = value.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    return Tensor.fixed(name, type, shape, b);
  }

  /** ORT's enum ordinals are not ONNX codes, so map by name. */
  static DataType dataType(TensorInfo.OnnxTensorType onnxType, String name) {
    DataType t = switch (onnxType) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BF16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
      default -> null;
    };
    if (t == null) {
      throw new ServingException(ErrorKind.UNIMPLEMENTED,
          "tensor '" + name + "' has ONNX type " + onnxType + ", which KServe v2 cannot carry");
    }
    return t;
  }

  private static OnnxJavaType javaType(DataType type, String name) {
    return switch (type) {
      case BOOL -> OnnxJavaType.BOOL;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT8 -> OnnxJavaType.INT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case FP16 -> OnnxJavaType.FLOAT16;
      case BF16 -> OnnxJavaType.BFLOAT16;
      case FP32 -> OnnxJavaType.FLOAT;
      case FP64 -> OnnxJavaType.DOUBLE;
      case UINT16, UINT32, UINT64, BYTES -> throw new ServingException(ErrorKind.UNIMPLEMENTED,
          "input '" + name + "': ONNX Runtime's Java API cannot create " + type.wireName()
              + " tensors; cast the model input to a signed type");
    };
  }

  private static void flattenStrings(Object value, List<byte[]> out) {
    if (value instanceof String s) {
      out.add(s.getBytes(StandardCharsets.UTF_8));
    } else if (value != null && value.getClass().isArray()) {
      for (int i = 0; i < Array.getLength(value); i++) {
        flattenStrings(Array.get(value, i), out);
      }
    }
  }
}
