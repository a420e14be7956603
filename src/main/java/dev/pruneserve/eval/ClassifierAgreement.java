package dev.pruneserve.eval;

import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.train.ImageSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Quality of a pruned classifier: top-1 accuracy against labels and top-1 agreement with the dense
 * model, over batches of inputs. The logits output is FP32 [batch, classes].
 */
public final class ClassifierAgreement {
  /** @param accuracy NaN when no labels were given */
  public record Result(double accuracy, double agreement, int examples) {}

  private ClassifierAgreement() {}

  /**
   * @param labels one per example across all batches in order, or null
   */
  public static Result evaluate(ModelSession model, ModelSession dense, List<Map<String, Tensor>> batches,
      String logits, int[] labels) {
    long correct = 0;
    long agree = 0;
    int n = 0;
    for (Map<String, Tensor> batch : batches) {
      Tensor p = model.run(batch, Set.of(logits)).get(logits);
      float[] a = p.toFloatArray();
      float[] b = dense.run(batch, Set.of(logits)).get(logits).toFloatArray();
      int classes = (int) p.shape()[1];
      for (int i = 0; i < a.length / classes; i++, n++) {
        int top = ImageSet.classOf(a, i, classes);
        agree += top == ImageSet.classOf(b, i, classes) ? 1 : 0;
        if (labels != null) {
          correct += top == labels[n] ? 1 : 0;
        }
      }
    }
    if (n == 0) {
      throw new IllegalArgumentException("classifier agreement needs at least one example");
    }
    return new Result(labels == null ? Double.NaN : (double) correct / n, (double) agree / n, n);
  }

  /** Top-1 accuracy of {@code model} (one images input, one logits output) on {@code data}. */
  public static double accuracy(ModelSession model, ImageSet data, int batch) {
    String in = model.inputs().get(0).name();
    String logits = model.outputs().get(0).name();
    long correct = 0;
    int s = data.imageSize();
    for (int from = 0; from < data.size(); from += batch) {
      int b = Math.min(batch, data.size() - from);
      float[] x = java.util.Arrays.copyOfRange(data.pixels(), from * s, (from + b) * s);
      float[] z = model.run(Map.of(in, Tensor.fp32(in, new long[] {b, data.channels(), data.height(), data.width()},
          x)), Set.of(logits)).get(logits).toFloatArray();
      for (int i = 0; i < b; i++) {
        correct += ImageSet.classOf(z, i, data.classes()) == data.labels()[from + i] ? 1 : 0;
      }
    }
    return (double) correct / data.size();
  }
}
