package dev.pruneserve.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.testing.NpyFiles;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User datasets in NumPy files: values, shapes and scaling as saved; malformed files refused with the reason. */
class NpyImagesTest {
  @TempDir Path dir;

  @Test
  void readsFloatNchwAndScalesUint8Nhw() throws IOException {
    NpyFiles.write(dir.resolve("f/images.npy"), "<f4", false, new long[] {2, 2, 1, 2},
        NpyFiles.float32(0.5f, -1f, 2f, 3f, 4f, 5f, 6f, 7.25f));
    NpyFiles.write(dir.resolve("f/labels.npy"), "<i8", false, new long[] {2}, NpyFiles.int64(3, 0));
    ImageSet f = NpyImages.load(dir.resolve("f"));
    assertEquals(2, f.size());
    assertEquals(2, f.channels());
    assertEquals(1, f.height());
    assertEquals(2, f.width());
    assertEquals(4, f.classes(), "largest label + 1");
    assertArrayEquals(new float[] {0.5f, -1f, 2f, 3f, 4f, 5f, 6f, 7.25f}, f.pixels());
    assertArrayEquals(new int[] {3, 0}, f.labels());

    NpyFiles.write(dir.resolve("u/images.npy"), "|u1", false, new long[] {1, 1, 3}, new byte[] {0, (byte) 255, 51});
    NpyFiles.write(dir.resolve("u/labels.npy"), "|u1", false, new long[] {1}, new byte[] {1});
    ImageSet u = NpyImages.load(dir.resolve("u"));
    assertEquals(1, u.channels(), "[N, H, W] is one channel");
    assertArrayEquals(new float[] {0f, 1f, 0.2f}, u.pixels(), 1e-7f);
  }

  @Test
  void refusesWhatItCannotUse() throws IOException {
    NpyFiles.write(dir.resolve("a/images.npy"), "<f4", false, new long[] {2, 1, 1, 1}, NpyFiles.float32(1, 2));
    NpyFiles.write(dir.resolve("a/labels.npy"), "<i8", false, new long[] {3}, NpyFiles.int64(0, 1, 2));
    assertMessage("labels.npy has shape [3]; expected [2]", dir.resolve("a"));
    NpyFiles.write(dir.resolve("a/labels.npy"), "<i8", false, new long[] {2}, NpyFiles.int64(0, -1));
    assertMessage("labels.npy[1] = -1.0 is not a class index", dir.resolve("a"));
    NpyFiles.write(dir.resolve("a/labels.npy"), "<i8", true, new long[] {2}, NpyFiles.int64(0, 1));
    assertMessage("Fortran order is not supported", dir.resolve("a"));
    NpyFiles.write(dir.resolve("a/labels.npy"), "<i8", false, new long[] {2}, NpyFiles.int64(0));
    assertMessage("8 data bytes for shape [2]", dir.resolve("a"));
    assertMessage("needs images.npy (and labels.npy for labels)", dir.resolve("missing"));
  }

  @Test
  void imagesWithoutLabelsAreAnUnlabelledSet() throws IOException {
    NpyFiles.write(dir.resolve("u/images.npy"), "<f4", false, new long[] {2, 1, 1, 2}, NpyFiles.float32(1, 2, 3, 4));
    var set = NpyImages.load(dir.resolve("u"));
    assertEquals(2, set.size());
    assertEquals(false, set.labelled());
    assertEquals(0, set.classes());
  }

  private static void assertMessage(String part, Path folder) {
    IOException e = assertThrows(IOException.class, () -> NpyImages.load(folder));
    assertTrue(e.getMessage().contains(part), e.getMessage());
  }
}
