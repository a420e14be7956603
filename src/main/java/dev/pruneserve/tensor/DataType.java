package dev.pruneserve.tensor;

import java.util.Arrays;
import java.util.Optional;

/**
 * Element types shared by the KServe v2 wire format and ONNX. Each constant carries its v2 datatype
 * string, its width in bytes (0 for the variable-length BYTES) and its ONNX {@code TensorProto}
 * data-type code.
 */
public enum DataType {
  BOOL("BOOL", 1, 9),
  UINT8("UINT8", 1, 2),
  UINT16("UINT16", 2, 4),
  UINT32("UINT32", 4, 12),
  UINT64("UINT64", 8, 13),
  INT8("INT8", 1, 3),
  INT16("INT16", 2, 5),
  INT32("INT32", 4, 6),
  INT64("INT64", 8, 7),
  FP16("FP16", 2, 10),
  FP32("FP32", 4, 1),
  FP64("FP64", 8, 11),
  BF16("BF16", 2, 16),
  BYTES("BYTES", 0, 8);

  private final String wireName;
  private final int byteSize;
  private final int onnxCode;

  DataType(String wireName, int byteSize, int onnxCode) {
    this.wireName = wireName;
    this.byteSize = byteSize;
    this.onnxCode = onnxCode;
  }

  /** The v2 datatype string, e.g. {@code "FP32"}. */
  public String wireName() {
    return wireName;
  }

  /** Bytes per element; 0 for {@link #BYTES}. */
  public int byteSize() {
    return byteSize;
  }

  /** ONNX {@code TensorProto.DataType} code. */
  public int onnxCode() {
    return onnxCode;
  }

  public static Optional<DataType> fromWireName(String name) {
    return Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
  }
}
