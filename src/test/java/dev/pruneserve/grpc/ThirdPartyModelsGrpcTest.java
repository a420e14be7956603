package dev.pruneserve.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelInferRequest;
import dev.pruneserve.api.inference.ModelInferResponse;
import dev.pruneserve.api.v1.PruneEvent;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.Variant;
import dev.pruneserve.testing.TestRepositoryResource;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Models stored the ways third-party exporters store them, served and pruned through the RPCs:
 * {@code cnn-external} is {@code cnn-wide} with its weights in an ONNX external data
 * file ({@code weights.bin}); its variant has its own data file, loads where it lies and answers
 * exactly as the variant of the inline model cut by the same recipe.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class ThirdPartyModelsGrpcTest {
  @GrpcClient("inference") PruningGrpc.PruningBlockingStub pruning;
  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;

  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "pruneserve.repository.path") String repository;

  @Test
  void aModelWithExternalDataIsServedAndPrunedIntoAVariantWithItsOwnDataFile() throws Exception {
    float[] x = inputs();
    assertArrayEquals(infer("cnn-wide", x), infer("cnn-external", x), "served from its external data");
    Variant inline = prune("cnn-wide");
    Variant external = prune("cnn-external");
    assertEquals(inline.getParametersAfter(), external.getParametersAfter());
    assertArrayEquals(infer(inline.getName(), x), infer(external.getName(), x), "the same pruned function");
    Path dir = Path.of(repository).resolve(external.getName()).resolve("1");
    assertTrue(Files.isRegularFile(dir.resolve("model.onnx.data")), "its own data file");
    assertTrue(dev.pruneserve.graph.ExternalData.uses(dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files
        .readAllBytes(dir.resolve("model.onnx")))), "which the model references");
    assertTrue(!Files.exists(dir.resolve("weights.bin")), "not the parent's");
    assertTrue(!Files.exists(Path.of(repository).resolve(inline.getName()).resolve("1/model.onnx.data")),
        "an inline parent gives an inline variant");
  }

  @Test
  void anFp16ModelIsServedAndPrunedInFp16() throws Exception {
    float[] x = inputs();
    float[] full = infer("cnn-wide", x);
    float[] half = infer("cnn-fp16", x);
    for (int i = 0; i < full.length; i++) {
      assertEquals(full[i], half[i], 0.02 + 0.01 * Math.abs(full[i]), "FP16 rounding only, at " + i);
    }
    Variant v = prune("cnn-fp16");
    assertTrue(v.getParametersAfter() < v.getParametersBefore());
    assertEquals(full.length, infer(v.getName(), x).length, "served at once");
    var pruned = dev.pruneserve.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(Path.of(repository).resolve(
        v.getName()).resolve("1/model.onnx")));
    assertTrue(pruned.getGraph().getInitializerList().stream().filter(t -> t.getDimsCount() == 4)
        .allMatch(t -> t.getDataType() == 10), "convolution weights stay FP16");
    org.junit.jupiter.api.Assumptions.assumeTrue(dev.pruneserve.assets.FashionMnist.available(), "no Fashion-MNIST");
    GrpcAssertions.assertStatus(io.grpc.Status.Code.FAILED_PRECONDITION, "are FP16", () -> pruning.prune(PruneRequest
        .newBuilder().setModel("cnn-fp16").setMethod("ifso").setRatio(0.3)
        .setCalibration(dev.pruneserve.api.v1.CalibrationSpec.newBuilder()
            .setImages(dev.pruneserve.api.v1.ImageDataset.newBuilder().setName("fashion-mnist")
                .setCount(16)))
        .build()).forEachRemaining(e -> {}));
  }

  /**
   * The four third-party CNNs as shipped (PaddleOCR classifier, detector, recogniser; openWakeWord's
   * embedding CNN): pruned through the RPC, served at once with the dense model's output shape; the
   * melspectrogram front end is refused with FAILED_PRECONDITION naming its blocking nodes.
   */
  @Test
  void thirdPartyCnnsArePrunedAndServed() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        dev.pruneserve.assets.ThirdPartyOnnx.available(dev.pruneserve.assets.FixtureCache.defaultCache()),
        "third-party ONNX fixtures not fetched");
    for (var m : java.util.Map.of("ppocr-cls", new long[] {1, 3, 48, 192}, "ppocr-det", new long[] {1, 3, 64, 64},
        "ppocr-rec", new long[] {1, 3, 48, 160}, "oww-embedding", new long[] {1, 76, 32, 1}).entrySet()) {
      Variant v = prune(m.getKey());
      assertTrue(v.getParametersAfter() < 0.9 * v.getParametersBefore(), v.getName());
      assertTrue(v.getReportJson().contains("\"not_prunable\""), "what was left is named: " + v.getReportJson());
      float[] x = new float[(int) java.util.Arrays.stream(m.getValue()).reduce(1, (a, b) -> a * b)];
      java.util.Arrays.fill(x, 0.5f);
      assertEquals(infer(m.getKey(), x, m.getValue()).length, infer(v.getName(), x, m.getValue()).length,
          "the variant answers with the dense model's output shape");
    }
    GrpcAssertions.assertStatus(io.grpc.Status.Code.FAILED_PRECONDITION, "Unsqueeze '", () -> prune(
        "oww-melspectrogram"));
  }

  private Variant prune(String model) {
    List<PruneEvent> events = new ArrayList<>();
    pruning.prune(PruneRequest.newBuilder().setModel(model).setMethod("magnitude-l1").setRatio(0.3).build())
        .forEachRemaining(events::add);
    return events.get(events.size() - 1).getDone();
  }

  private static float[] inputs() {
    SplittableRandom r = new SplittableRandom(5);
    float[] x = new float[2 * 28 * 28];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble();
    }
    return x;
  }

  private float[] infer(String model, float[] x) {
    return infer(model, x, new long[] {2, 1, 28, 28});
  }

  /** Output 0 of {@code model} fed {@code x} of {@code shape} as its first input. */
  private float[] infer(String model, float[] x, long[] shape) {
    String input = inference.modelMetadata(dev.pruneserve.api.inference.ModelMetadataRequest.newBuilder().setName(
        model).build()).getInputs(0).getName();
    var in = ModelInferRequest.InferInputTensor.newBuilder().setName(input).setDatatype("FP32");
    java.util.Arrays.stream(shape).forEach(in::addShape);
    ModelInferResponse out = inference.modelInfer(ModelInferRequest.newBuilder().setModelName(model)
        .addInputs(in)
        .addRawInputContents(dev.pruneserve.testing.Requests.rawFp32(x)).build());
    ByteBuffer b = out.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] y = new float[b.remaining() / 4];
    b.asFloatBuffer().get(y);
    return y;
  }
}
