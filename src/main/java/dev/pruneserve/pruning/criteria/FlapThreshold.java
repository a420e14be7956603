package dev.pruneserve.pruning.criteria;

import java.util.ArrayList;
import java.util.List;

/**
 * FLAP's AL-AM global threshold (algorithms.md §5.2 step 4): every head and MLP channel of the
 * eligible layers [first, end) in one list sorted by score, descending (stable); a head weighs
 * {@code headWeight} channels, a channel 1; the threshold is the score at the first index where
 * |cumulative weight − (1−p)·total weight| is smallest. Units scoring strictly above it are kept.
 */
final class FlapThreshold {
  private FlapThreshold() {}

  static double find(List<double[]> heads, List<double[]> channels, int first, int end, int headWeight,
      double ratio) {
    List<double[]> units = new ArrayList<>(); // {score, weight}
    for (int l = first; l < end; l++) {
      for (double s : heads.get(l)) {
        units.add(new double[] {s, headWeight});
      }
      for (double s : channels.get(l)) {
        units.add(new double[] {s, 1});
      }
    }
    if (units.isEmpty()) {
      throw new IllegalArgumentException("no eligible layer in [" + first + ", " + end + ")");
    }
    for (double[] u : units) {
      if (Double.isNaN(u[0])) {
        throw new IllegalArgumentException("FLAP score is NaN (calibration statistics are not finite)");
      }
    }
    units.sort((a, b) -> Double.compare(b[0], a[0]));
    double total = 0;
    for (double[] u : units) {
      total += u[1];
    }
    double target = (1 - ratio) * total;
    double cum = 0;
    double best = Double.POSITIVE_INFINITY;
    double threshold = units.get(0)[0];
    for (double[] u : units) {
      cum += u[1];
      double d = Math.abs(cum - target);
      if (d < best) {
        best = d;
        threshold = u[0];
      }
    }
    return threshold;
  }
}
