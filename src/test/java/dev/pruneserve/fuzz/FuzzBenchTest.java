package dev.pruneserve.fuzz;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fuzz bench: every single-node model of the ONNX test corpus (Debian libonnx-testdata) served
 * through pruneserve's load path and run on edge-case inputs in a child JVM ({@link FuzzMain}); a
 * child that dies (or runs one model for over a minute) names the model it was on, the bench
 * restarts after it. The child's address space is capped at 6 GiB (prlimit), so an input that asks
 * for a huge output fails its allocation instead of thrashing the machine. Prints models served /
 * refused at load / crashing or hanging the process, and their op types. Command:
 * {@code ./mvnw -B test -Pbench -Dtest=FuzzBenchTest} (a few minutes on 2 cores).
 */
@Tag("bench")
class FuzzBenchTest {
  private static final Path CORPUS = Path.of("/usr/share/libonnx-testdata/data/node");

  @Test
  void singleNodeModelsNeverTakeTheProcessDown() throws Exception {
    assumeTrue(Files.isDirectory(CORPUS), "libonnx-testdata is not installed");
    List<Path> models;
    try (Stream<Path> s = Files.list(CORPUS)) {
      models = s.map(d -> d.resolve("model.onnx")).filter(Files::isRegularFile).sorted().toList();
    }
    Path work = Files.createTempDirectory("pruneserve-fuzz-bench");
    Path list = work.resolve("models.txt");
    Files.write(list, models.stream().map(Path::toString).toList());
    Path journal = work.resolve("journal.txt");
    Map<String, List<String>> crashes = new TreeMap<>();
    int next = 0;
    while (next < models.size()) {
      List<String> cmd = new ArrayList<>();
      if (Files.isExecutable(Path.of("/usr/bin/prlimit"))) { // native allocations beyond 6 GiB fail, not thrash
        cmd.addAll(List.of("/usr/bin/prlimit", "--as=" + (6L << 30)));
      }
      cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
          "-XX:ReservedCodeCacheSize=64m", "-XX:MaxMetaspaceSize=256m", "-cp",
          System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
          FuzzMain.class.getName(), list.toString(), Integer.toString(next), journal.toString()));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("child.log").toFile())).start();
      boolean ended = watch(p, journal);
      int started = lastStarted(journal);
      if (ended && p.exitValue() == 0) {
        break;
      }
      String dir = models.get(started).getParent().getFileName().toString();
      crashes.computeIfAbsent(opType(dir), k -> new ArrayList<>()).add(dir + (ended ? " (exit " + p.exitValue()
          + ")" : " (hung)"));
      next = started + 1;
    }
    Map<String, Integer> outcomes = new LinkedHashMap<>();
    for (String line : Files.readAllLines(journal)) {
      if (line.startsWith("done ")) {
        outcomes.merge(line.split(" ")[2], 1, Integer::sum);
      }
    }
    System.out.printf("BENCH fuzz | models %d | served %d | refused at load %d | crashed the process %d | op types"
        + " crashing %d: %s%n", models.size(), outcomes.getOrDefault("served", 0), outcomes.getOrDefault("refused", 0),
        crashes.values().stream().mapToInt(List::size).sum(), crashes.size(), crashes);
  }

  /** Waits for the child; a model running longer than a minute counts as hung and the child is killed. */
  private static boolean watch(Process p, Path journal) throws Exception {
    int last = -2;
    long since = System.nanoTime();
    while (!p.waitFor(1, TimeUnit.SECONDS)) {
      int now = Files.exists(journal) ? Files.readAllLines(journal).size() : 0;
      if (now != last) {
        last = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since > TimeUnit.MINUTES.toNanos(1)) {
        p.destroyForcibly().waitFor();
        return false;
      }
    }
    return true;
  }

  private static int lastStarted(Path journal) throws IOException {
    int last = -1;
    for (String line : Files.readAllLines(journal)) {
      if (line.startsWith("start ")) {
        last = Integer.parseInt(line.substring(6).trim());
      }
    }
    return last;
  }

  /** test_div_example → div (the corpus names folders by op and case). */
  private static String opType(String dir) {
    String[] parts = dir.replaceFirst("^test_", "").split("_");
    return parts[0];
  }
}
