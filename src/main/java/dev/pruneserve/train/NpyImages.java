package dev.pruneserve.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * An image set saved with NumPy: {@code images.npy} ([N, C, H, W] or [N, H, W]; float32 as the
 * model expects them, or uint8 scaled by 1/255) and, for labelled sets, {@code labels.npy} ([N]
 * integers from 0; the class count is the largest label + 1). Without labels.npy the set is
 * unlabelled: labels 0, class count 0 ({@link ImageSet#labelled()}).
 */
public final class NpyImages {
  public static final String IMAGES = "images.npy";
  public static final String LABELS = "labels.npy";

  private NpyImages() {}

  public static ImageSet load(Path dir) throws IOException {
    Path imagesFile = dir.resolve(IMAGES);
    Path labelsFile = dir.resolve(LABELS);
    if (!Files.isRegularFile(imagesFile)) {
      throw new IOException("the dataset folder " + dir + " needs " + IMAGES + " (and " + LABELS + " for labels)");
    }
    Npy.Array images = Npy.read(imagesFile);
    long[] s = images.shape();
    Npy.Array labels = Files.isRegularFile(labelsFile) ? Npy.read(labelsFile)
        : new Npy.Array("f8", new long[] {s.length > 0 ? s[0] : 0}, new double[(int) (s.length > 0 ? s[0] : 0)]);
    boolean labelled = Files.isRegularFile(labelsFile);
    if (s.length != 3 && s.length != 4) {
      throw new IOException(IMAGES + " has shape " + Arrays.toString(s) + "; expected [N, C, H, W] or [N, H, W]");
    }
    if (labels.shape().length != 1 || labels.shape()[0] != s[0]) {
      throw new IOException(LABELS + " has shape " + Arrays.toString(labels.shape()) + "; expected [" + s[0] + "]");
    }
    if (s[0] == 0) {
      throw new IOException(IMAGES + " holds no image");
    }
    boolean bytes = images.dtype().equals("u1");
    float[] pixels = new float[images.values().length];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (float) (bytes ? images.values()[i] / 255.0 : images.values()[i]);
      if (!Float.isFinite(pixels[i])) {
        throw new IOException(IMAGES + " holds a non-finite value at flat index " + i);
      }
    }
    int[] y = new int[labels.values().length];
    int classes = 0;
    for (int i = 0; i < y.length; i++) {
      double v = labels.values()[i];
      if (v < 0 || v != Math.rint(v) || v > 1_000_000) {
        throw new IOException(LABELS + "[" + i + "] = " + v + " is not a class index (0, 1, 2, ...)");
      }
      y[i] = (int) v;
      classes = Math.max(classes, y[i] + 1);
    }
    int c = s.length == 4 ? (int) s[1] : 1;
    return new ImageSet(pixels, y, c, (int) s[s.length - 2], (int) s[s.length - 1], labelled ? classes : 0);
  }
}
