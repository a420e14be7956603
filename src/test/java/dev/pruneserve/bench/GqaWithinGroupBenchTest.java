package dev.pruneserve.bench;

import dev.pruneserve.graph.OnnxGraph;
import dev.pruneserve.graph.Slicing;
import dev.pruneserve.onnx.proto.Onnx.GraphProto;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.onnx.proto.Onnx.TensorProto;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.transformer.HeadDiscovery;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.LmBench;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Whole KV groups vs query heads within groups, at the same parameter budget, on the GQA model of
 * GqaQualityBenchTest (6 query heads over 3 K/V heads, g = 2): per layer, (A) the KV group whose
 * query heads have the smallest L2 norm of q columns and o rows goes (2 query heads + its K/V head:
 * 6·hd·D parameters), or (B) the smallest query head of every group goes (3 query heads: 6·hd·D as
 * well; the K/V cache stays). Removing a query head is exactly zeroing its o_proj rows (pruned =
 * gated), so both are measured by zeroing. Run: ./mvnw -B test -Pbench -Dtest=GqaWithinGroupBenchTest
 */
@Tag("bench")
class GqaWithinGroupBenchTest {
  @Test
  void wholeGroupsVsHeadsWithinGroups() throws Exception {
    LmBench b = LmBench.open("gqa-within").gqa();
    ModelProto gqa = b.dense();
    List<HeadGroup> blocks = HeadDiscovery.attentionBlocks(new OnnxGraph(gqa));
    ModelProto groups = gqa;
    ModelProto within = gqa;
    for (HeadGroup blk : blocks) {
      OnnxGraph g = new OnnxGraph(gqa);
      int hd = blk.headDim();
      int heads = blk.queryHeads();
      int per = blk.groupSize();
      double[] score = new double[heads];
      double[] q = Slicing.power(g.initializer(blk.qWeight()).orElseThrow(), 1, 2); // per q column
      double[] o = Slicing.power(g.initializer(blk.oWeight()).orElseThrow(), 0, 2); // per o row
      for (int c = 0; c < heads * hd; c++) {
        score[c / hd] += q[c] + o[c];
      }
      int worstGroup = 0;
      for (int k = 1; k < heads / per; k++) {
        worstGroup = groupScore(score, k, per) < groupScore(score, worstGroup, per) ? k : worstGroup;
      }
      BitSet a = new BitSet();
      a.set(worstGroup * per * hd, (worstGroup + 1) * per * hd);
      BitSet bHeads = new BitSet();
      for (int k = 0; k < heads / per; k++) {
        int worst = k * per;
        for (int h = k * per; h < (k + 1) * per; h++) {
          worst = score[h] < score[worst] ? h : worst;
        }
        bHeads.set(worst * hd, (worst + 1) * hd);
      }
      groups = zeroRows(groups, blk.oWeight(), a);
      within = zeroRows(within, blk.oWeight(), bHeads);
    }
    try (ModelSession dense = b.loadDense()) {
      b.row(dense, "dense GQA", 0, Pruner.summarise(gqa, gqa), 0);
      b.row(dense, "A: lowest KV group per layer (2 q heads + K/V)", 0, Pruner.summarise(gqa, groups), 0);
      b.row(dense, "B: lowest query head of every group (3 q heads)", 0, Pruner.summarise(gqa, within), 0);
    }
  }

  private static double groupScore(double[] score, int group, int per) {
    double s = 0;
    for (int h = group * per; h < (group + 1) * per; h++) {
      s += score[h];
    }
    return s;
  }

  private static ModelProto zeroRows(ModelProto m, String name, BitSet rows) {
    GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getName().equals(name)) {
        g.setInitializer(i, Slicing.zero(t, 0, rows));
      }
    }
    return m.toBuilder().setGraph(g).build();
  }

}
