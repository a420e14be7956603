package dev.pruneserve.pruning.search;

import dev.pruneserve.pruning.calibration.Calibration;
import dev.pruneserve.pruning.transformer.HeadGroup;
import dev.pruneserve.pruning.transformer.MlpGroup;
import dev.pruneserve.pruning.zo.LossProbe;
import dev.pruneserve.tensor.Tensor;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The gates of a decoder's search copy: per layer one gate on the o-projection input (heads ×
 * head_dim wide) and one on the down-projection input (MLP width), each with a fill input under
 * compensation. Feeds put 0 on removed units and 1 elsewhere; with compensation the fill is
 * (1 − m)·x̄ (removed units carry their calibration mean: FLAP's bias b = W[:,P]·x̄[P]). Statistics index 2·l is layer l's o-projection input, 2·l + 1 its down-projection
 * input ({@code Flap.projectionInputStats}). Immutable; thread-safe.
 */
final class SearchGates {
  private final List<HeadGroup> blocks;
  private final List<MlpGroup> mlps;
  private final Calibration.Stats stats;
  private final boolean compensation;

  /** @param stats projection-input statistics; only read by {@link #feeds} under compensation */
  SearchGates(List<HeadGroup> blocks, List<MlpGroup> mlps, Calibration.Stats stats, boolean compensation) {
    this.blocks = blocks;
    this.mlps = mlps;
    this.stats = stats;
    this.compensation = compensation;
  }

  /** Gate declarations for {@code LossProbe} / {@code GatedCopy}. */
  List<LossProbe.Gate> gates() {
    List<LossProbe.Gate> gates = new ArrayList<>();
    for (int l = 0; l < blocks.size(); l++) {
      HeadGroup b = blocks.get(l);
      gates.add(new LossProbe.Gate(name("heads", l), b.oWeight(), b.units() * b.unitWidth(),
          compensation ? name("heads.fill", l) : null));
      gates.add(new LossProbe.Gate(name("channels", l), mlps.get(l).downWeight(), mlps.get(l).width(),
          compensation ? name("channels.fill", l) : null));
    }
    return gates;
  }

  /** Feeds for removed heads and channels per layer. */
  Map<String, Tensor> feeds(Map<Integer, BitSet> heads, Map<Integer, BitSet> channels) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (int l = 0; l < blocks.size(); l++) {
      HeadGroup b = blocks.get(l);
      put(in, "heads", l, headChannels(heads.get(l), b), b.units() * b.unitWidth(), 2 * l);
      put(in, "channels", l, channels.get(l), mlps.get(l).width(), 2 * l + 1);
    }
    return in;
  }

  /** The o-projection input channels of the removed heads. */
  static BitSet headChannels(BitSet heads, HeadGroup b) {
    BitSet c = new BitSet();
    heads.stream().forEach(h -> c.set(h * b.unitWidth(), (h + 1) * b.unitWidth()));
    return c;
  }

  private void put(Map<String, Tensor> in, String kind, int l, BitSet removed, int width, int statsIndex) {
    double[] mean = compensation ? stats.mean(statsIndex) : null;
    float[] m = new float[width];
    float[] fill = new float[width];
    for (int i = 0; i < width; i++) {
      boolean gone = removed.get(i);
      m[i] = gone ? 0f : 1f;
      fill[i] = gone && compensation ? (float) mean[i] : 0f;
    }
    in.put(name(kind, l), Tensor.fp32(name(kind, l), new long[] {width}, m));
    if (compensation) {
      in.put(name(kind + ".fill", l), Tensor.fp32(name(kind + ".fill", l), new long[] {width}, fill));
    }
  }

  private static String name(String kind, int layer) {
    return "search." + kind + "." + layer;
  }
}
