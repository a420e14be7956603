package dev.pruneserve.llm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Header handling of the llama2.c reader: clear errors for what it does not read. */
class Llama2cCheckpointTest {
  @TempDir Path dir;

  @Test
  void versionedHeaderIsRejectedWithAMessage() throws IOException {
    IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(file(0x616b3432, 2, 0, 0, 0, 0, 0)));
    assertTrue(e.getMessage().contains("versioned llama2.c checkpoint"), e.getMessage());
  }

  @Test
  void truncatedFileIsRejected() throws IOException {
    IOException e = assertThrows(IOException.class, () -> Llama2cCheckpoint.read(file(16, 32, 2, 2, 2, 64, 8)));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  /**
   * A GQA checkpoint (wk/wv [L, kvDim, D]) computes what the MHA checkpoint computes whose K/V
   * heads 2j and 2j+1 are both copies of the GQA head j: the offsets of every later array hold.
   */
  @Test
  void groupedQueryAttentionEqualsTheMhaCheckpointWithRepeatedKvHeads() throws Exception {
    int dim = 16;
    int hidden = 24;
    int layers = 2;
    int heads = 4;
    int kv = 2;
    int vocab = 32;
    int seq = 8;
    int kvDim = dim / heads * kv;
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    float[] emb = rand(r, vocab * dim);
    float[] rmsAtt = rand(r, layers * dim);
    float[] wq = rand(r, layers * dim * dim);
    float[] wk = rand(r, layers * kvDim * dim);
    float[] wv = rand(r, layers * kvDim * dim);
    float[] wo = rand(r, layers * dim * dim);
    float[] rest = rand(r, layers * dim + 3 * layers * dim * hidden + dim + seq * (dim / heads));
    Path gqa = write("gqa.bin", new int[] {dim, hidden, layers, heads, kv, vocab, seq}, emb, rmsAtt, wq, wk, wv, wo,
        rest);
    Path mha = write("mha.bin", new int[] {dim, hidden, layers, heads, heads, vocab, seq}, emb, rmsAtt, wq,
        repeatHeads(wk, layers, kv, dim / heads, dim), repeatHeads(wv, layers, kv, dim / heads, dim), wo, rest);
    int[] ids = {1, 7, 3, 30, 12, 5};
    try (var a = load(gqa); var b = load(mha); KvDecoder da = new KvDecoder(a); KvDecoder db = new KvDecoder(b)) {
      org.junit.jupiter.api.Assertions.assertEquals(kv, Llama2cCheckpoint.read(gqa).spec().kvHeads());
      org.junit.jupiter.api.Assertions.assertArrayEquals(db.step(ids), da.step(ids), 1e-5f);
    }
  }

  private dev.pruneserve.session.ModelSession load(Path ck) throws Exception {
    Path f = dir.resolve(ck.getFileName() + ".onnx");
    Files.write(f, LlamaOnnxExporter.export(Llama2cCheckpoint.read(ck), "t").toByteArray());
    return dev.pruneserve.runtime.OrtRuntime.cpu(1).load("t/1", f);
  }

  private static float[] rand(java.util.SplittableRandom r, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (r.nextDouble() - 0.5);
    }
    return out;
  }

  /** [L, kv·hd, D] → [L, 2·kv·hd, D] with head j written at 2j and 2j + 1. */
  private static float[] repeatHeads(float[] w, int layers, int kv, int hd, int dim) {
    float[] out = new float[w.length * 2];
    int block = hd * dim;
    for (int l = 0; l < layers; l++) {
      for (int j = 0; j < kv; j++) {
        int src = (l * kv + j) * block;
        System.arraycopy(w, src, out, (l * 2 * kv + 2 * j) * block, block);
        System.arraycopy(w, src, out, (l * 2 * kv + 2 * j + 1) * block, block);
      }
    }
    return out;
  }

  private Path write(String name, int[] header, float[]... arrays) throws IOException {
    int n = 0;
    for (float[] a : arrays) {
      n += a.length;
    }
    ByteBuffer b = ByteBuffer.allocate(28 + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int h : header) {
      b.putInt(h);
    }
    for (float[] a : arrays) {
      for (float v : a) {
        b.putFloat(v);
      }
    }
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  private Path file(int... header) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(header.length * 4 + 64).order(ByteOrder.LITTLE_ENDIAN);
    for (int h : header) {
      b.putInt(h);
    }
    Path p = dir.resolve("ck.bin");
    Files.write(p, b.array());
    return p;
  }
}
