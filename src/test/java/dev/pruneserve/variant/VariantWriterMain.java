package dev.pruneserve.variant;

import dev.pruneserve.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Child process for {@link VariantCrashTest}: writes variants of the parent {@code <root>/mlp} with
 * a 16 MB model each, one after another, until it is killed.
 */
public final class VariantWriterMain {
  private VariantWriterMain() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    VariantStore store = new VariantStore(new ModelRepository(root));
    byte[] model = Files.readAllBytes(root.resolve("mlp/1/model.onnx"));
    byte[] big = new byte[16 << 20];
    System.arraycopy(model, 0, big, 0, model.length); // content only matters for the sha256 check
    for (int i = 0;; i++) {
      big[big.length - 1] = (byte) i;
      String name = "mlp@crash-" + i;
      store.write(new VariantManifest(name, "crash-" + i, "mlp", "1", "00", Map.of("method", "random"), Map.of(),
          VariantIds.sha256Hex(big), 1, 1, big.length, "2026-11-25T00:00:00Z"), big, root.resolve("mlp"));
    }
  }
}
