package dev.pruneserve.pruning.search;

import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.pruning.Progress;
import dev.pruneserve.pruning.criteria.Flap;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.pruning.criteria.WandaSp;
import dev.pruneserve.pruning.search.ForwardSearch.Budget;
import dev.pruneserve.pruning.search.ForwardSearch.Channels;
import dev.pruneserve.pruning.search.ForwardSearch.Options;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.LmBench;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * pruneserve's forward search on stories15M (all layers, the shared calibration and evaluation
 * sets), side by side with Wanda-SP and FLAP in one run, at p = 0.2 and 0.5: the defaults, then
 * any extra configurations from {@code -Dbench.search.extra=channels:subset:budget[:nocomp],...}
 * (e.g. {@code flap:8:per-layer:comp,wanda-sp:0:per-layer,flap:0:global}; compensation only with {@code :comp}). Prints in-domain and
 * SOTU PPL, KL, top-1, heads kept, loss forwards × sequences per forward, channel choice and time.
 * Run: ./mvnw -B test -Pbench -Dtest=ForwardSearchBenchTest ({@code -Dbench.baselines=false} skips
 * Wanda-SP/FLAP; {@code -Dbench.search.ratios=0.2} picks ratios,
 * {@code -Dbench.search.defaults=false} leaves only the extra configurations). Peak RSS: {@code MiniLlmBenchTest#memory}.
 */
@Tag("bench")
class ForwardSearchBenchTest {
  @Test
  void quality() throws Exception {
    LmBench b = LmBench.open("search");
    List<int[]> calib = b.calib();
    ModelProto dense = b.dense();
    Path dir = b.dir();
    OrtRuntime rt = OrtRuntime.cpu(2);
    try (ModelSession d = b.loadDense()) {
      for (String ratio : System.getProperty("bench.search.ratios", "0.2,0.5").split(",")) {
        double p = Double.parseDouble(ratio);
        if (Boolean.parseBoolean(System.getProperty("bench.baselines", "true"))) {
          long t0 = System.nanoTime();
          Pruner.Result wanda = WandaSp.prune(dense, p, 0, -1, calib, rt, dir).result();
          b.row(d, "Wanda-SP (sequential)", p, wanda, seconds(t0));
          t0 = System.nanoTime();
          Pruner.Result flap = Flap.prune(dense, Flap.Options.defaults(p), calib, rt, dir).result();
          b.row(d, "FLAP", p, flap, seconds(t0));
        }
        for (Options o : configurations(p)) {
          long t0 = System.nanoTime();
          ForwardSearch.Outcome s = ForwardSearch.prune(dense, o, calib, rt, dir, Progress.NONE);
          String name = String.format(Locale.ROOT, "forward search, %s channels%s, %s%s (%d forwards x %d stories)",
              o.channels(), o.compensation() ? " + comp" : "", o.budget(),
              o.equals(Options.defaults(p)) ? ", defaults" : "", s.forwards(),
              o.subset() == 0 ? calib.size() : Math.min(o.subset(), calib.size()));
          b.row(d, name, p, s.result(), seconds(t0));
          System.out.printf("BENCH search-details | %s | %.1f | %s |%n", name, p, s.result().details());
        }
      }
    }
  }

  private static List<Options> configurations(double p) {
    List<Options> all = new ArrayList<>();
    if (Boolean.parseBoolean(System.getProperty("bench.search.defaults", "true"))) {
      all.add(Options.defaults(p));
    }
    for (String c : System.getProperty("bench.search.extra", "").split(",")) {
      if (c.isBlank()) {
        continue;
      }
      String[] f = c.split(":");
      all.add(new Options(p, Channels.valueOf(f[0].toUpperCase(Locale.ROOT).replace('-', '_')), Budget.valueOf(
          f[2].toUpperCase(Locale.ROOT).replace('-', '_')), f.length > 3 && f[3].equals("comp"),
          Integer.parseInt(f[1]), 8));
    }
    return all;
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
