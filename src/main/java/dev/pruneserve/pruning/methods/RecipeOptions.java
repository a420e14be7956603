package dev.pruneserve.pruning.methods;

import dev.pruneserve.error.ServingException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Request options by their command-line names ({@code flap-metric}, {@code queries}, …) as strings:
 * the one form the RPC and the CLI both produce, so one parser with one set of defaults applies.
 * An absent key means the default. Typed getters refuse bad values with INVALID_ARGUMENT naming the
 * option. Immutable.
 */
public final class RecipeOptions {
  private final Map<String, String> values;
  private final java.util.function.UnaryOperator<String> names;
  /** Keys some parser read (present or not): what the recipe's method and the CNN settings use. */
  private final java.util.Set<String> read = new java.util.HashSet<>();

  /** @param names how messages name an option (the CLI's {@code --key}, the RPC's field path) */
  public RecipeOptions(Map<String, String> values, java.util.function.UnaryOperator<String> names) {
    this.values = Map.copyOf(values);
    this.names = names;
  }

  public RecipeOptions(Map<String, String> values) {
    this(values, k -> "--" + k);
  }

  /** The name messages use for {@code key}. */
  public String name(String key) {
    return names.apply(key);
  }

  /** The keys read so far. */
  java.util.Set<String> read() {
    return java.util.Set.copyOf(read);
  }

  public boolean has(String key) {
    read.add(key);
    return values.containsKey(key);
  }

  public String text(String key, String fallback) {
    read.add(key);
    return values.getOrDefault(key, fallback);
  }

  public int integer(String key, int fallback) {
    return parsed(key, fallback, Integer::parseInt, "an integer");
  }

  public long longValue(String key, long fallback) {
    return parsed(key, fallback, Long::parseLong, "an integer");
  }

  public double decimal(String key, double fallback) {
    return parsed(key, fallback, Double::parseDouble, "a number");
  }

  private <T> T parsed(String key, T fallback, java.util.function.Function<String, T> parse, String what) {
    read.add(key);
    String v = values.get(key);
    try {
      return v == null ? fallback : parse.apply(v);
    } catch (NumberFormatException e) {
      throw ServingException.invalid(name(key) + " must be " + what + " in range, got '" + v + "'");
    }
  }

  public boolean bool(String key, boolean fallback) {
    read.add(key);
    String v = values.get(key);
    if (v == null) {
      return fallback;
    }
    if (!v.equals("true") && !v.equals("false")) {
      throw ServingException.invalid(name(key) + " must be true or false, got '" + v + "'");
    }
    return Boolean.parseBoolean(v);
  }

  /** An enum constant by its lower-case, dash-separated name (case-insensitive). */
  public <E extends Enum<E>> E choice(String key, Class<E> type, E fallback) {
    read.add(key);
    String v = values.get(key);
    if (v == null || v.isEmpty()) {
      return fallback;
    }
    try {
      return Enum.valueOf(type, v.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw ServingException.invalid(name(key) + " '" + v + "' is not one of "
          + Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT).replace('_', '-'));
    }
  }

  /** An enum constant's option form: lower case, dashes. */
  public static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
