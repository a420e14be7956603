package dev.pruneserve.pruning.zo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The counter-based directions: a pure function of (seed, query, tensor, element) — the same value
 * in any order and from a fresh generator — with N(0, 1) moments and independent streams.
 */
class CounterRngTest {
  @Test
  void elementsAreRegeneratedIdenticallyInAnyOrder() {
    CounterRng a = new CounterRng(7, CounterRng.Law.GAUSSIAN);
    CounterRng b = new CounterRng(7, CounterRng.Law.GAUSSIAN);
    long s = a.stream(3, 11);
    double[] forward = new double[1000];
    for (int k = 0; k < forward.length; k++) {
      forward[k] = a.z(s, k);
    }
    for (int k = forward.length - 1; k >= 0; k -= 7) {
      assertEquals(Double.doubleToLongBits(forward[k]), Double.doubleToLongBits(b.z(b.stream(3, 11), k)));
    }
    assertNotEquals(a.z(a.stream(3, 11), 5), a.z(a.stream(3, 12), 5), "tensors have their own streams");
    assertNotEquals(a.z(a.stream(3, 11), 5), a.z(a.stream(4, 11), 5), "queries have their own streams");
    assertNotEquals(a.z(s, 5), new CounterRng(8, CounterRng.Law.GAUSSIAN).z(new CounterRng(8,
        CounterRng.Law.GAUSSIAN).stream(3, 11), 5), "seeds differ");
  }

  @Test
  void gaussianMomentsAndIndependence() {
    CounterRng r = new CounterRng(0, CounterRng.Law.GAUSSIAN);
    int n = 1_000_000;
    long s1 = r.stream(0, 0);
    long s2 = r.stream(1, 0);
    double m = 0;
    double v = 0;
    double k4 = 0;
    double cross = 0;
    for (int k = 0; k < n; k++) {
      double z = r.z(s1, k);
      m += z;
      v += z * z;
      k4 += z * z * z * z;
      cross += z * r.z(s2, k);
    }
    // 5-sigma bands for n = 1e6: mean ±0.005, E z² = 1 ± 0.007, E z⁴ = 3 ± 0.05, E z z' = 0 ± 0.005
    assertEquals(0, m / n, 0.005);
    assertEquals(1, v / n, 0.007);
    assertEquals(3, k4 / n, 0.05);
    assertEquals(0, cross / n, 0.005);
  }

  @Test
  void rademacherIsPlusOrMinusOne() {
    CounterRng r = new CounterRng(1, CounterRng.Law.RADEMACHER);
    long s = r.stream(0, 0);
    int sum = 0;
    for (int k = 0; k < 100_000; k++) {
      double z = r.z(s, k);
      assertTrue(z == 1 || z == -1);
      sum += (int) z;
    }
    assertTrue(Math.abs(sum) < 2_000, "balanced: " + sum);
  }
}
