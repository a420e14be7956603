package dev.pruneserve.http.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.embed.EmbeddingService;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.http.JsonBody;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

/**
 * {@code POST /v1/embeddings} over {@link EmbeddingService}: {@code input} a string or an array of
 * strings (token arrays are refused), {@code encoding_format} {@code float} or {@code base64}
 * (little-endian float32, which the OpenAI SDKs request by default), {@code dimensions} only the
 * model's own; vectors L2-normalised with the model's configured pooling, as OpenAI's are unit
 * length. Runs on a worker thread.
 */
@Path("/v1/embeddings")
public class EmbeddingsResource {
  @Inject EmbeddingService embeddings;

  @POST
  @Consumes(MediaType.WILDCARD)
  @Produces(MediaType.APPLICATION_JSON)
  public String embed(byte[] body) {
    JsonBody b = JsonBody.parse(body);
    String model = b.requiredString("model");
    if (b.get("input") == null) {
      throw ServingException.invalid("'input' is required: a string or an array of strings");
    }
    List<String> input;
    try {
      input = b.strings("input");
    } catch (ServingException e) {
      throw ServingException.invalid("'input' must be a string or an array of strings (token arrays are not"
          + " supported)");
    }
    String format = b.string("encoding_format");
    if (format != null && !format.equals("float") && !format.equals("base64")) {
      throw ServingException.invalid("'encoding_format' must be \"float\" or \"base64\", got \"" + format + "\"");
    }
    String version = b.string("version");
    EmbeddingService.Result r = embeddings.embed(model, version == null ? "" : version, input, true, "");
    int dims = r.vectors().get(0).length;
    Long asked = b.integer("dimensions");
    if (asked != null && asked != dims) {
      throw ServingException.invalid("'dimensions' is " + asked + " but model '" + model + "' has " + dims
          + " (no truncation: leave dimensions out)");
    }
    ObjectNode root = JsonBody.JSON.createObjectNode().put("object", "list");
    ArrayNode data = root.putArray("data");
    for (int i = 0; i < r.vectors().size(); i++) {
      ObjectNode e = data.addObject().put("object", "embedding").put("index", i);
      float[] v = r.vectors().get(i);
      if ("base64".equals(format)) {
        ByteBuffer bytes = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(v);
        e.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
      } else {
        ArrayNode values = e.putArray("embedding");
        for (float x : v) {
          values.add(x);
        }
      }
    }
    root.put("model", model);
    long tokens = java.util.Arrays.stream(r.tokenCounts()).asLongStream().sum();
    root.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
    return root.toString();
  }
}
