package dev.pruneserve.tokenizer;

/**
 * Text to token ids and back. Implementations are immutable and thread-safe.
 */
public interface Tokenizer {
  /** Ids of {@code text}, with the model's begin-of-sequence token first when {@code bos}. */
  int[] encode(String text, boolean bos);

  /**
   * The bytes token {@code id} contributes after token {@code previous} (−1 at the start). Bytes,
   * not text: one UTF-8 character may span several tokens, so callers join bytes before decoding.
   */
  byte[] piece(int previous, int id);

  int vocabSize();

  int bosId();

  int eosId();

  /** The model's chat template, if its tokenizer files carry one. */
  default java.util.Optional<ChatTemplate> chatTemplate() {
    return java.util.Optional.empty();
  }

  /** Ids that end generation (EOS; several for chat models). */
  default int[] stopIds() {
    return new int[] {eosId()};
  }
}
