package dev.pruneserve.testing;

import dev.pruneserve.llm.Llama2cCheckpoint;
import dev.pruneserve.llm.LlamaOnnxExporter;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * A small decoder built in code, no fixture needed: a legacy llama2.c checkpoint (dim 32, 4 heads
 * of 8, hidden 88, 3 layers, vocab 64, context 32) with seeded uniform weights in ±0.35 and an
 * unshared classifier, exported like stories15M.
 */
public final class GeneratedDecoder {
  public static final int DIM = 32;
  public static final int HIDDEN = 88;
  public static final int LAYERS = 3;
  public static final int HEADS = 4;
  public static final int VOCAB = 64;
  public static final int SEQ = 32;

  private GeneratedDecoder() {}

  public static ModelProto model(Path dir) throws IOException {
    return LlamaOnnxExporter.export(Llama2cCheckpoint.read(checkpoint(dir)), "generated");
  }

  public static Path checkpoint(Path dir) throws IOException {
    long floats = (long) VOCAB * DIM + LAYERS * DIM + 4L * LAYERS * DIM * DIM + LAYERS * DIM
        + 3L * LAYERS * DIM * HIDDEN + DIM + (long) SEQ * (DIM / HEADS) + (long) VOCAB * DIM;
    ByteBuffer b = ByteBuffer.allocate(28 + (int) floats * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : new int[] {DIM, HIDDEN, LAYERS, HEADS, HEADS, -VOCAB, SEQ}) {
      b.putInt(v);
    }
    SplittableRandom rng = new SplittableRandom(11);
    for (long i = 0; i < floats; i++) {
      b.putFloat((float) ((rng.nextDouble() - 0.5) * 0.7));
    }
    Path f = dir.resolve("generated.bin");
    Files.write(f, b.array());
    return f;
  }

  /** {@code n} token sequences of lengths 6..SEQ, each starting with BOS (1). */
  public static java.util.List<int[]> sequences(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    java.util.List<int[]> out = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] s = new int[6 + r.nextInt(SEQ - 5)];
      s[0] = 1;
      for (int k = 1; k < s.length; k++) {
        s[k] = 3 + r.nextInt(VOCAB - 3);
      }
      out.add(s);
    }
    return out;
  }
}
