package dev.pruneserve.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A Hugging Face {@code tokenizer.json} (e.g. BERT WordPiece) through DJL's binding of the Rust
 * tokenizers library: special tokens added, truncated to {@code maxLength}. Thread-safe; the only
 * class that touches DJL. Close it to free the native tokenizer.
 */
public final class HfTokenizer implements AutoCloseable {
  /** Ids, token-type ids and attention mask of one text, all the same length. */
  public record Encoded(long[] ids, long[] typeIds, long[] mask) {}

  private final HuggingFaceTokenizer tokenizer;

  private HfTokenizer(HuggingFaceTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  public static HfTokenizer load(Path tokenizerJson, int maxLength) throws IOException {
    return new HfTokenizer(HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
        .optAddSpecialTokens(true).optTruncation(true).optMaxLength(maxLength).optPadding(false).build());
  }

  /** The whole {@code tokenizer.json} pipeline without truncation or padding (causal LMs). */
  public static HfTokenizer loadUntruncated(Path tokenizerJson) throws IOException {
    return new HfTokenizer(HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
        .optAddSpecialTokens(true).optTruncation(false).optPadding(false).build());
  }

  /** Ids of {@code text}; {@code special}: apply the post-processor (e.g. prepend BOS). */
  public long[] ids(String text, boolean special) {
    return tokenizer.encode(text, special, false).getIds();
  }

  public Encoded encode(String text) {
    Encoding e = tokenizer.encode(text);
    return new Encoded(e.getIds(), e.getTypeIds(), e.getAttentionMask());
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
