package dev.pruneserve.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites of Jinja2 constructs that Jinjava 2.7 reads differently, applied to chat templates
 * before rendering; each keeps the template's meaning under Jinja2's rules:
 * <ul>
 *   <li>keyword arguments of {@code namespace(...)} are parenthesised: Jinjava binds
 *       {@code a=x|length - 1} as {@code (a=x|length) - 1};
 *   <li>{@code [::-1]} (reverse slice; Jinjava has no step slices) becomes {@code |reverse}.
 * </ul>
 */
final class JinjaCompat {
  private static final Pattern NAMESPACE = Pattern.compile("namespace\\(([^()]*)\\)");
  private static final Pattern KWARG = Pattern.compile("(\\w+)\\s*=\\s*([^,]+)");

  private JinjaCompat() {}

  static String rewrite(String template) {
    Matcher m = NAMESPACE.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String args = KWARG.matcher(m.group(1)).replaceAll(r -> Matcher.quoteReplacement(r.group(1) + "=("
          + r.group(2).trim() + ")"));
      m.appendReplacement(out, Matcher.quoteReplacement("namespace(" + args + ")"));
    }
    m.appendTail(out);
    return out.toString().replace("[::-1]", "|reverse");
  }
}
