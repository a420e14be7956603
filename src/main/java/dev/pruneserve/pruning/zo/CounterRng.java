package dev.pruneserve.pruning.zo;

/**
 * Counter-based perturbation directions: element {@code k} of tensor {@code t} in query {@code
 * i} is a pure function of (seed, i, t, k), so a direction is never stored and can be regenerated
 * for any element, in any order, on any thread (MeZO's seed trick, algorithms.md §2.2). Keys are
 * mixed with SplitMix64's finaliser; Gaussian values use Box–Muller on two independent 53-bit
 * uniforms. Stateless and thread-safe.
 */
public final class CounterRng {
  /** Distribution of each direction element. */
  public enum Law {
    GAUSSIAN, RADEMACHER
  }

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final double TWO_PI = 2 * Math.PI;
  private static final double UNIT = 0x1.0p-53;

  private final long seed;
  private final Law law;

  public CounterRng(long seed, Law law) {
    this.seed = seed;
    this.law = law;
  }

  public Law law() {
    return law;
  }

  /** The key of (query, tensor): hoist it out of element loops. */
  public long stream(int query, int tensor) {
    return mix(mix(seed + GOLDEN * (query + 1)) + 0xD1B54A32D192ED03L * (tensor + 1));
  }

  /** Element {@code k} of the direction of {@code stream}. */
  public double z(long stream, long k) {
    long a = mix(stream + GOLDEN * (k + 1));
    if (law == Law.RADEMACHER) {
      return a < 0 ? -1 : 1;
    }
    double u1 = ((a >>> 11) + 1) * UNIT; // (0, 1]: log is finite
    double u2 = (mix(a ^ 0x94D049BB133111EBL) >>> 11) * UNIT;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI * u2);
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
