package dev.pruneserve.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A causal LM's Hugging Face {@code tokenizer.json}: encoding through the Rust tokenizers library
 * ({@link HfTokenizer}); decoding piece by piece from the vocabulary, in one of the two layouts
 * causal LMs ship: byte-level BPE (GPT-2's byte-to-unicode alphabet: Llama 3, Qwen, SmolLM) or
 * SentencePiece-style BPE ({@code ▁} for spaces, {@code <0xNN>} byte fallback, the leading space of
 * the text dropped: Llama 2, Mistral, TinyLlama). Special tokens decode to nothing. BOS and EOS
 * come from {@code tokenizer_config.json} and {@code generation_config.json} next to the file
 * (several EOS ids allowed). Thread-safe; close to free the native tokenizer.
 */
public final class HfCausalTokenizer implements Tokenizer, AutoCloseable {
  private final HfTokenizer encoder;
  private final byte[][] pieces;
  private final boolean byteLevel;
  private final int bos;
  private final int[] stops;
  private final ChatTemplate chat;

  private HfCausalTokenizer(HfTokenizer encoder, byte[][] pieces, boolean byteLevel, int bos, int[] stops,
      ChatTemplate chat) {
    this.encoder = encoder;
    this.pieces = pieces;
    this.byteLevel = byteLevel;
    this.bos = bos;
    this.stops = stops;
    this.chat = chat;
  }

  /** @param vocab the model's logits width; ids past the tokenizer's vocabulary decode to nothing */
  public static HfCausalTokenizer read(Path tokenizerJson, int vocab) throws IOException {
    ObjectMapper json = new ObjectMapper();
    JsonNode tj = json.readTree(tokenizerJson.toFile());
    boolean byteLevel = tj.path("decoder").toString().contains("\"ByteLevel\"");
    Map<Integer, byte[]> byteTable = byteLevel ? ByteLevelAlphabet.decoding() : Map.of();
    byte[][] pieces = new byte[vocab][];
    JsonNode model = tj.path("model");
    if (!model.path("type").asText("BPE").equals("BPE") || !model.path("vocab").isObject()) {
      throw new IOException("tokenizer.json: model type '" + model.path("type").asText() + "' is not supported for"
          + " causal LMs (BPE only)");
    }
    Map<String, Integer> ids = new java.util.HashMap<>(); // token text → id, for BOS/EOS by name
    for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) {
      int id = e.getValue().asInt();
      ids.put(e.getKey(), id);
      if (id >= 0 && id < vocab) {
        pieces[id] = byteLevel ? ByteLevelAlphabet.decode(e.getKey(), byteTable) : sentencePiece(e.getKey());
      }
    }
    for (JsonNode t : tj.path("added_tokens")) {
      int id = t.path("id").asInt(-1);
      ids.put(t.path("content").asText(), id);
      if (id >= 0 && id < vocab) {
        pieces[id] = t.path("special").asBoolean(false) ? new byte[0]
            : t.path("content").asText().getBytes(StandardCharsets.UTF_8);
      }
    }
    Path dir = tokenizerJson.toAbsolutePath().getParent();
    JsonNode cfg = readIfPresent(json, dir.resolve("tokenizer_config.json"));
    JsonNode gen = readIfPresent(json, dir.resolve("generation_config.json"));
    int bosId = gen.path("bos_token_id").canConvertToInt() ? gen.get("bos_token_id").asInt()
        : ids.getOrDefault(tokenText(cfg.path("bos_token")), -1);
    List<Integer> eos = new ArrayList<>();
    JsonNode genEos = gen.path("eos_token_id");
    if (genEos.isArray()) {
      genEos.forEach(n -> eos.add(n.asInt()));
    } else if (genEos.canConvertToInt()) {
      eos.add(genEos.asInt());
    }
    int cfgEos = ids.getOrDefault(tokenText(cfg.path("eos_token")), -1);
    if (cfgEos >= 0 && !eos.contains(cfgEos)) {
      eos.add(cfgEos);
    }
    if (eos.isEmpty()) {
      throw new IOException("no EOS token: neither generation_config.json eos_token_id nor tokenizer_config.json"
          + " eos_token is set next to " + tokenizerJson.getFileName());
    }
    ChatTemplate chat = chatTemplate(dir, cfg);
    // the native tokenizer last: nothing after it can fail, so it is never leaked
    return new HfCausalTokenizer(HfTokenizer.loadUntruncated(tokenizerJson), pieces, byteLevel, bosId,
        eos.stream().mapToInt(Integer::intValue).toArray(), chat);
  }

  /**
   * tokenizer_config.json's {@code chat_template} (a string, or a list of named templates: the one
   * named "default"), else a {@code chat_template.jinja} file next to it; null when neither.
   */
  private static ChatTemplate chatTemplate(Path dir, JsonNode cfg) throws IOException {
    JsonNode t = cfg.path("chat_template");
    String text = null;
    if (t.isTextual()) {
      text = t.asText();
    } else if (t.isArray()) {
      for (JsonNode named : t) {
        if (named.path("name").asText().equals("default")) {
          text = named.path("template").asText(null);
        }
      }
    } else if (Files.isRegularFile(dir.resolve("chat_template.jinja"))) {
      text = Files.readString(dir.resolve("chat_template.jinja"));
    }
    return text == null ? null : new ChatTemplate(text, tokenText(cfg.path("bos_token")),
        tokenText(cfg.path("eos_token")));
  }

  private static JsonNode readIfPresent(ObjectMapper json, Path file) throws IOException {
    return Files.isRegularFile(file) ? json.readTree(file.toFile()) : json.createObjectNode();
  }

  /** A special token as tokenizer_config.json writes it: a string, or an object with {@code content}. */
  private static String tokenText(JsonNode n) {
    return n.isTextual() ? n.asText() : n.path("content").isTextual() ? n.get("content").asText() : null;
  }

  /** A SentencePiece-style piece: {@code <0xNN>} is that byte, {@code ▁} a space. */
  private static byte[] sentencePiece(String piece) {
    if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
      try {
        return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
      } catch (NumberFormatException e) {
        // an ordinary token that looks like one
      }
    }
    return piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public int[] encode(String text, boolean withBos) {
    long[] ids = encoder.ids(text, withBos);
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  @Override
  public byte[] piece(int previous, int id) {
    byte[] p = id >= 0 && id < pieces.length && pieces[id] != null ? pieces[id] : new byte[0];
    boolean start = previous < 0 || previous == bos;
    if (!byteLevel && start && p.length > 0 && p[0] == ' ') {
      return java.util.Arrays.copyOfRange(p, 1, p.length); // SentencePiece's dummy prefix
    }
    return p;
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  @Override
  public int bosId() {
    return bos;
  }

  @Override
  public int eosId() {
    return stops[0];
  }

  @Override
  public java.util.Optional<ChatTemplate> chatTemplate() {
    return java.util.Optional.ofNullable(chat);
  }

  @Override
  public int[] stopIds() {
    return stops.clone();
  }

  @Override
  public void close() {
    encoder.close();
  }
}
