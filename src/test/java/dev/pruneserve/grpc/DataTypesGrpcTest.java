package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.InferTensorContents;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import dev.pruneserve.testing.TestModels;
import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every v2 datatype ORT's Java API can feed, through an Identity model: what goes in raw or typed
 * comes back byte-identical as raw output, with its datatype and shape.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class DataTypesGrpcTest {
  private static final long[] SHAPE = {2, 3};
  private static final List<String> HALF = List.of("FP16", "BF16");
  /** IEEE half-precision bits of 0, 0.5, 1, 1.5, 2, 2.5. */
  private static final short[] FP16_BITS = {0x0000, 0x3800, 0x3C00, 0x3E00, 0x4000, 0x4100};

  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @Test
  void rawRoundTripForEveryType() {
    ModelInferResponse r = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("identity")
        .addAllInputs(allTypesInputs()).addAllRawInputContents(allTypesRaw()).build());
    List<ByteString> raw = allTypesRaw();
    for (int i = 0; i < TestModels.IDENTITY_TYPES.size(); i++) {
      String type = TestModels.IDENTITY_TYPES.get(i);
      int k = indexOf(r, "out_" + type);
      assertEquals(type, r.getOutputs(k).getDatatype());
      assertEquals(List.of(2L, 3L), r.getOutputs(k).getShapeList());
      assertEquals(raw.get(i), r.getRawOutputContents(k), type);
    }
  }

  @Test
  void typedContentsRoundTripForEveryTypedField() {
    List<ByteString> raw = allTypesRaw();
    ModelInferRequest.Builder req = ModelInferRequest.newBuilder().setModelName("identity");
    for (ModelInferRequest.InferInputTensor in : allTypesInputs()) {
      String type = in.getDatatype();
      // FP16/BF16 have no typed field; a zero-element tensor needs no values, so it can ride along.
      req.addInputs(HALF.contains(type)
          ? in.toBuilder().clearShape().addShape(0).addShape(3).setContents(InferTensorContents.getDefaultInstance())
              .build()
          : in.toBuilder().setContents(typed(type)).build());
    }
    ModelInferResponse r = stub.modelInfer(req.build());
    for (String type : TestModels.IDENTITY_TYPES) {
      ByteString expected = HALF.contains(type) ? ByteString.EMPTY : raw.get(TestModels.IDENTITY_TYPES.indexOf(type));
      assertEquals(expected, r.getRawOutputContents(indexOf(r, "out_" + type)), type);
    }
    GrpcAssertions.assertStatus(io.grpc.Status.Code.INVALID_ARGUMENT, "FP16 has no typed contents field",
        () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("identity")
            .addInputs(InferenceGrpcServiceTest.input("in_FP16", "FP16", SHAPE).toBuilder()
                .setContents(InferTensorContents.getDefaultInstance()))
            .build()));
  }

  static List<ModelInferRequest.InferInputTensor> allTypesInputs() {
    List<ModelInferRequest.InferInputTensor> out = new ArrayList<>();
    for (String t : TestModels.IDENTITY_TYPES) {
      out.add(InferenceGrpcServiceTest.input("in_" + t, t, SHAPE));
    }
    return out;
  }

  /** Raw little-endian blobs: element i of every type holds a value derived from i (BOOL: i odd). */
  static List<ByteString> allTypesRaw() {
    List<ByteString> out = new ArrayList<>();
    for (String t : TestModels.IDENTITY_TYPES) {
      ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 6; i++) {
        switch (t) {
          case "BOOL" -> b.put((byte) (i % 2));
          case "UINT8" -> b.put((byte) (250 + i));
          case "INT8" -> b.put((byte) (-3 + i));
          case "INT16" -> b.putShort((short) (-300 + i));
          case "INT32" -> b.putInt(-70000 + i);
          case "INT64" -> b.putLong(-5_000_000_000L + i);
          case "FP16" -> b.putShort(FP16_BITS[i]);
          case "BF16" -> b.putShort((short) (Float.floatToIntBits(1.5f * i) >>> 16));
          case "FP32" -> b.putFloat(-1.25f * i);
          case "FP64" -> b.putDouble(Math.PI * i);
          case "BYTES" -> {
            byte[] s = ("élément-" + i).getBytes(StandardCharsets.UTF_8);
            b.putInt(s.length).put(s);
          }
          default -> throw new IllegalStateException(t);
        }
      }
      b.flip();
      out.add(ByteString.copyFrom(b));
    }
    return out;
  }

  private static InferTensorContents typed(String type) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int i = 0; i < 6; i++) {
      switch (type) {
        case "BOOL" -> c.addBoolContents(i % 2 == 1);
        case "UINT8" -> c.addUintContents(250 + i);
        case "INT8" -> c.addIntContents(-3 + i);
        case "INT16" -> c.addIntContents(-300 + i);
        case "INT32" -> c.addIntContents(-70000 + i);
        case "INT64" -> c.addInt64Contents(-5_000_000_000L + i);
        case "FP32" -> c.addFp32Contents(-1.25f * i);
        case "FP64" -> c.addFp64Contents(Math.PI * i);
        case "BYTES" -> c.addBytesContents(ByteString.copyFromUtf8("élément-" + i));
        default -> throw new IllegalStateException(type);
      }
    }
    return c.build();
  }

  private static int indexOf(ModelInferResponse r, String name) {
    for (int i = 0; i < r.getOutputsCount(); i++) {
      if (r.getOutputs(i).getName().equals(name)) {
        return i;
      }
    }
    throw new AssertionError("no output " + name);
  }
}
