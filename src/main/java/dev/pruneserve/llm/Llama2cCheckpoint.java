package dev.pruneserve.llm;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A llama2.c checkpoint in the legacy ("v0") layout: a 7 × int32 header {dim, hidden_dim,
 * n_layers, n_heads, n_kv_heads, vocab_size, seq_len} (vocab_size < 0 = untied classifier), then
 * fp32 arrays, matrices stored [out, in] row-major: tok_emb[V,D], rms_att[L,D], wq/wk/wv/wo[L,D,D],
 * rms_ffn[L,D], w1[L,F,D], w2[L,D,F], w3[L,F,D], rms_final[D], a legacy RoPE table
 * [seq_len, head_dim] (skipped), and wcls[V,D] when untied. With grouped-query attention
 * (n_kv_heads < n_heads) wk and wv are [L, D·n_kv_heads/n_heads, D].
 *
 * <p>The versioned format (magic "ak42") is rejected with a message. Views are slices of one
 * read-only memory map; they stay valid while this object is reachable.
 */
public final class Llama2cCheckpoint {
  private static final int VERSIONED_MAGIC = 0x616b3432;

  public final int dim;
  public final int hiddenDim;
  public final int layers;
  public final int heads;
  public final int kvHeads;
  public final int vocab;
  public final int seqLen;
  public final boolean tiedClassifier;
  private final FloatBuffer all;
  // offsets in floats; computed in long, checked to fit a FloatBuffer index before use
  private final long offRmsAtt;
  private final long offWq;
  private final long offRmsFfn;
  private final long offW1;
  private final long offRmsFinal;
  private final long offWcls;

  private Llama2cCheckpoint(int[] h, FloatBuffer all) {
    dim = h[0];
    hiddenDim = h[1];
    layers = h[2];
    heads = h[3];
    kvHeads = h[4];
    vocab = Math.abs(h[5]);
    tiedClassifier = h[5] > 0;
    seqLen = h[6];
    this.all = all;
    offRmsAtt = (long) vocab * dim;
    offWq = offRmsAtt + (long) layers * dim;
    offRmsFfn = offWq + 2L * layers * dim * (dim + kvDim());
    offW1 = offRmsFfn + (long) layers * dim;
    offRmsFinal = offW1 + 3L * layers * dim * hiddenDim;
    offWcls = offRmsFinal + dim + (long) seqLen * (dim / heads);
  }

  public static Llama2cCheckpoint read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      map.order(ByteOrder.LITTLE_ENDIAN);
      int[] h = new int[7];
      for (int i = 0; i < 7; i++) {
        h[i] = map.getInt(i * 4);
      }
      if (h[0] == VERSIONED_MAGIC) {
        throw new IOException(file + " is a versioned llama2.c checkpoint (magic \"ak42\"); only the legacy"
            + " v0 layout is supported: export it with llama2.c's legacy_export");
      }
      for (int i = 0; i < 7; i++) {
        if (h[i] == 0 || (i != 5 && h[i] < 0)) {
          throw new IOException(file + ": header field " + i + " is " + h[i] + "; not a llama2.c checkpoint");
        }
      }
      if (h[3] % h[4] != 0 || h[0] % h[3] != 0) {
        throw new IOException(file + ": n_heads " + h[3] + " must divide dim " + h[0] + " and be a multiple of"
            + " n_kv_heads " + h[4]);
      }
      FloatBuffer floats = map.position(28).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      Llama2cCheckpoint c = new Llama2cCheckpoint(h, floats);
      long needed = c.tiedClassifier ? c.offWcls : c.offWcls + (long) c.vocab * c.dim;
      if (needed > Integer.MAX_VALUE) {
        throw new IOException(file + ": " + needed + " floats; checkpoints over 8 GiB are not supported");
      }
      if (floats.capacity() < needed) {
        throw new IOException(file + ": truncated: " + floats.capacity() + " floats, header implies " + needed);
      }
      return c;
    }
  }

  public int headDim() {
    return dim / heads;
  }

  public FloatBuffer tokenEmbedding() {
    return slice(0, vocab * dim);
  }

  public FloatBuffer rmsAttention(int layer) {
    return slice(offRmsAtt + layer * dim, dim);
  }

  /** Width of the k and v projections: D · n_kv_heads / n_heads. */
  public int kvDim() {
    return dim / heads * kvHeads;
  }

  /** {@code which} 0..3 = wq [D, D], wk [kvDim, D], wv [kvDim, D], wo [D, D]; [out, in]. */
  public FloatBuffer attention(int which, int layer) {
    long[] start = {0, (long) layers * dim, (long) layers * (dim + kvDim()),
        2L * layers * (dim + kvDim()) - (long) layers * dim};
    int rows = which == 1 || which == 2 ? kvDim() : dim;
    return slice(offWq + (start[which] + (long) layer * rows) * dim, rows * dim);
  }

  /** The decoder this checkpoint describes (RMSNorm eps 1e-5, RoPE θ 10000, as llama2.c). */
  public DecoderSpec spec() {
    return new DecoderSpec(dim, hiddenDim, layers, heads, kvHeads, headDim(), vocab, seqLen, 1e-5f,
        DecoderSpec.Rope.plain(10000f), false, false, false, tiedClassifier);
  }

  /**
   * The weights under Hugging Face names and layout: q/k rows permuted from llama2.c's interleaved
   * RoPE pairs to rotate-half order (the permutation of transformers' llama conversion script).
   */
  public DecoderWeights weights() {
    return new Llama2cWeights(this);
  }

  public FloatBuffer rmsFfn(int layer) {
    return slice(offRmsFfn + layer * dim, dim);
  }

  /** {@code which} 0..2 = w1 [F,D], w2 [D,F], w3 [F,D]. */
  public FloatBuffer ffn(int which, int layer) {
    return slice(offW1 + (long) (which * layers + layer) * dim * hiddenDim, dim * hiddenDim);
  }

  public FloatBuffer rmsFinal() {
    return slice(offRmsFinal, dim);
  }

  /** The untied classifier [V, D]; only when {@link #tiedClassifier} is false. */
  public FloatBuffer classifier() {
    return slice(offWcls, vocab * dim);
  }

  private FloatBuffer slice(long offset, int length) {
    return all.slice((int) offset, length); // fits: read() checked the total against Integer.MAX_VALUE
  }
}
