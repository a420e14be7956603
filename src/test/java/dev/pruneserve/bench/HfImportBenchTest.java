package dev.pruneserve.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Import speed and memory for a checkpoint of over 1 GiB of weights: a seeded random Llama-shaped
 * checkpoint (hidden 2048, 5 layers, 16 query / 4 K/V heads, MLP 5632, vocab 32000, untied; F32,
 * 1.42 GB) imported in a fresh JVM (-Xmx6g). Prints MB/s of weights and the peak RSS as a multiple
 * of the weight bytes. Run: ./mvnw -B test -Pbench -Dtest=HfImportBenchTest
 */
@Tag("bench")
class HfImportBenchTest {
  @Test
  void importSpeedAndPeakMemory() throws Exception {
    Path dir = Files.createTempDirectory("hf-import-bench");
    Path folder = dev.pruneserve.testing.RandomLlama.write(dir.resolve("llama-1g"), 5, false); // 1.42 GB
    long weights = Files.size(folder.resolve("model.safetensors"));
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process proc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx6g",
        "-cp", cp, HfImportMain.class.getName(), folder.toString(), dir.resolve("cache").toString())
        .redirectErrorStream(true).start();
    String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (proc.waitFor() != 0) {
      throw new IllegalStateException("import failed:\n" + out);
    }
    long ms = value(out, "TIME ");
    long peak = value(out, "PEAK ");
    System.out.printf("BENCH hf-import | weights %.2f GB F32 | %.1f s | %.0f MB/s | peak RSS %.2f GB = %.2fx weight"
        + " bytes | ONNX %.2f GB |%n", weights / 1e9, ms / 1e3, weights / 1e6 / (ms / 1e3), peak / 1e9,
        (double) peak / weights, value(out, "OUT ") / 1e9);
  }

  private static long value(String out, String key) {
    return out.lines().filter(l -> l.startsWith(key)).mapToLong(l -> Long.parseLong(l.substring(key.length())))
        .findFirst().orElseThrow(() -> new IllegalStateException("no " + key + "line:\n" + out));
  }

}
