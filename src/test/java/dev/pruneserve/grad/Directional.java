package dev.pruneserve.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The comparison every gradient test makes: an analytic gradient against a finite difference along v. */
public final class Directional {
  private Directional() {}

  /**
   * Asserts ⟨g, v⟩ = {@code numeric} within {@code rel} of max(|⟨g, v⟩|, ‖g‖‖v‖/√n) — the derivative,
   * or its typical size for a random v when it is small — plus {@code abs} (a float32 noise floor).
   */
  public static void assertDerivative(double[] g, float[] v, double numeric, double rel, double abs, String what) {
    double analytic = 0;
    double gg = 0;
    double vv = 0;
    for (int k = 0; k < g.length; k++) {
      analytic += g[k] * v[k];
      gg += g[k] * g[k];
      vv += (double) v[k] * v[k];
    }
    double scale = Math.max(Math.abs(analytic), Math.sqrt(gg * vv / g.length));
    assertEquals(analytic, numeric, rel * scale + abs, what);
  }

  public static double[] widen(float[] g) {
    double[] d = new double[g.length];
    for (int k = 0; k < g.length; k++) {
      d[k] = g[k];
    }
    return d;
  }
}
