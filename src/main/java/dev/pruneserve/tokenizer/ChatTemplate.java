package dev.pruneserve.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face chat template (the Jinja {@code chat_template} of tokenizer_config.json) rendered
 * with Jinjava, the way transformers' {@code apply_chat_template} renders it: variables
 * {@code messages} (role, content), {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token}. The only class that touches Jinjava. Immutable and thread-safe.
 */
public final class ChatTemplate {
  /** One chat turn. */
  public record Message(String role, String content) {}

  private final String template;
  private final String bos;
  private final String eos;
  private final Jinjava jinja;

  public ChatTemplate(String template, String bos, String eos) {
    this.template = JinjaCompat.rewrite(template);
    this.bos = bos == null ? "" : bos;
    this.eos = eos == null ? "" : eos;
    jinjava.javax.el.CompositeELResolver resolver = new jinjava.javax.el.CompositeELResolver();
    resolver.add(new PyStringMethods());
    resolver.add(com.hubspot.jinjava.el.JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
    // as transformers renders: trim_blocks, lstrip_blocks, {{- -}} trimming, Python's precedence
    this.jinja = new Jinjava(JinjavaConfig.newBuilder().withFailOnUnknownTokens(false).withElResolver(resolver)
        .withTrimBlocks(true).withLstripBlocks(true)
        .withLegacyOverrides(com.hubspot.jinjava.LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true).withParseWhitespaceControlStrictly(true)
            .withUseNaturalOperatorPrecedence(true).withUsePyishObjectMapper(true).build())
        .build());
    // the helpers transformers gives templates
    jinja.getGlobalContext().registerFunction(new com.hubspot.jinjava.lib.fn.ELFunctionDefinition("", "raise_exception",
        ChatTemplate.class, "raise", String.class));
    jinja.getGlobalContext().registerFunction(new com.hubspot.jinjava.lib.fn.ELFunctionDefinition("", "strftime_now",
        ChatTemplate.class, "strftimeNow", String.class));
  }

  /** The message of the raise_exception call of the render running on this thread, if any. */
  private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

  /** raise_exception(message): the template refuses the conversation. */
  public static String raise(String message) {
    RAISED.set(message);
    throw new TemplateRefusal(message);
  }

  /** strftime_now(format): the current UTC time, for the %-directives templates use. */
  public static String strftimeNow(String format) {
    java.time.ZonedDateTime now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
    return format.replace("%d", String.format("%02d", now.getDayOfMonth()))
        .replace("%b", now.getMonth().getDisplayName(java.time.format.TextStyle.SHORT, java.util.Locale.ENGLISH))
        .replace("%B", now.getMonth().getDisplayName(java.time.format.TextStyle.FULL, java.util.Locale.ENGLISH))
        .replace("%m", String.format("%02d", now.getMonthValue())).replace("%Y", Integer.toString(now.getYear()));
  }

  /** A template's raise_exception. */
  static final class TemplateRefusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TemplateRefusal(String message) {
      super(message);
    }
  }

  /**
   * The prompt text of {@code messages}, ending with the assistant's turn opened when
   * {@code addGenerationPrompt}.
   *
   * @throws IllegalArgumentException with the template's own message (e.g. its raise_exception)
   *     or the first render error
   */
  public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
    List<Map<String, Object>> msgs = new ArrayList<>();
    for (Message m : messages) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("role", m.role());
      x.put("content", m.content());
      msgs.add(x);
    }
    Map<String, Object> vars = new HashMap<>(extra);
    vars.put("messages", msgs);
    vars.put("add_generation_prompt", addGenerationPrompt);
    vars.put("bos_token", bos);
    vars.put("eos_token", eos);
    RAISED.remove();
    RenderResult r = jinja.renderForResult(template, vars);
    String raised = RAISED.get();
    RAISED.remove();
    if (raised != null) {
      throw new IllegalArgumentException("the chat template refuses these messages: " + raised);
    }
    if (!r.getErrors().isEmpty()) {
      throw new IllegalArgumentException("chat template: " + r.getErrors().get(0).getMessage());
    }
    return r.getOutput();
  }
}
