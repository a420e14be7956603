package dev.pruneserve.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pruneserve.api.inference.GRPCInferenceServiceGrpc;
import dev.pruneserve.api.inference.ModelMetadataRequest;
import dev.pruneserve.api.inference.ModelMetadataResponse;
import dev.pruneserve.api.inference.ModelReadyRequest;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.PruningGrpc;
import dev.pruneserve.api.v1.SamplingParams;
import dev.pruneserve.api.v1.SetAliasRequest;
import dev.pruneserve.testing.Curl;
import dev.pruneserve.testing.Reference;
import dev.pruneserve.testing.Requests;
import dev.pruneserve.testing.TestModels;
import dev.pruneserve.testing.TestRepositoryResource;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * KServe v2 REST and Triton's generate extension through {@code curl}, each answer checked against
 * the gRPC answer to the same request: metadata, tensors (JSON and binary data, bit-identical),
 * generated text for the same seed, error statuses and messages.
 */
@QuarkusTest
@WithTestResource(TestRepositoryResource.class)
class KserveRestTest {
  @GrpcClient("inference") GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub inference;
  @GrpcClient("inference") GenerationGrpc.GenerationBlockingStub generation;
  @GrpcClient("inference") PruningGrpc.PruningBlockingStub pruning;

  @Test
  void healthAndServerMetadata() throws Exception {
    assertEquals(200, Curl.get("/v2/health/live").status());
    Curl.Answer ready = Curl.get("/v2/health/ready");
    assertEquals(200, ready.status());
    assertTrue(ready.json().get("ready").asBoolean());
    JsonNode server = Curl.get("/v2").json();
    assertEquals("pruneserve", server.get("name").asText());
    assertTrue(server.get("extensions").toString().contains("\"generate\""), server.toString());
  }

  @Test
  void modelMetadataAndReadinessMatchGrpc() throws Exception {
    ModelMetadataResponse grpc = inference.modelMetadata(ModelMetadataRequest.newBuilder().setName("mlp").build());
    JsonNode rest = Curl.get("/v2/models/mlp").json();
    assertEquals(grpc.getName(), rest.get("name").asText());
    assertEquals(grpc.getVersionsList(), strings(rest.get("versions")));
    assertEquals(grpc.getPlatform(), rest.get("platform").asText());
    assertEquals(grpc.getInputs(0).getName(), rest.get("inputs").get(0).get("name").asText());
    assertEquals(grpc.getInputs(0).getDatatype(), rest.get("inputs").get(0).get("datatype").asText());
    assertEquals(grpc.getInputs(0).getShapeList().toString().replace(" ", ""),
        rest.get("inputs").get(0).get("shape").toString());
    assertEquals(grpc.getOutputs(0).getShapeList().toString().replace(" ", ""),
        rest.get("outputs").get(0).get("shape").toString());
    assertEquals(200, Curl.get("/v2/models/mlp/versions/3/ready").status());
    assertEquals(400, Curl.get("/v2/models/no-such-model/ready").status());
    Curl.Answer missing = Curl.get("/v2/models/no-such-model");
    assertEquals(404, missing.status());
    assertEquals(grpcMessage(() -> inference.modelMetadata(ModelMetadataRequest.newBuilder()
        .setName("no-such-model").build())), missing.json().get("error").asText());
  }

  @Test
  void jsonAndBinaryInferMatchGrpcBitForBit() throws Exception {
    float[] x = Requests.ramp(2, 16);
    float[] grpc = Requests.fp32Output(inference.modelInfer(Requests.mlp("mlp", 2, 16).build()), 0);
    assertArrayEquals(Reference.mlp(TestModels.mlp(), x, 2), grpc, 1e-5f);
    String flat = "{\"id\": \"r1\", \"inputs\": [{\"name\": \"x\", \"shape\": [2, 16], \"datatype\": \"FP32\","
        + " \"data\": " + Arrays.toString(x) + "}]}";
    JsonNode rest = Curl.post("/v2/models/mlp/infer", flat).json();
    assertEquals("r1", rest.get("id").asText());
    assertEquals("mlp", rest.get("model_name").asText());
    JsonNode y = rest.get("outputs").get(0);
    assertEquals("[2,4]", y.get("shape").toString());
    assertArrayEquals(grpc, floats(y.get("data")), 0f);
    String nested = flat.replace(Arrays.toString(x), "[" + Arrays.toString(Arrays.copyOf(x, 16)) + ", "
        + Arrays.toString(Arrays.copyOfRange(x, 16, 32)) + "]");
    assertArrayEquals(grpc, floats(Curl.post("/v2/models/mlp/versions/3/infer", nested).json()
        .get("outputs").get(0).get("data")), 0f);

    byte[] header = ("{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 16], \"datatype\": \"FP32\", \"parameters\":"
        + " {\"binary_data_size\": 128}}], \"parameters\": {\"binary_data_output\": true}}")
        .getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(header.length + 128).order(ByteOrder.LITTLE_ENDIAN).put(header);
    body.asFloatBuffer().put(x);
    Curl.Answer bin = Curl.call("POST", "/v2/models/mlp/infer", body.array(),
        "Inference-Header-Content-Length: " + header.length, "Content-Type: application/octet-stream");
    assertEquals(200, bin.status(), bin.text());
    int json = Integer.parseInt(bin.headers().get("inference-header-content-length"));
    JsonNode meta = JsonBody.JSON.readTree(Arrays.copyOf(bin.body(), json));
    assertEquals(32, meta.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
    float[] got = new float[8];
    ByteBuffer.wrap(bin.body(), json, 32).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
    assertArrayEquals(grpc, got, 0f);
  }

  /** Every JSON datatype comes back as sent; FP16 and BF16 only as binary data, as in Triton. */
  @Test
  void everyDatatypeRoundTrips() throws Exception {
    String[][] values = {{"BOOL", "[true,false,true,true,false,false]"}, {"UINT8", "[0,1,2,127,200,255]"},
        {"INT8", "[-128,-1,0,1,2,127]"}, {"INT16", "[-32768,-2,0,3,4,32767]"},
        {"INT32", "[-2147483648,-5,0,6,7,2147483647]"},
        {"INT64", "[-9223372036854775808,-9,0,10,11,9223372036854775807]"},
        {"FP32", "[0.0,0.5,-1.25,3.0E-8,1.0E20,-7.0]"}, {"FP64", "[0.0,0.1,-1.0E-300,2.5,1.0E300,-7.0]"},
        {"BYTES", "[\"a\",\"\",\"héllo\",\"d\",\"e f\",\"{}\"]"}};
    // FP16/BF16 bits of 0, 0.5, 1, 1.5, 2, 2.5 (the same six halves serve both as raw bytes)
    byte[] halves = new byte[12];
    short[] bits = {0x0000, 0x3800, 0x3C00, 0x3E00, 0x4000, 0x4100};
    ByteBuffer.wrap(halves).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().put(bits);
    StringBuilder inputs = new StringBuilder();
    StringBuilder outputs = new StringBuilder();
    for (String[] v : values) {
      inputs.append("{\"name\": \"in_").append(v[0]).append("\", \"shape\": [2, 3], \"datatype\": \"").append(v[0])
          .append("\", \"data\": ").append(v[1]).append("}, ");
      outputs.append("{\"name\": \"out_").append(v[0]).append("\"}, ");
    }
    for (String half : List.of("FP16", "BF16")) {
      inputs.append("{\"name\": \"in_").append(half).append("\", \"shape\": [2, 3], \"datatype\": \"").append(half)
          .append("\", \"parameters\": {\"binary_data_size\": 12}}, ");
      outputs.append("{\"name\": \"out_").append(half).append("\", \"parameters\": {\"binary_data\": true}}, ");
    }
    byte[] header = ("{\"inputs\": [" + inputs.substring(0, inputs.length() - 2) + "], \"outputs\": ["
        + outputs.substring(0, outputs.length() - 2) + "]}").getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[header.length + 24];
    System.arraycopy(header, 0, body, 0, header.length);
    System.arraycopy(halves, 0, body, header.length, 12);
    System.arraycopy(halves, 0, body, header.length + 12, 12);
    Curl.Answer a = Curl.call("POST", "/v2/models/identity/infer", body,
        "Inference-Header-Content-Length: " + header.length);
    assertEquals(200, a.status(), a.text());
    int json = Integer.parseInt(a.headers().get("inference-header-content-length"));
    JsonNode outs = JsonBody.JSON.readTree(Arrays.copyOf(a.body(), json)).get("outputs");
    for (int k = 0; k < values.length; k++) {
      assertEquals("out_" + values[k][0], outs.get(k).get("name").asText());
      assertEquals(values[k][0], outs.get(k).get("datatype").asText());
      assertEquals(JsonBody.JSON.readTree(values[k][1]), outs.get(k).get("data"), values[k][0]);
    }
    assertArrayEquals(halves, Arrays.copyOfRange(a.body(), json, json + 12));
    assertArrayEquals(halves, Arrays.copyOfRange(a.body(), json + 12, json + 24));
    Curl.Answer half = Curl.post("/v2/models/identity/infer", "{\"inputs\": [{\"name\": \"in_FP16\", \"shape\":"
        + " [1, 1], \"datatype\": \"FP16\", \"data\": [1.0]}]}");
    assertEquals(400, half.status());
    assertTrue(half.json().get("error").asText().contains("binary data"), half.text());
  }

  @Test
  void badRequestsAnswerPreciseStatuses() throws Exception {
    String[][] cases = {
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 16], \"datatype\": \"FP32\", \"data\": [1, 2]}]}",
            "400", "data holds 2 elements, shape [1, 16] needs 16"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 16], \"datatype\": \"FP33\", \"data\": []}]}", "400",
            "unknown datatype 'FP33'"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1, -16], \"datatype\": \"FP32\", \"data\": []}]}", "400",
            "must hold non-negative integers"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"INT8\", \"data\": [1, 300]}]}", "400",
            "300 is out of range for INT8"},
        {"{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [\"a\"]}]}", "400",
            "a string (\"a\") is not a FP32 value"},
        {"{\"inputs\": [", "400", "not valid JSON"}, {"[1]", "400", "must be a JSON object"},
        {"{}", "400", "'inputs' is required"}};
    for (String[] c : cases) {
      Curl.Answer a = Curl.post("/v2/models/mlp/infer", c[0]);
      assertEquals(Integer.parseInt(c[1]), a.status(), c[0] + " -> " + a.text());
      String msg = a.json().get("error").asText();
      assertTrue(msg.contains(c[2]), c[0] + " -> " + msg);
      assertFalse(msg.contains("Exception") || msg.contains("dev.pruneserve"), msg);
    }
    Curl.Answer wrongType = Curl.post("/v2/models/mlp/infer",
        "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 16], \"datatype\": \"INT32\", \"data\": " + Arrays.toString(
            new int[16]) + "}]}");
    assertEquals(400, wrongType.status());
    assertEquals(404, Curl.post("/v2/models/no-such-model/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1],"
        + " \"datatype\": \"FP32\", \"data\": [1]}]}").status());
    assertEquals(404, Curl.get("/v2/no/such/route").status());
    String huge = "{\"inputs\": [], \"pad\": \"" + "x".repeat(9 << 20) + "\"}"; // over the test limit of 8 MiB
    Curl.Answer tooLarge = Curl.post("/v2/models/mlp/infer", huge);
    assertEquals(413, tooLarge.status());
    assertTrue(tooLarge.json().get("error").asText().contains("pruneserve.max-message-bytes"), tooLarge.text());
    Curl.Answer openAi = Curl.post("/v1/completions", huge);
    assertEquals(413, openAi.status());
    assertEquals("invalid_request_error", openAi.json().at("/error/type").asText());
    assertEquals(405, Curl.call("DELETE", "/v1/models", null).status());
  }

  @Test
  void aliasesAreReachableByName() throws Exception {
    pruning.setAlias(SetAliasRequest.newBuilder().setAlias("rest-alias").setTarget("mlp").build());
    JsonNode r = Curl.post("/v2/models/rest-alias/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 16],"
        + " \"datatype\": \"FP32\", \"data\": " + Arrays.toString(Requests.ramp(1, 16)) + "}]}").json();
    assertEquals("mlp", r.get("model_name").asText());
    assertEquals(200, Curl.get("/v2/models/rest-alias/ready").status());
  }

  @Test
  void generateMatchesGrpcForTheSameSeed() throws Exception {
    dev.pruneserve.testing.Fixtures.requireLoaded("stories15m", inference.modelReady(ModelReadyRequest.newBuilder()
        .setName("stories15m").build()).getReady());
    String grpc = generation.generateUnary(GenerateRequest.newBuilder().setModel("stories15m")
        .setPrompt("Once upon a time").setParams(SamplingParams.newBuilder().setMaxNewTokens(12)
            .setTemperature(0.9f).setSeed(5))
        .build()).getText();
    String body = "{\"text_input\": \"Once upon a time\", \"parameters\": {\"max_tokens\": 12, \"temperature\": 0.9,"
        + " \"random_seed\": 5}}";
    JsonNode rest = Curl.post("/v2/models/stories15m/generate", body).json();
    assertEquals(grpc, rest.get("text_output").asText());
    assertEquals("length", rest.get("finish_reason").asText());
    assertEquals(12, rest.get("completion_tokens").asInt());
    Curl.Answer stream = Curl.post("/v2/models/stories15m/generate_stream", body);
    assertTrue(stream.headers().get("content-type").startsWith("text/event-stream"), stream.headers().toString());
    List<String> events = Curl.events(stream);
    StringBuilder text = new StringBuilder();
    for (String e : events) {
      text.append(JsonBody.JSON.readTree(e).get("text_output").asText());
    }
    assertEquals(grpc, text.toString());
    assertEquals("length", JsonBody.JSON.readTree(events.get(events.size() - 1)).get("finish_reason").asText());

    Curl.Answer tooMany = Curl.post("/v2/models/stories15m/generate", "{\"text_input\": \"x\", \"max_tokens\":"
        + " 100000000}");
    assertEquals(400, tooMany.status());
    assertEquals(grpcMessage(() -> generation.generateUnary(GenerateRequest.newBuilder().setModel("stories15m")
        .setPrompt("x").setParams(SamplingParams.newBuilder().setMaxNewTokens(100000000)).build())),
        tooMany.json().get("error").asText());
    assertEquals(404, Curl.post("/v2/models/no-such-model/generate_stream", body).status());
  }

  static String grpcMessage(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getDescription();
    }
    throw new AssertionError("the gRPC call succeeded");
  }

  private static List<String> strings(JsonNode a) {
    List<String> out = new java.util.ArrayList<>();
    a.forEach(v -> out.add(v.asText()));
    return out;
  }

  static float[] floats(JsonNode a) {
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) a.get(i).asDouble();
    }
    return out;
  }
}
