package dev.pruneserve.grpc;

import static dev.pruneserve.grpc.GrpcAssertions.assertStatus;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.pruneserve.api.inference.*;
import dev.pruneserve.testing.Reference;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestModels;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.Status.Code;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The six core v2 RPCs plus ModelConfig and ModelStatistics over real gRPC. */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class InferenceGrpcServiceTest {
  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @Test
  void serverLiveReadyAndMetadata() {
    assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    assertTrue(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    ServerMetadataResponse meta = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
    assertEquals("pruneserve", meta.getName());
    assertEquals(List.of("model_repository", "model_repository(unload_dependents)", "model_configuration",
        "statistics"), meta.getExtensionsList());
  }

  @Test
  void modelReadyPerVersion() {
    assertTrue(ready("mlp", ""));
    assertTrue(ready("mlp", "1"));
    assertTrue(ready("mlp", "3"));
    assertFalse(ready("mlp", "2"));
    assertFalse(ready("no-such-model", ""));
    assertFalse(ready("broken", ""));
  }

  @Test
  void modelMetadataListsVersionsAndTensors() {
    ModelMetadataResponse m = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp").build());
    assertEquals("mlp", m.getName());
    assertEquals(List.of("1", "3"), m.getVersionsList());
    assertEquals("onnxruntime_onnx", m.getPlatform());
    assertEquals("x", m.getInputs(0).getName());
    assertEquals("FP32", m.getInputs(0).getDatatype());
    assertEquals(List.of(-1L, 16L), m.getInputs(0).getShapeList());
    assertEquals(List.of(-1L, 4L), m.getOutputs(0).getShapeList());
  }

  @Test
  void modelConfigFollowsTritonBatchConvention() {
    ModelConfig c = stub.modelConfig(ModelConfigRequest.newBuilder().setName("mlp").build()).getConfig();
    assertEquals("mlp", c.getName());
    assertEquals("onnxruntime_onnx", c.getPlatform());
    assertEquals("onnxruntime", c.getBackend());
    assertEquals(8, c.getMaxBatchSize());
    assertEquals(DataType.TYPE_FP32, c.getInput(0).getDataType());
    assertEquals(List.of(16L), c.getInput(0).getDimsList());
    ModelConfig id = stub.modelConfig(ModelConfigRequest.newBuilder().setName("identity").build()).getConfig();
    assertEquals(0, id.getMaxBatchSize());
    assertTrue(id.getInputList().stream().anyMatch(i -> i.getDataType() == DataType.TYPE_STRING));
  }

  @Test
  void inferRawMatchesReferenceAndEchoesId() {
    ModelInferResponse r = stub.modelInfer(Requests.mlp("mlp", 3, 16).setId("req-42").build());
    assertEquals("req-42", r.getId());
    assertEquals("mlp", r.getModelName());
    assertEquals("3", r.getModelVersion());
    assertEquals(List.of(3L, 4L), r.getOutputs(0).getShapeList());
    assertArrayEquals(Reference.mlp(TestModels.mlp(), Requests.ramp(3, 16), 3), Requests.fp32Output(r, 0), 1e-5f);
    assertEquals("1", stub.modelInfer(Requests.mlp("mlp", 1, 16).setModelVersion("1").build()).getModelVersion());
  }

  @Test
  void inferTypedContentsEqualsRaw() {
    float[] x = Requests.ramp(2, 16);
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float v : x) {
      c.addFp32Contents(v);
    }
    ModelInferRequest typed = ModelInferRequest.newBuilder().setModelName("mlp")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(2).addShape(16).setContents(c))
        .build();
    assertEquals(stub.modelInfer(Requests.mlp("mlp", 2, 16).build()).getRawOutputContents(0),
        stub.modelInfer(typed).getRawOutputContents(0));
  }

  @Test
  void requestedOutputSubset() {
    ModelInferResponse r = stub.modelInfer(Requests.mlp("identity", 1, 1).clearInputs().clearRawInputContents()
        .addAllInputs(DataTypesGrpcTest.allTypesInputs()).addAllRawInputContents(DataTypesGrpcTest.allTypesRaw())
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("out_INT64"))
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("out_FP32")).build());
    assertEquals(List.of("out_INT64", "out_FP32"), r.getOutputsList().stream()
        .map(ModelInferResponse.InferOutputTensor::getName).toList());
    assertStatus(Code.INVALID_ARGUMENT, "unknown output 'nope'", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
            .setName("nope")).build()));
  }

  @Test
  void unknownModelVersionOrBadName() {
    assertStatus(Code.NOT_FOUND, "unknown model 'ghost'", () -> stub.modelInfer(Requests.mlp("ghost", 1, 16).build()));
    assertStatus(Code.NOT_FOUND, "has no version '2'",
        () -> stub.modelInfer(Requests.mlp("mlp", 1, 16).setModelVersion("2").build()));
    assertStatus(Code.NOT_FOUND, "unknown model", () -> stub.modelMetadata(
        ModelMetadataRequest.newBuilder().setName("ghost").build()));
    assertStatus(Code.INVALID_ARGUMENT, "invalid model name", () -> stub.modelInfer(
        Requests.mlp("../etc", 1, 16).build()));
    assertStatus(Code.UNAVAILABLE, "not ready", () -> stub.modelInfer(Requests.mlp("broken", 1, 16).build()));
  }

  @Test
  void inputErrorsNameTheTensor() {
    assertStatus(Code.INVALID_ARGUMENT, "unknown input 'z'", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setInputs(0, input("z", "FP32", 1, 16)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "input 'x': expected datatype FP32, got FP64", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setInputs(0, input("x", "FP64", 1, 8)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "input 'x': expected shape [-1, 16]", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setInputs(0, input("x", "FP32", 2, 8)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "raw content has 64 bytes, expected 128", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setInputs(0, input("x", "FP32", 2, 16)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "unknown datatype 'FLOAT'", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setInputs(0, input("x", "FLOAT", 1, 16)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "expects 1 inputs, got 0", () -> stub.modelInfer(
        ModelInferRequest.newBuilder().setModelName("mlp").build()));
    assertStatus(Code.INVALID_ARGUMENT, "given more than once", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).addInputs(input("x", "FP32", 1, 16))
            .addRawInputContents(Requests.rawFp32(new float[16])).build()));
    assertStatus(Code.INVALID_ARGUMENT, "raw_input_contents has 2 entries for 1 inputs", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).addRawInputContents(ByteString.EMPTY).build()));
    assertStatus(Code.INVALID_ARGUMENT, "use one or the other", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setInputs(0, input("x", "FP32", 1, 16).toBuilder()
            .setContents(InferTensorContents.newBuilder().addFp32Contents(1f))).build()));
    assertStatus(Code.INVALID_ARGUMENT, "fp32_contents has 1 values, expected 16", () -> stub.modelInfer(
        ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "FP32", 1, 16).toBuilder()
            .setContents(InferTensorContents.newBuilder().addFp32Contents(1f))).build()));
    assertStatus(Code.INVALID_ARGUMENT, "has no data", () -> stub.modelInfer(
        ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "FP32", 1, 16)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "negative dimension", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setInputs(0, input("x", "FP32", -1, 16)).build()));
  }

  @Test
  void hugeDeclaredShapesAreRejectedWithoutAllocating() {
    assertStatus(Code.INVALID_ARGUMENT, "fp32_contents has 1 values, expected 500000000", () -> stub.modelInfer(
        ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input("x", "FP32", 500_000_000L).toBuilder()
            .setContents(InferTensorContents.newBuilder().addFp32Contents(1f))).build()));
    assertStatus(Code.INVALID_ARGUMENT, "too large", () -> stub.modelInfer(Requests.mlp("mlp", 1, 16)
        .setInputs(0, input("x", "FP64", 1L << 31, 1L << 31)).build()));
    assertStatus(Code.INVALID_ARGUMENT, "BYTES element 0 is not valid UTF-8", () -> stub.modelInfer(
        ModelInferRequest.newBuilder().setModelName("identity").addAllInputs(DataTypesGrpcTest.allTypesInputs())
            .addAllRawInputContents(DataTypesGrpcTest.allTypesRaw().subList(0, 10))
            .addRawInputContents(ByteString.copyFrom(new byte[] {1, 0, 0, 0, (byte) 0xFF, 1, 0, 0, 0, 65, 1, 0, 0, 0,
                66, 1, 0, 0, 0, 67, 1, 0, 0, 0, 68, 1, 0, 0, 0, 69}))
            .build()));
  }

  @Test
  void oversizedMessageIsResourceExhaustedNamingTheLimit() {
    float[] big = new float[9 * 1024 * 1024 / 4];
    assertStatus(Code.RESOURCE_EXHAUSTED, "8388608", () -> stub.modelInfer(Requests.mlp("mlp", 1, 16)
        .setRawInputContents(0, Requests.rawFp32(big)).build()));
    assertTrue(ready("mlp", ""));
  }

  @Test
  void unsupportedJavaTypeIsUnimplemented() {
    assertStatus(Code.UNIMPLEMENTED, "UINT16", () -> stub.modelInfer(ModelInferRequest.newBuilder()
        .setModelName("u16").addInputs(input("x", "UINT16", 2))
        .addRawInputContents(ByteString.copyFrom(new byte[4])).build()));
  }

  @Test
  void statisticsCountBatchesAndExecutions() {
    ModelStatistics before = stats("mlp", "1");
    stub.modelInfer(Requests.mlp("mlp", 4, 16).setModelVersion("1").build());
    assertStatus(Code.INVALID_ARGUMENT, "expected shape", () -> stub.modelInfer(
        Requests.mlp("mlp", 1, 16).setModelVersion("1").setInputs(0, input("x", "FP32", 2, 8)).build()));
    ModelStatistics after = stats("mlp", "1");
    assertEquals(before.getInferenceCount() + 4, after.getInferenceCount());
    assertEquals(before.getExecutionCount() + 1, after.getExecutionCount());
    assertEquals(before.getInferenceStats().getSuccess().getCount() + 1,
        after.getInferenceStats().getSuccess().getCount());
    assertEquals(before.getInferenceStats().getFail().getCount() + 1, after.getInferenceStats().getFail().getCount());
    assertTrue(after.getLastInference() > 0);
    assertTrue(after.getInferenceStats().getComputeInfer().getNs() > 0);
    assertTrue(after.getMemoryUsage(0).getByteSize() > 0);
    assertStatus(Code.NOT_FOUND, "unknown model", () -> stub.modelStatistics(
        ModelStatisticsRequest.newBuilder().setName("ghost").build()));
  }

  private boolean ready(String name, String version) {
    return stub.modelReady(ModelReadyRequest.newBuilder().setName(name).setVersion(version).build()).getReady();
  }

  private ModelStatistics stats(String name, String version) {
    return stub.modelStatistics(ModelStatisticsRequest.newBuilder().setName(name).setVersion(version).build())
        .getModelStats(0);
  }

  static ModelInferRequest.InferInputTensor input(String name, String type, long... shape) {
    ModelInferRequest.InferInputTensor.Builder b = ModelInferRequest.InferInputTensor.newBuilder().setName(name)
        .setDatatype(type);
    for (long d : shape) {
      b.addShape(d);
    }
    return b.build();
  }
}
