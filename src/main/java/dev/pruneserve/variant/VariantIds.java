package dev.pruneserve.variant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * Variant ids derived from (parent content hash, canonical recipe): identical requests map to the
 * same id, so they share one job and one stored variant. Form: {@code <method>-p<ratio%>-<10 hex>},
 * e.g. {@code flap-p30-3f2a9c1b7e}; the variant is served as {@code <parent>@<id>}.
 */
public final class VariantIds {
  private static final ObjectMapper CANONICAL = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private VariantIds() {}

  public static String id(String parentSha256, Map<String, Object> recipe) {
    String method = String.valueOf(recipe.get("method"));
    double ratio = ((Number) recipe.get("ratio")).doubleValue();
    String digest = sha256Hex((parentSha256 + "\n" + canonical(recipe)).getBytes(StandardCharsets.UTF_8));
    return method.toLowerCase(Locale.ROOT) + "-p" + Math.round(ratio * 100) + "-" + digest.substring(0, 10);
  }

  public static String name(String parent, String id) {
    return parent + "@" + id;
  }

  /** JSON with map keys sorted at every level. */
  public static String canonical(Map<String, Object> recipe) {
    try {
      return CANONICAL.writeValueAsString(recipe);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("recipe is not serialisable: " + e.getMessage(), e);
    }
  }

  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
