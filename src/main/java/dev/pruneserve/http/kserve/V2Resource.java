package dev.pruneserve.http.kserve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.http.JsonBody;
import dev.pruneserve.model.InferenceRequest;
import dev.pruneserve.model.InferenceResult;
import dev.pruneserve.model.InferenceService;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.ModelView;
import dev.pruneserve.model.Readiness;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * KServe v2 REST: {@code /v2} (server metadata), {@code /v2/health/live|ready}, {@code
 * /v2/models/{name}[/versions/{v}]} (metadata), {@code …/ready} and {@code …/infer}, answering as the
 * gRPC v2 service does (200 for true and 400 for false on health and readiness, as the protocol
 * says). Runs on worker threads.
 */
@Path("/v2")
public class V2Resource {
  /** Triton's binary-data extension: the length of the JSON part of a request or response. */
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  @Inject ModelRegistry registry;
  @Inject InferenceService inference;
  @Inject Readiness readiness;

  @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version;

  @GET
  public Response server() {
    ObjectNode o = JsonBody.JSON.createObjectNode().put("name", "pruneserve").put("version", version);
    o.putArray("extensions").add("binary_tensor_data").add("generate");
    return json(200, o);
  }

  @GET
  @Path("/health/live")
  public Response live() {
    return json(200, JsonBody.JSON.createObjectNode().put("live", true));
  }

  @GET
  @Path("/health/ready")
  public Response ready() {
    boolean ready = readiness.isReady();
    return json(ready ? 200 : 400, JsonBody.JSON.createObjectNode().put("ready", ready));
  }

  @GET
  @Path("/models/{name}")
  public Response metadata(@PathParam("name") String name) {
    return metadataOfVersion(name, "");
  }

  @GET
  @Path("/models/{name}/versions/{version}")
  public Response metadataOfVersion(@PathParam("name") String name, @PathParam("version") String version) {
    ModelView v = registry.describe(name, version);
    ObjectNode o = JsonBody.JSON.createObjectNode().put("name", v.name());
    ArrayNode versions = o.putArray("versions");
    v.versions().forEach(versions::add);
    o.put("platform", "onnxruntime_onnx");
    tensors(o.putArray("inputs"), v.inputs());
    tensors(o.putArray("outputs"), v.outputs());
    return json(200, o);
  }

  @GET
  @Path("/models/{name}/ready")
  public Response modelReady(@PathParam("name") String name) {
    return versionReady(name, "");
  }

  @GET
  @Path("/models/{name}/versions/{version}/ready")
  public Response versionReady(@PathParam("name") String name, @PathParam("version") String version) {
    boolean ready = registry.isReady(name, version);
    return json(ready ? 200 : 400, JsonBody.JSON.createObjectNode().put("name", name).put("ready", ready));
  }

  @POST
  @Path("/models/{name}/infer")
  @Consumes(MediaType.WILDCARD)
  public Response infer(@PathParam("name") String name, @HeaderParam(HEADER_LENGTH) String headerLength,
      byte[] body) {
    return inferVersion(name, "", headerLength, body);
  }

  @POST
  @Path("/models/{name}/versions/{version}/infer")
  @Consumes(MediaType.WILDCARD)
  public Response inferVersion(@PathParam("name") String name, @PathParam("version") String version,
      @HeaderParam(HEADER_LENGTH) String headerLength, byte[] body) {
    int jsonLength = jsonLength(headerLength, body.length);
    JsonBody req = JsonBody.parse(Arrays.copyOf(body, jsonLength));
    ByteBuffer binary = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength).slice();
    List<Tensor> inputs = V2Tensors.inputs(req, binary);
    boolean allBinary = Boolean.TRUE.equals(req.object("parameters").bool("binary_data_output"));
    List<String> names = new ArrayList<>();
    List<String> binaryOutputs = new ArrayList<>();
    JsonNode outputs = req.array("outputs");
    for (int i = 0; i < outputs.size(); i++) {
      JsonBody o = JsonBody.element(outputs.get(i), "outputs[" + i + "]");
      names.add(o.requiredString("name"));
      if (Boolean.TRUE.equals(o.object("parameters").bool("binary_data"))) {
        binaryOutputs.add(names.get(i));
      }
    }
    InferenceResult r = inference.infer(new InferenceRequest(name, version, inputs, names));
    ObjectNode out = JsonBody.JSON.createObjectNode().put("model_name", r.model()).put("model_version", r.version());
    String id = req.string("id");
    if (id != null) {
      out.put("id", id);
    }
    ArrayNode tensors = out.putArray("outputs");
    List<byte[]> blobs = new ArrayList<>();
    for (Tensor t : r.outputs()) {
      tensors.add(V2Tensors.output(t, allBinary || binaryOutputs.contains(t.name()), blobs));
    }
    if (blobs.isEmpty()) {
      return json(200, out);
    }
    byte[] header = out.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    all.writeBytes(header);
    blobs.forEach(all::writeBytes);
    return Response.ok(all.toByteArray(), MediaType.APPLICATION_OCTET_STREAM).header(HEADER_LENGTH, header.length)
        .build();
  }

  private static int jsonLength(String header, int bodyLength) {
    if (header == null) {
      return bodyLength;
    }
    try {
      int n = Integer.parseInt(header.trim());
      if (n >= 0 && n <= bodyLength) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw ServingException.invalid(HEADER_LENGTH + " must be the byte length of the JSON part (0 to " + bodyLength
        + "), got '" + header + "'");
  }

  private static void tensors(ArrayNode out, List<TensorSpec> specs) {
    for (TensorSpec s : specs) {
      ObjectNode t = out.addObject().put("name", s.name()).put("datatype", s.type().wireName());
      ArrayNode shape = t.putArray("shape");
      Arrays.stream(s.shape()).forEach(shape::add);
    }
  }

  static Response json(int status, ObjectNode body) {
    return Response.status(status).type(MediaType.APPLICATION_JSON).entity(body.toString()).build();
  }
}
