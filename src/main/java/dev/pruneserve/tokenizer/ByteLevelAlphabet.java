package dev.pruneserve.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * GPT-2's byte-level alphabet: each byte is written as one printable code point (printable
 * Latin-1 bytes as themselves, the other 68 as U+0100 onwards), so a byte-level BPE token string
 * maps back to its bytes exactly.
 */
final class ByteLevelAlphabet {
  private ByteLevelAlphabet() {}

  /** Code point → byte. */
  static Map<Integer, byte[]> decoding() {
    Map<Integer, byte[]> out = new HashMap<>();
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      out.put(printable ? b : next++, new byte[] {(byte) b});
    }
    return out;
  }

  /** The bytes of a token string; code points outside the alphabet (added tokens) as UTF-8. */
  static byte[] decode(String token, Map<Integer, byte[]> table) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
    token.codePoints().forEach(cp -> {
      byte[] b = table.get(cp);
      out.writeBytes(
          b != null ? b : new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    });
    return out.toByteArray();
  }
}
