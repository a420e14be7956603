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
    return encode(text, bos, new long[1]);
  }

  /**
   * As {@link #encode(String, boolean)}; {@code work[0]} is increased by the merge candidates
   * examined (heap pushes), which grows as O(n) pushes for n characters — each O(log n).
   */
  int[] encode(String text, boolean bos, long[] work) {
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
    int[] merged = mergeAll(tokens.stream().mapToInt(Integer::intValue).toArray(), work);
    int[] out = new int[merged.length + (bos ? 1 : 0)];
    if (bos) {
      out[0] = BOS;
    }
    System.arraycopy(merged, 0, out, bos ? 1 : 0, merged.length);
    return out;
  }

  /** A merge candidate: the pair starting at {@code left}, as it was when queued. */
  private record Candidate(float score, int left, int leftToken, int rightToken, int merged) {}

  /**
   * llama2.c's merge rule — repeatedly merge the adjacent pair whose concatenation is the token with
   * the highest score, the leftmost on ties — in O(n log n): a doubly linked list of tokens and a
   * heap of candidate pairs, stale candidates skipped when popped.
   */
  private int[] mergeAll(int[] start, long[] work) {
    int n = start.length;
    int[] tok = start.clone();
    int[] prev = new int[n];
    int[] next = new int[n];
    for (int i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    java.util.PriorityQueue<Candidate> heap = new java.util.PriorityQueue<>((a, b) -> a.score() != b.score()
        ? Float.compare(b.score(), a.score()) : Integer.compare(a.left(), b.left()));
    for (int i = 0; i + 1 < n; i++) {
      offer(heap, tok, i, i + 1, work);
    }
    while (!heap.isEmpty()) {
      Candidate c = heap.poll();
      int right = next[c.left()];
      if (tok[c.left()] != c.leftToken() || right < 0 || tok[right] != c.rightToken()) {
        continue; // one side merged since it was queued
      }
      tok[c.left()] = c.merged();
      tok[right] = -1;
      next[c.left()] = next[right];
      if (next[right] >= 0) {
        prev[next[right]] = c.left();
        offer(heap, tok, c.left(), next[c.left()], work);
      }
      if (prev[c.left()] >= 0) {
        offer(heap, tok, prev[c.left()], c.left(), work);
      }
    }
    return java.util.Arrays.stream(tok).filter(t -> t >= 0).toArray();
  }

  private void offer(java.util.PriorityQueue<Candidate> heap, int[] tok, int left, int right, long[] work) {
    Integer id = ids.get(latin1(pieces[tok[left]]) + latin1(pieces[tok[right]]));
    if (id != null && scores[id] > Float.NEGATIVE_INFINITY) { // as llama2.c: -inf and NaN scores never merge
      work[0]++;
      heap.add(new Candidate(scores[id], left, tok[left], tok[right], id));
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

  /** EOS, and BOS: llama2.c models mark a story's end with BOS. */
  @Override
  public int[] stopIds() {
    return new int[] {EOS, BOS};
  }

  private static String latin1(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }
}
