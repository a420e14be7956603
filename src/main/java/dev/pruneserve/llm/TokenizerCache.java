package dev.pruneserve.llm;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.tokenizer.HfCausalTokenizer;
import dev.pruneserve.tokenizer.Llama2cTokenizer;
import dev.pruneserve.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Loads each model's tokenizer file once (keyed by path and modification time). Thread-safe. */
public final class TokenizerCache {
  private final Map<String, Tokenizer> cache = new ConcurrentHashMap<>();

  /** The tokenizer at {@code file}; {@code vocab} is the model's logits width. */
  public Tokenizer get(Path file, int vocab) {
    try {
      // tokenizer_config.json / generation_config.json beside a tokenizer.json carry EOS ids and the template
      String key = file.toAbsolutePath() + "@" + Files.getLastModifiedTime(file).toMillis() + "#" + vocab
          + stamp(file.resolveSibling("tokenizer_config.json")) + stamp(file.resolveSibling("generation_config.json"));
      return cache.computeIfAbsent(key, k -> load(file, vocab));
    } catch (IOException e) {
      throw ServingException.precondition("tokenizer " + file + " is missing: " + e.getMessage());
    }
  }

  private static String stamp(Path f) throws IOException {
    return Files.isRegularFile(f) ? "|" + Files.getLastModifiedTime(f).toMillis() : "";
  }

  private static Tokenizer load(Path file, int vocab) {
    String name = file.getFileName().toString();
    try {
      if (name.endsWith(".bin")) {
        return Llama2cTokenizer.read(file, vocab);
      }
      if (name.endsWith(".json")) {
        try {
          return HfCausalTokenizer.read(file, vocab);
        } catch (RuntimeException e) { // the native tokenizers library refusing the file
          throw ServingException.precondition("cannot read tokenizer " + name + ": it is not a tokenizer.json"
              + " the tokenizers library accepts");
        }
      }
    } catch (IOException e) {
      throw ServingException.precondition("cannot read tokenizer " + file + ": " + e.getMessage());
    }
    throw ServingException.precondition("unsupported tokenizer file '" + name
        + "': causal LMs take a Hugging Face tokenizer.json or a llama2.c tokenizer.bin");
  }
}
