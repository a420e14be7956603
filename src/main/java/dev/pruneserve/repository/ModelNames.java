package dev.pruneserve.repository;

import dev.pruneserve.error.ServingException;
import java.util.regex.Pattern;

/** Validation of model names and versions as they arrive from clients. */
public final class ModelNames {
  private static final Pattern NAME = Pattern
      .compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}(@[A-Za-z0-9][A-Za-z0-9._-]{0,63})?");
  private static final Pattern VERSION = Pattern.compile("0|[1-9][0-9]{0,17}"); // canonical: 7, not 007

  private ModelNames() {}

  /** Returns {@code name} if it is a safe single path segment, else INVALID_ARGUMENT. */
  public static String requireValid(String name) {
    if (name == null || name.isEmpty()) {
      throw ServingException.invalid("model name is required");
    }
    if (!NAME.matcher(name).matches() || name.contains("..")) {
      throw ServingException.invalid(
          "invalid model name '"
              + printable(name)
              + "': use 1-128 characters from [A-Za-z0-9._-], starting with a letter or digit,"
              + " without '..' (variants: <model>@<variant-id>)");
    }
    return name;
  }

  /** True for a repository version folder name (a non-negative integer). */
  public static boolean isVersion(String s) {
    return VERSION.matcher(s).matches();
  }

  static String printable(String s) {
    String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
