package dev.pruneserve.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.error.ServingException;
import java.util.ArrayList;
import java.util.List;

/**
 * A JSON request object with typed field access whose failures are INVALID_ARGUMENT messages naming
 * the field and what it must be (never a Jackson or Java type name). Missing and {@code null} fields
 * read as absent. Immutable.
 */
public final class JsonBody {
  public static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectNode node;
  private final String prefix;

  private JsonBody(ObjectNode node, String prefix) {
    this.node = node;
    this.prefix = prefix;
  }

  /** Parses a request body, which must be one JSON object. */
  public static JsonBody parse(byte[] body) {
    if (body == null || body.length == 0) {
      throw ServingException.invalid("the request body is empty; send a JSON object");
    }
    JsonNode n;
    try {
      n = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      var at = e.getLocation();
      throw ServingException.invalid("the request body is not valid JSON"
          + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")") + ": "
          + e.getOriginalMessage().replaceAll("\\s+", " "));
    } catch (java.io.IOException e) {
      throw ServingException.invalid("the request body cannot be read");
    }
    if (n == null || !n.isObject()) {
      throw ServingException.invalid("the request body must be a JSON object");
    }
    return new JsonBody((ObjectNode) n, "");
  }

  /** A nested object field ({@code parameters}, a tensor), absent → an empty object. */
  public JsonBody object(String field) {
    JsonNode v = get(field);
    if (v == null) {
      return new JsonBody(JSON.createObjectNode(), prefix + field + ".");
    }
    if (!v.isObject()) {
      throw wrong(field, "an object", v);
    }
    return new JsonBody((ObjectNode) v, prefix + field + ".");
  }

  /** Wraps an element of an array field as a body (for error messages naming {@code field[i]}). */
  public static JsonBody element(JsonNode v, String name) {
    if (!v.isObject()) {
      throw ServingException.invalid("'" + name + "' must be an object");
    }
    return new JsonBody((ObjectNode) v, name + ".");
  }

  /** The raw value, or null when missing or JSON null. */
  public JsonNode get(String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v;
  }

  public boolean has(String field) {
    return get(field) != null;
  }

  public String requiredString(String field) {
    String s = string(field);
    if (s == null || s.isEmpty()) {
      throw ServingException.invalid("'" + prefix + field + "' is required");
    }
    return s;
  }

  public String string(String field) {
    JsonNode v = get(field);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw wrong(field, "a string", v);
    }
    return v.asText();
  }

  /** An integer field; fractional or out-of-range numbers are refused. */
  public Long integer(String field) {
    JsonNode v = get(field);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw wrong(field, "an integer", v);
    }
    return v.asLong();
  }

  public Float number(String field) {
    JsonNode v = get(field);
    if (v == null) {
      return null;
    }
    if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
      throw wrong(field, "a number", v);
    }
    return (float) v.asDouble();
  }

  public Boolean bool(String field) {
    JsonNode v = get(field);
    if (v == null) {
      return null;
    }
    if (!v.isBoolean()) {
      throw wrong(field, "true or false", v);
    }
    return v.asBoolean();
  }

  /** A string or an array of strings (OpenAI's {@code stop}, {@code input}); absent → empty. */
  public List<String> strings(String field) {
    JsonNode v = get(field);
    List<String> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    if (v.isTextual()) {
      out.add(v.asText());
      return out;
    }
    if (!v.isArray()) {
      throw wrong(field, "a string or an array of strings", v);
    }
    for (int i = 0; i < v.size(); i++) {
      if (!v.get(i).isTextual()) {
        throw ServingException.invalid("'" + prefix + field + "[" + i + "]' must be a string, got "
            + kind(v.get(i)));
      }
      out.add(v.get(i).asText());
    }
    return out;
  }

  /** An array field; absent → an empty array. */
  public JsonNode array(String field) {
    JsonNode v = get(field);
    if (v == null) {
      return JSON.createArrayNode();
    }
    if (!v.isArray()) {
      throw wrong(field, "an array", v);
    }
    return v;
  }

  private ServingException wrong(String field, String expected, JsonNode got) {
    return ServingException.invalid("'" + prefix + field + "' must be " + expected + ", got " + kind(got));
  }

  /** A short description of a JSON value for messages: its kind, and the value when short. */
  public static String kind(JsonNode v) {
    String text = v.toString();
    String type = v.isTextual() ? "a string" : v.isNumber() ? "a number" : v.isBoolean() ? "a boolean"
        : v.isArray() ? "an array" : v.isObject() ? "an object" : "null";
    return text.length() <= 40 ? type + " (" + text + ")" : type;
  }
}
