package dev.pruneserve.tokenizer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's string methods for chat templates ({@code content.startswith('<tool_response>')},
 * {@code content.split('</think>')[-1].lstrip('\n')}, …), which Jinja2 exposes because its
 * strings are Python strings and Jinjava does not. Resolves only method calls on Strings; every
 * other lookup falls through to the next resolver. Stateless, thread-safe.
 */
final class PyStringMethods extends ELResolver {
  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
    if (!(base instanceof String s) || method == null) {
      return null;
    }
    Object[] p = params == null ? new Object[0] : params;
    Object out = switch (method.toString()) {
      case "startswith" -> p.length == 1 ? s.startsWith(str(p[0])) : null;
      case "endswith" -> p.length == 1 ? s.endsWith(str(p[0])) : null;
      case "strip" -> strip(s, p, true, true);
      case "lstrip" -> strip(s, p, true, false);
      case "rstrip" -> strip(s, p, false, true);
      case "split" -> p.length == 1 && !str(p[0]).isEmpty() ? split(s, str(p[0])) : null;
      case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
      case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
      case "replace" -> p.length == 2 ? s.replace(str(p[0]), str(p[1])) : null;
      default -> null;
    };
    if (out != null) {
      context.setPropertyResolved(true);
    }
    return out;
  }

  private static String str(Object o) {
    return o == null ? "" : o.toString();
  }

  /** Python's str.split(sep): every piece, empty ones included. */
  private static List<String> split(String s, String sep) {
    List<String> out = new ArrayList<>();
    int from = 0;
    for (int at; (at = s.indexOf(sep, from)) >= 0; from = at + sep.length()) {
      out.add(s.substring(from, at));
    }
    out.add(s.substring(from));
    return out;
  }

  /** Python's strip family: whitespace, or any of the given characters. */
  private static String strip(String s, Object[] p, boolean left, boolean right) {
    String chars = p.length > 0 && p[0] != null ? p[0].toString() : null;
    int a = 0;
    int b = s.length();
    while (left && a < b && (chars == null ? Character.isWhitespace(s.charAt(a)) : chars.indexOf(s.charAt(a)) >= 0)) {
      a++;
    }
    while (right && b > a && (chars == null ? Character.isWhitespace(s.charAt(b - 1))
        : chars.indexOf(s.charAt(b - 1)) >= 0)) {
      b--;
    }
    return s.substring(a, b);
  }

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {
    // not ours
  }

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public Iterator<java.beans.FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }
}
