package dev.pruneserve.bench;

import dev.pruneserve.checkpoint.HfImport;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Imports one Hugging Face folder in a fresh JVM and prints {@code TIME <ms>}, {@code OUT <bytes>}
 * and {@code PEAK <VmHWM bytes>}: {@code java HfImportMain <folder> <cache>}.
 */
public final class HfImportMain {
  private HfImportMain() {}

  public static void main(String[] args) throws Exception {
    long t0 = System.nanoTime();
    Path onnx = new HfImport(Path.of(args[1])).modelFile(Path.of(args[0]));
    System.out.println("TIME " + (System.nanoTime() - t0) / 1_000_000);
    System.out.println("OUT " + Files.size(onnx));
    System.out.println("PEAK " + dev.pruneserve.model.ProcessMemory.peakRssBytes());
  }
}
