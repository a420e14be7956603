package dev.pruneserve.assets;

import dev.pruneserve.train.ImageSet;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST from the Debian package {@code dataset-fashion-mnist} (IDX files, gzip), read from
 * {@code $PRUNESERVE_FASHION_MNIST} or {@code /usr/share/datasets/fashion-mnist}. The decompressed
 * bytes are checked against pinned sha256s (Debian re-compressed the gzip wrappers, so the .gz files
 * differ from upstream). Pixels become float32 {@code (p/255 − 0.2860)/0.3530} (the training set's
 * mean and standard deviation), shape [N, 1, 28, 28]; 10 classes.
 */
public final class FashionMnist {
  public static final float MEAN = 0.2860f;
  public static final float STD = 0.3530f;
  private static final String TRAIN_IMAGES = "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888";
  private static final String TRAIN_LABELS = "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9";
  private static final String TEST_IMAGES = "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b";
  private static final String TEST_LABELS = "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34";

  private FashionMnist() {}

  public static Path directory() {
    String env = System.getenv("PRUNESERVE_FASHION_MNIST");
    return env != null && !env.isEmpty() ? Path.of(env) : Path.of("/usr/share/datasets/fashion-mnist");
  }

  /** True when the four files are present (checksums are checked on load). */
  public static boolean available() {
    return java.util.stream.Stream.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz").allMatch(
            f -> Files.isRegularFile(directory()
                .resolve(f)));
  }

  /** The 60,000 training images. */
  public static ImageSet train() throws IOException {
    return load("train", TRAIN_IMAGES, TRAIN_LABELS);
  }

  /** The 10,000 test images. */
  public static ImageSet test() throws IOException {
    return load("t10k", TEST_IMAGES, TEST_LABELS);
  }

  private static ImageSet load(String prefix, String imagesSha, String labelsSha) throws IOException {
    ByteBuffer img = ByteBuffer.wrap(read(prefix + "-images-idx3-ubyte.gz", imagesSha));
    ByteBuffer lab = ByteBuffer.wrap(read(prefix + "-labels-idx1-ubyte.gz", labelsSha));
    if (img.getInt() != 2051 || lab.getInt() != 2049) {
      throw new IOException("not IDX image/label files in " + directory());
    }
    int n = img.getInt();
    int h = img.getInt();
    int w = img.getInt();
    if (lab.getInt() != n) {
      throw new IOException(prefix + ": image and label counts differ");
    }
    float[] pixels = new float[n * h * w];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = ((img.get() & 0xff) / 255f - MEAN) / STD;
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = lab.get() & 0xff;
    }
    return new ImageSet(pixels, labels, 1, h, w, 10);
  }

  private static byte[] read(String file, String sha256) throws IOException {
    Path p = directory().resolve(file);
    if (!Files.isRegularFile(p)) {
      throw new IOException("Fashion-MNIST file " + p + " is missing: apt-get install dataset-fashion-mnist, or"
          + " set PRUNESERVE_FASHION_MNIST to a folder holding the four IDX .gz files");
    }
    byte[] bytes;
    try (InputStream in = new GZIPInputStream(Files.newInputStream(p), 1 << 16)) {
      bytes = in.readAllBytes();
    }
    try {
      String got = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      if (!got.equals(sha256)) {
        throw new IOException("checksum mismatch for " + p + " (decompressed): got " + got + ", expected " + sha256);
      }
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return bytes;
  }
}
