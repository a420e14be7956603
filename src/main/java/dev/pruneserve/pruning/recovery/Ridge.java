package dev.pruneserve.pruning.recovery;

/**
 * Ridge-regularised least squares from Gram matrices: solves {@code (A + λ·I) X = B} for symmetric
 * positive semi-definite {@code A} [n, n] by Cholesky decomposition, {@code B} [n, m]; row-major
 * double arrays. {@code λ} is added to the first {@code ridged} diagonal entries only (an
 * intercept row is not shrunk). Stateless.
 */
public final class Ridge {
  private Ridge() {}

  /** X [n, m] row-major; {@code a} is overwritten by its Cholesky factor. */
  public static double[] solve(double[] a, double[] b, int n, int m, double lambda, int ridged) {
    for (int i = 0; i < ridged; i++) {
      a[i * n + i] += lambda;
    }
    // a = L·Lᵀ, L lower triangular, in place
    for (int j = 0; j < n; j++) {
      double d = a[j * n + j];
      for (int k = 0; k < j; k++) {
        d -= a[j * n + k] * a[j * n + k];
      }
      if (!(d > 0)) {
        throw new IllegalArgumentException("the calibration Gram matrix is singular at index " + j
            + "; raise reconstruct-lambda");
      }
      double l = Math.sqrt(d);
      a[j * n + j] = l;
      for (int i = j + 1; i < n; i++) {
        double s = a[i * n + j];
        for (int k = 0; k < j; k++) {
          s -= a[i * n + k] * a[j * n + k];
        }
        a[i * n + j] = s / l;
      }
    }
    double[] x = b.clone();
    for (int c = 0; c < m; c++) {
      for (int i = 0; i < n; i++) { // L·y = b
        double s = x[i * m + c];
        for (int k = 0; k < i; k++) {
          s -= a[i * n + k] * x[k * m + c];
        }
        x[i * m + c] = s / a[i * n + i];
      }
      for (int i = n - 1; i >= 0; i--) { // Lᵀ·x = y
        double s = x[i * m + c];
        for (int k = i + 1; k < n; k++) {
          s -= a[k * n + i] * x[k * m + c];
        }
        x[i * m + c] = s / a[i * n + i];
      }
    }
    return x;
  }
}
