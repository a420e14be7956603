package dev.pruneserve.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The llama2.c {@code tokenizer.bin}: score-based BPE with byte fallback (ids 3..258 stand for the
 * bytes 0..255 in this older variant), BOS = 1, EOS = 2.
 *
 * <p>File layout (little-endian): int32 max_token_length, then per token: float32 score, int32
 * length, that many bytes. Encoding follows llama2.c: prepend a space, split into UTF-8 characters
 * (unknown ones fall back to byte tokens), then repeatedly merge the adjacent pair whose
 * concatenation is a token with the highest score. Decoding strips the leading space of the first
 * piece after BOS.
 */
public final class Llama2cTokenizer implements Tokenizer {
  public static final int BOS = 1;
  public static final int EOS = 2;
  private static final int BYTE_OFFSET = 3;

  private final byte[][] pieces;
  private final float[] scores;
  /** Piece bytes as a Latin-1 string (1:1 with bytes) to id; duplicates resolve to the last id, as
   * in llama2.c's run.c (so ordinary tokens win over the byte tokens 3..258). */
  private final Map<String, Integer> ids = new HashMap<>();

  private Llama2cTokenizer(byte[][] pieces, float[] scores) {
    // Byte tokens stand for one raw byte (id − 3) whatever the file stores for them (values ≥ 0x80
    // are stored as the 2-byte UTF-8 of the Latin-1 character), so decoding rebuilds UTF-8 exactly.
    for (int b = 0; b < 256 && BYTE_OFFSET + b < pieces.length; b++) {
      pieces[BYTE_OFFSET + b] = new byte[] {(byte) b};
    }
    this.pieces = pieces;
    this.scores = scores;
    for (int id = 0; id < pieces.length; id++) {
      ids.put(latin1(pieces[id]), id);
    }
  }

  /** Reads {@code tokenizer.bin} holding {@code vocabSize} tokens. */
  public static Llama2cTokenizer read(Path file, int vocabSize) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    b.getInt(); // max_token_length
    byte[][] pieces = new byte[vocabSize][];
    float[] scores = new float[vocabSize];
    for (int i = 0; i < vocabSize; i++) {
      scores[i] = b.getFloat();
      int len = b.getInt();
      pieces[i] = new byte[len];
      b.get(pieces[i]);
    }
    if (b.hasRemaining()) {
      throw new IOException(file + ": " + b.remaining() + " trailing bytes after " + vocabSize + " tokens");
    }
    return new Llama2cTokenizer(pieces, scores);
  }

  @Override
  public int[] encode(String text, boolean bos) {
    List<Integer> tokens = new ArrayList<>();
    if (!text.isEmpty()) {
      tokens.add(ids.get(" "));
    }
    text.codePoints().forEach(cp -> {
      byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
      Integer id = ids.get(latin1(utf8));
      if (id != null) {
        tokens.add(id);
      } else {
        for (byte x : utf8) {
          tokens.add((x & 0xff) + BYTE_OFFSET);
        }
      }
    });
    mergeAll(tokens);
    int[] out = new int[tokens.size() + (bos ? 1 : 0)];
    int k = 0;
    if (bos) {
      out[k++] = BOS;
    }
    for (int t : tokens) {
      out[k++] = t;
    }
    return out;
  }

  private void mergeAll(List<Integer> tokens) {
    while (true) {
      float best = Float.NEGATIVE_INFINITY;
      int bestId = -1;
      int bestIdx = -1;
      for (int i = 0; i + 1 < tokens.size(); i++) {
        Integer id = ids.get(latin1(pieces[tokens.get(i)]) + latin1(pieces[tokens.get(i + 1)]));
        if (id != null && scores[id] > best) {
          best = scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) {
        return;
      }
      tokens.set(bestIdx, bestId);
      tokens.remove(bestIdx + 1);
    }
  }

  @Override
  public byte[] piece(int previous, int id) {
    byte[] p = pieces[id];
    if (previous == BOS && p.length > 0 && p[0] == ' ') {
      byte[] q = new byte[p.length - 1];
      System.arraycopy(p, 1, q, 0, q.length);
      return q;
    }
    return p.clone();
  }

  /** Decodes a whole sequence (BOS/EOS contribute nothing). */
  public String decode(int[] tokens) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    int prev = -1;
    for (int t : tokens) {
      if (t != BOS && t != EOS) {
        out.writeBytes(piece(prev, t));
      }
      prev = t;
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  @Override
  public int bosId() {
    return BOS;
  }

  @Override
  public int eosId() {
    return EOS;
  }

  private static String latin1(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }
}
