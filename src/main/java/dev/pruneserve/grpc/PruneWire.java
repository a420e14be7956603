package dev.pruneserve.grpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.CnnPruneOptions;
import dev.pruneserve.api.v1.ForwardSearchOptions;
import dev.pruneserve.api.v1.ImageDataset;
import dev.pruneserve.api.v1.MiniLlmOptions;
import dev.pruneserve.api.v1.PruneJob;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneProgress;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.RecoverOptions;
import dev.pruneserve.api.v1.Variant;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.methods.RecipeParser;
import dev.pruneserve.variant.CalibrationInput;
import dev.pruneserve.variant.PruneService;
import dev.pruneserve.variant.VariantManifest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Conversions between pruneserve.v1.Pruning messages and the variant domain. */
final class PruneWire {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Longest self-sampled calibration sequence accepted (sampling also stops at the model's context). */
  private static final int MAX_SAMPLE_LENGTH = 4096;

  /** The request field each recipe option comes from, for messages. */
  private static final Map<String, String> FIELDS = Map.ofEntries(Map.entry("seed", "options.seed"),
      Map.entry("layers", "options.first_layer/end_layer"), Map.entry("groups", "options.groups"),
      Map.entry("flap-metric", "options.flap_metric"),
      Map.entry("flap-structure", "options.flap_structure"),
      Map.entry("bias-compensation", "options.bias_compensation"), Map.entry("zo-mode", "options.mini_llm.mode"),
      Map.entry("queries", "options.mini_llm.queries"), Map.entry("epsilon", "options.mini_llm.epsilon"),
      Map.entry("law", "options.mini_llm.law"), Map.entry("perturbed", "options.mini_llm.perturbed"),
      Map.entry("fms", "options.mini_llm.fms"), Map.entry("reduction", "options.mini_llm.reduction"),
      Map.entry("micro-batch", "options.mini_llm.micro_batch"), Map.entry("images", "calibration.images.name"),
      Map.entry("images-count", "calibration.images.count"), Map.entry("cnn-mode", "options.cnn.mode"),
      Map.entry("min-channels", "options.cnn.min_channels"),
      Map.entry("cnn-batch", "options.cnn.batch"), Map.entry("scoring-batches", "options.cnn.scoring_batches"),
      Map.entry("interval", "options.cnn.interval"), Map.entry("rescore-every", "options.cnn.rescore_every"),
      Map.entry("fd-r", "options.cnn.r"), Map.entry("weight-decay", "options.cnn.weight_decay"),
      Map.entry("lr", "options.cnn.lr"), Map.entry("recover-steps", "options.recover.steps"),
      Map.entry("recover-lr", "options.recover.lr"), Map.entry("recover-batch", "options.recover.batch"),
      Map.entry("recalibrate-bn", "options.recover.recalibrate_bn"),
      Map.entry("recalibrate-batches", "options.recover.recalibrate_batches"),
      Map.entry("reconstruct", "options.recover.reconstruct"),
      Map.entry("reconstruct-lambda", "options.recover.reconstruct_lambda"),
      Map.entry("reconstruct-mode", "options.recover.reconstruct_mode"),
      Map.entry("reconstruct-projections", "options.recover.reconstruct_projections"),
      Map.entry("reconstruct-samples", "options.recover.reconstruct_samples"),
      Map.entry("search-channels", "options.forward_search.channels"),
      Map.entry("search-budget", "options.forward_search.budget"),
      Map.entry("search-subset", "options.forward_search.subset"));

  private PruneWire() {}

  static PruneService.Spec spec(PruneRequest r) {
    PruneRecipe recipe = RecipeParser.parse(r.getMethod(), r.getRatio(), options(r),
        k -> FIELDS.getOrDefault(k, k));
    CalibrationInput.SelfSamples samples = selfSamples(r.getCalibration());
    int items = r.getCalibration().getTextsCount() + r.getCalibration().getSequencesCount()
        + (samples == null ? 0 : samples.count());
    if (items > CalibrationInput.MAX_ITEMS) {
      throw ServingException.invalid("calibration has " + items + " items; at most " + CalibrationInput.MAX_ITEMS);
    }
    List<int[]> seqs = new ArrayList<>();
    r.getCalibration().getSequencesList().forEach(s -> seqs.add(s.getIdsList().stream().mapToInt(Integer::intValue)
        .toArray()));
    for (int[] s : seqs) {
      if (s.length < 2) {
        throw ServingException.invalid("calibration sequences need at least 2 tokens");
      }
    }
    return new PruneService.Spec(r.getModel(), r.getVersion(), recipe,
        new CalibrationInput(r.getCalibration().getTextsList(), seqs, samples), r.getEvaluation().getTextsList(),
        r.getActivateAs());
  }

  /** The request's options by their command-line names ({@link RecipeParser#KEYS}); unset fields are left out. */
  static Map<String, String> options(PruneRequest r) {
    PruneOptions o = r.getOptions();
    Map<String, String> m = new LinkedHashMap<>();
    put(m, "seed", o.getSeed() == 0 ? "" : Long.toString(o.getSeed()));
    if (o.getFirstLayer() != 0 || o.getEndLayer() != 0) {
      m.put("layers", Integer.toUnsignedString(o.getFirstLayer()) + ":"
          + (o.getEndLayer() == 0 ? "-1" : Integer.toUnsignedString(o.getEndLayer())));
    }
    put(m, "groups", o.getGroups());
    put(m, "flap-metric", o.getFlapMetric());
    put(m, "flap-structure", o.getFlapStructure());
    if (o.hasBiasCompensation()) {
      m.put("bias-compensation", Boolean.toString(o.getBiasCompensation()));
    }
    MiniLlmOptions z = o.getMiniLlm();
    put(m, "zo-mode", z.getMode());
    count(m, "queries", z.getQueries());
    put(m, "epsilon", z.getEpsilon() == 0 ? "" : Double.toString(z.getEpsilon()));
    put(m, "law", z.getLaw());
    put(m, "perturbed", z.getPerturbed());
    put(m, "fms", z.getFms());
    put(m, "reduction", z.getReduction());
    count(m, "micro-batch", z.getMicroBatch());
    cnn(m, o.getCnn(), o.getRecover(), r.getCalibration().getImages());
    ForwardSearchOptions f = o.getForwardSearch();
    put(m, "search-channels", f.getChannels());
    put(m, "search-budget", f.getBudget());
    if (f.getAllSequences()) {
      m.put("search-subset", "0");
    } else {
      count(m, "search-subset", f.getSubset());
    }
    return m;
  }

  private static void cnn(Map<String, String> m, CnnPruneOptions c, RecoverOptions rec, ImageDataset images) {
    if (images.getName().startsWith(CnnSettings.DIRECTORY)) {
      throw ServingException.invalid("calibration.images.name: a built-in dataset " + CnnSettings.DATASETS
          + " or " + CnnSettings.MODEL + "<folder> (datasets/<folder>/ in the model's repository folder), not a path");
    }
    put(m, "images", images.getName());
    count(m, "images-count", images.getCount());
    put(m, "cnn-mode", c.getMode());
    count(m, "cnn-batch", c.getBatch());
    count(m, "min-channels", c.getMinChannels());
    count(m, "scoring-batches", c.getScoringBatches());
    count(m, "interval", c.getInterval());
    count(m, "rescore-every", c.getRescoreEvery());
    put(m, "fd-r", c.getR() == 0 ? "" : Double.toString(c.getR()));
    put(m, "weight-decay", c.getWeightDecay() == 0 ? "" : Double.toString(c.getWeightDecay()));
    put(m, "lr", c.getLr() == 0 ? "" : Double.toString(c.getLr()));
    count(m, "recover-steps", rec.getSteps());
    put(m, "recover-lr", rec.getLr() == 0 ? "" : Double.toString(rec.getLr()));
    count(m, "recover-batch", rec.getBatch());
    if (rec.hasRecalibrateBn()) {
      m.put("recalibrate-bn", Boolean.toString(rec.getRecalibrateBn()));
    }
    count(m, "recalibrate-batches", rec.getRecalibrateBatches());
    put(m, "reconstruct", rec.getReconstruct() ? "true" : "");
    put(m, "reconstruct-lambda", rec.getReconstructLambda() == 0 ? "" : Double.toString(rec.getReconstructLambda()));
    put(m, "reconstruct-mode", rec.getReconstructMode());
    put(m, "reconstruct-projections", rec.getReconstructProjections());
    count(m, "reconstruct-samples", rec.getReconstructSamples());
  }

  private static void put(Map<String, String> m, String key, String v) {
    if (!v.isEmpty()) {
      m.put(key, v);
    }
  }

  /** A uint32 count, 0 = unset; values past 2^31 stay unsigned so the parser names them. */
  private static void count(Map<String, String> m, String key, int v) {
    if (v != 0) {
      m.put(key, Integer.toUnsignedString(v));
    }
  }

  private static CalibrationInput.SelfSamples selfSamples(CalibrationSpec c) {
    if (!c.hasSelfSamples()) {
      return null;
    }
    var s = c.getSelfSamples();
    int count = s.getCount() == 0 ? CalibrationInput.SelfSamples.DEFAULT_COUNT : s.getCount();
    int length = s.getMaxLength() == 0 ? CalibrationInput.SelfSamples.DEFAULT_MAX_LENGTH : s.getMaxLength();
    if (count < 0 || count > CalibrationInput.MAX_ITEMS) {
      throw ServingException.invalid("self_samples.count must be in [1, " + CalibrationInput.MAX_ITEMS + "], got "
          + Integer.toUnsignedString(s.getCount()));
    }
    if (length < 2 || length > MAX_SAMPLE_LENGTH) {
      throw ServingException.invalid("self_samples.max_length must be in [2, " + MAX_SAMPLE_LENGTH + "], got "
          + Integer.toUnsignedString(s.getMaxLength()));
    }
    return new CalibrationInput.SelfSamples(count, length, s.getSeed());
  }

  static PruneProgress progress(dev.pruneserve.variant.PruneJob j) {
    return PruneProgress.newBuilder().setPhase(j.phase()).setFraction(j.fraction()).setEtaSeconds(j.etaSeconds())
        .setElapsedSeconds(j.elapsedSeconds()).build();
  }

  static PruneJob job(dev.pruneserve.variant.PruneJob j) {
    return PruneJob.newBuilder().setJobId(j.id()).setVariantName(j.variantName())
        .setState(j.state().name().toLowerCase(Locale.ROOT)).setProgress(progress(j)).setError(j.error()).build();
  }

  static Variant variant(VariantManifest m, boolean reused) {
    try {
      return Variant.newBuilder().setName(m.name()).setVariantId(m.variantId()).setParentModel(m.parentModel())
          .setParentVersion(m.parentVersion()).setParentSha256(m.parentSha256())
          .setRecipeJson(JSON.writeValueAsString(m.recipe())).setReportJson(JSON.writeValueAsString(m.report()))
          .setParametersBefore(m.parametersBefore()).setParametersAfter(m.parametersAfter())
          .setFileBytes(m.fileBytes()).setReused(reused).setCreatedAt(m.createdAt()).build();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
