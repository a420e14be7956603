package dev.pruneserve.llm;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Accumulates token bytes and exposes the text of their longest complete UTF-8 prefix, so streamed
 * text never splits a character across messages. Not thread-safe.
 */
final class Utf8Text {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  void append(byte[] piece) {
    bytes.writeBytes(piece);
  }

  /** Text of all complete characters so far (an incomplete trailing sequence is left out). */
  String complete() {
    byte[] b = bytes.toByteArray();
    return new String(b, 0, completeLength(b), StandardCharsets.UTF_8);
  }

  /** Everything, with a dangling partial character replaced (used when generation ends). */
  String all() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  static int completeLength(byte[] b) {
    int n = b.length;
    for (int back = 1; back <= Math.min(3, n); back++) {
      int lead = b[n - back] & 0xff;
      if ((lead & 0xC0) == 0x80) {
        continue; // continuation byte: keep looking for the lead
      }
      int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }
}
