package dev.pruneserve.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.criteria.Criterion;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Stories15mModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batched cache against the batch-1 decoder on stories15M: prompts of different lengths join
 * (prefilled together or alone) and leave (rows kept as padding, then compacted) while the others
 * decode, and every row's logits stay within 1e-4 of the same sequence decoded alone — also on a
 * pruned variant whose layers have different head counts.
 */
class DecodeBatchTest {
  static final int STEPS = 12;
  static final double TOLERANCE = 1e-4;

  @TempDir Path dir;

  @Test
  void batchedRowsMatchTheirBatchOneRun() throws Exception {
    try (ModelSession s = Stories15mModels.load(dir, Stories15mModels.dense(), "dense")) {
      assertTrue(DecodeBatch.supports(s));
      check(s);
    }
  }

  @Test
  void prunedLayersWithDifferentHeadCountsBatchToo() throws Exception {
    ModelProto pruned = Pruner.prune(Stories15mModels.dense(),
        new Pruner.Options(Criterion.MAGNITUDE_SP, 0.5, 0, 1, 4)).model();
    try (ModelSession s = Stories15mModels.load(dir, pruned, "pruned")) {
      long distinct = s.inputs().stream().filter(i -> i.name().startsWith("past_key_values."))
          .mapToLong(i -> i.shape()[1]).distinct().count();
      assertTrue(distinct > 1, "layers of the variant have different head counts");
      check(s);
    }
  }

  /** One prompt's batch-1 reference: the greedy ids and the logits before each. */
  record Reference(int[] prompt, int[] ids, List<float[]> logits) {}

  /** A batch row: which prompt, and how many of its tokens it has been fed. */
  static final class Row {
    final Reference ref;
    int fed;

    Row(Reference ref) {
      this.ref = ref;
    }
  }

  private static void check(ModelSession s) {
    int vocab = KvDecoder.vocab(s);
    SplittableRandom rng = new SplittableRandom(5);
    List<Reference> refs = new ArrayList<>();
    for (int len : new int[] {3, 9, 14, 6, 1}) {
      int[] p = new int[len];
      p[0] = 1;
      for (int i = 1; i < len; i++) {
        p[i] = 3 + rng.nextInt(vocab - 3);
      }
      refs.add(alone(s, p, vocab));
    }
    double worst = 0;
    try (DecodeBatch b = new DecodeBatch(s, vocab)) {
      List<Row> rows = new ArrayList<>();
      worst = Math.max(worst, join(b, rows, refs.subList(0, 2), vocab)); // two prompts prefilled together
      worst = Math.max(worst, steps(b, rows, 3, vocab));
      worst = Math.max(worst, join(b, rows, refs.subList(2, 3), vocab)); // a longer prompt joins alone
      worst = Math.max(worst, steps(b, rows, 2, vocab));
      rows.set(0, null); // row 0 leaves; it stays as padding
      worst = Math.max(worst, steps(b, rows, 1, vocab));
      worst = Math.max(worst, join(b, rows, refs.subList(3, 5), vocab)); // compacted while two join
      worst = Math.max(worst, steps(b, rows, 2, vocab));
      rows.set(1, null);
      compact(b, rows);
      worst = Math.max(worst, steps(b, rows, 3, vocab));
      assertEquals(3, b.rows());
    }
    assertTrue(worst <= TOLERANCE, "largest logit difference to the batch-1 run: " + worst);
  }

  private static Reference alone(ModelSession s, int[] prompt, int vocab) {
    List<float[]> logits = new ArrayList<>();
    int[] ids = new int[STEPS + 1];
    try (KvDecoder d = new KvDecoder(s)) {
      float[] all = d.step(prompt);
      float[] row = java.util.Arrays.copyOfRange(all, (prompt.length - 1) * vocab, prompt.length * vocab);
      for (int k = 0; k <= STEPS; k++) {
        logits.add(row);
        ids[k] = argmax(row);
        if (k < STEPS) {
          row = d.step(new int[] {ids[k]});
        }
      }
    }
    return new Reference(prompt, ids, logits);
  }

  private static double join(DecodeBatch b, List<Row> rows, List<Reference> joining, int vocab) {
    DecodeBatch.Prefill p = b.prefill(joining.stream().map(Reference::prompt).toList());
    double worst = 0;
    List<DecodeBatch.RowRef> refs = new ArrayList<>();
    List<DecodeBatch.RowRef> current = b.current();
    List<Row> kept = new ArrayList<>();
    for (int r = 0; r < rows.size(); r++) {
      if (rows.get(r) != null) {
        refs.add(current.get(r));
        kept.add(rows.get(r));
      }
    }
    for (int i = 0; i < joining.size(); i++) {
      worst = Math.max(worst, diff(p.logits(), i * vocab, joining.get(i).logits().get(0)));
      refs.add(p.rows().get(i));
      kept.add(new Row(joining.get(i)));
    }
    b.rebuild(refs);
    rows.clear();
    rows.addAll(kept);
    return worst;
  }

  private static void compact(DecodeBatch b, List<Row> rows) {
    List<DecodeBatch.RowRef> current = b.current();
    List<DecodeBatch.RowRef> refs = new ArrayList<>();
    List<Row> kept = new ArrayList<>();
    for (int r = 0; r < rows.size(); r++) {
      if (rows.get(r) != null) {
        refs.add(current.get(r));
        kept.add(rows.get(r));
      }
    }
    b.rebuild(refs);
    assertEquals(kept.stream().mapToInt(r -> r.ref.prompt().length + r.fed).max().orElseThrow(), b.width(),
        "compaction drops the columns only padding used");
    rows.clear();
    rows.addAll(kept);
  }

  private static double steps(DecodeBatch b, List<Row> rows, int n, int vocab) {
    double worst = 0;
    for (int k = 0; k < n; k++) {
      int[] ids = new int[rows.size()];
      for (int r = 0; r < rows.size(); r++) {
        ids[r] = rows.get(r) == null ? 0 : rows.get(r).ref.ids()[rows.get(r).fed];
      }
      float[] logits = b.step(ids);
      for (int r = 0; r < rows.size(); r++) {
        Row row = rows.get(r);
        if (row != null) {
          row.fed++;
          assertEquals(row.ref.prompt().length + row.fed, b.length(r));
          worst = Math.max(worst, diff(logits, r * vocab, row.ref.logits().get(row.fed)));
        }
      }
    }
    return worst;
  }

  private static double diff(float[] a, int offset, float[] ref) {
    double worst = 0;
    for (int v = 0; v < ref.length; v++) {
      worst = Math.max(worst, Math.abs(a[offset + v] - ref[v]));
    }
    return worst;
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int v = 1; v < row.length; v++) {
      if (row[v] > row[best]) {
        best = v;
      }
    }
    return best;
  }
}
