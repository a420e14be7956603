package dev.pruneserve.train;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Labelled images in NCHW float32, already normalised: image {@code i} occupies
 * {@code pixels[i·C·H·W, (i+1)·C·H·W)}; {@code labels[i]} in [0, classes). Immutable by convention
 * (nobody writes into the arrays after construction); thread-safe to read.
 */
public record ImageSet(float[] pixels, int[] labels, int channels, int height, int width, int classes) {
  public ImageSet {
    if ((long) labels.length * channels * height * width != pixels.length) {
      throw new IllegalArgumentException(labels.length + " labels for " + pixels.length + " pixel values of "
          + channels + "x" + height + "x" + width + " images");
    }
  }

  /** The predicted class of row {@code row} of [n, classes] logits: the first largest entry. */
  public static int classOf(float[] logits, int row, int classes) {
    int off = row * classes;
    int best = 0;
    for (int i = 1; i < classes; i++) {
      if (logits[off + i] > logits[off + best]) {
        best = i;
      }
    }
    return best;
  }

  /** Whether the images carry labels (class count above 0); unlabelled sets feed activation statistics only. */
  public boolean labelled() {
    return classes > 0;
  }

  public int size() {
    return labels.length;
  }

  public int imageSize() {
    return channels * height * width;
  }

  /** The first {@code n} images (all when n ≥ size). */
  public ImageSet head(int n) {
    int k = Math.min(n, size());
    return new ImageSet(Arrays.copyOf(pixels, k * imageSize()), Arrays.copyOf(labels, k), channels, height, width,
        classes);
  }

  /** The images at {@code indices}, in that order. */
  public ImageSet select(int[] indices) {
    int s = imageSize();
    float[] p = new float[indices.length * s];
    int[] l = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      System.arraycopy(pixels, indices[i] * s, p, i * s, s);
      l[i] = labels[indices[i]];
    }
    return new ImageSet(p, l, channels, height, width, classes);
  }

  /** A permutation of 0..size−1 from {@code seed} (Fisher–Yates). */
  public int[] shuffled(long seed) {
    int[] idx = new int[size()];
    Arrays.setAll(idx, i -> i);
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = idx.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx;
  }
}
