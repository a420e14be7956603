package dev.pruneserve.bench;

import dev.pruneserve.variant.AliasTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The alias switch itself (AliasTable.set, no gRPC), durability SYNC vs WRITE_BEHIND side by side:
 * 200 swaps among 3 targets each, interleaved, p50/p99 and the ratio.
 * Run: ./mvnw -B test -Pbench -Dtest=AliasSwapBenchTest
 */
@Tag("bench")
class AliasSwapBenchTest {
  @Test
  void syncVersusWriteBehind() throws Exception {
    Path dir = Files.createTempDirectory("aliases");
    int n = 200;
    long[] sync = new long[n];
    long[] behind = new long[n];
    try (AliasTable s = new AliasTable(dir.resolve("sync.json"), AliasTable.Durability.SYNC);
        AliasTable w = new AliasTable(dir.resolve("behind.json"), AliasTable.Durability.WRITE_BEHIND)) {
      for (int i = 0; i < n; i++) {
        String target = "m@" + (i % 3);
        long t0 = System.nanoTime();
        s.set("prod", target, Optional.empty());
        long t1 = System.nanoTime();
        w.set("prod", target, Optional.empty());
        long t2 = System.nanoTime();
        sync[i] = t1 - t0;
        behind[i] = t2 - t1;
      }
    }
    Arrays.sort(sync);
    Arrays.sort(behind);
    System.out.printf("BENCH alias-switch %d swaps: sync p50 %.3f ms p99 %.3f ms | write-behind p50 %.4f ms p99 %.4f ms"
        + " | p99 ratio %.0f×%n", n, sync[n / 2] / 1e6, sync[n * 99 / 100] / 1e6, behind[n / 2] / 1e6,
        behind[n * 99 / 100] / 1e6, (double) sync[n * 99 / 100] / behind[n * 99 / 100]);
  }
}
