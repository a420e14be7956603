package dev.pruneserve.model;

import dev.pruneserve.session.ModelSession;
import dev.pruneserve.tensor.Tensor;
import dev.pruneserve.tensor.TensorSpec;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Response size in tensor bytes, before a run (from declared output shapes) and after it. Before:
 * a dynamic output dim is known when the model names it symbolically and an input dim of this
 * request carries the same name (e.g. logits {@code [batch, sequence, 32000]} from input_ids
 * {@code [batch, sequence]}); outputs with a dim still unknown count 0, so the prediction is a lower
 * bound and the size is checked again after the run. Saturates at {@link Long#MAX_VALUE}. Stateless.
 */
final class OutputBytes {
  private OutputBytes() {}

  /** Lower bound on the bytes of the {@code requested} outputs of {@code session} for {@code inputs}. */
  static long predict(ModelSession session, Map<String, Tensor> inputs, Set<String> requested) {
    Map<String, Long> bound = new HashMap<>();
    for (TensorSpec s : session.inputs()) {
      Tensor t = inputs.get(s.name());
      long[] declared = s.shape();
      if (t == null || t.shape().length != declared.length) {
        continue;
      }
      for (int i = 0; i < declared.length; i++) {
        if (declared[i] < 0 && !s.dimName(i).isEmpty()) {
          bound.putIfAbsent(s.dimName(i), t.shape()[i]);
        }
      }
    }
    long sum = 0;
    for (TensorSpec s : session.outputs()) {
      if (requested.contains(s.name())) {
        sum = add(sum, bytes(s, bound));
      }
    }
    return sum;
  }

  /** Bytes of one output when every dim is static or bound, else 0. */
  private static long bytes(TensorSpec s, Map<String, Long> bound) {
    long n = Math.max(1, s.type().byteSize());
    long[] shape = s.shape();
    for (int i = 0; i < shape.length; i++) {
      Long d = shape[i] >= 0 ? Long.valueOf(shape[i]) : bound.get(s.dimName(i));
      if (d == null) {
        return 0;
      }
      n = d != 0 && n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d;
    }
    return n;
  }

  /** Bytes of a produced tensor (strings: their lengths plus 4 bytes each). */
  static long of(Tensor t) {
    return t.strings() != null ? t.strings().stream().mapToLong(b -> b.length + 4L).sum()
        : (long) t.dataView().remaining();
  }

  private static long add(long a, long b) {
    return a + b < 0 ? Long.MAX_VALUE : a + b;
  }
}
