package dev.pruneserve.pruning.criteria;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The AL-AM threshold on toy scores, worked by hand (algorithms.md §5.2 step 4). */
class FlapThresholdTest {
  @Test
  void thresholdSitsWhereTheCumulativeWeightIsClosestToTheKeptShare() {
    // Sorted: 3.0 (head, w 4), 2.0 (ch), 1.0 (ch), 0.5 (head, w 4), -1.0 (ch); total 11.
    List<double[]> heads = List.of(new double[] {3.0, 0.5});
    List<double[]> channels = List.of(new double[] {1.0, -1.0, 2.0});
    // p = 0.5: target 5.5; cumsum 4, 5, 6, 10, 11 → |·−5.5| smallest first at 5 (score 2.0).
    assertEquals(2.0, FlapThreshold.find(heads, channels, 0, 1, 4, 0.5));
    // p = 0.1: target 9.9 → cumsum 10 at score 0.5.
    assertEquals(0.5, FlapThreshold.find(heads, channels, 0, 1, 4, 0.1));
    // Layers outside [first, end) are not eligible and do not count.
    List<double[]> h2 = List.of(new double[] {9.0}, new double[] {3.0, 0.5});
    List<double[]> c2 = List.of(new double[] {9.0}, new double[] {1.0, -1.0, 2.0});
    assertEquals(2.0, FlapThreshold.find(h2, c2, 1, 2, 4, 0.5));
  }

  @Test
  void standardiseUsesTheUnbiasedStd() {
    // mean 2, unbiased std 1 for {1, 2, 3}.
    assertArrayEquals(new double[] {-1, 0, 1}, Flap.standardise(new double[] {1, 2, 3}), 1e-12);
    assertEquals(64, Flap.headWeight(48, 1));
  }
}
