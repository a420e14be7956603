package dev.pruneserve.grpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pruneserve.api.v1.CalibrationSpec;
import dev.pruneserve.api.v1.CnnPruneOptions;
import dev.pruneserve.api.v1.ForwardSearchOptions;
import dev.pruneserve.api.v1.ImageDataset;
import dev.pruneserve.api.v1.MiniLlmOptions;
import dev.pruneserve.api.v1.RecoverOptions;
import dev.pruneserve.api.v1.PruneJob;
import dev.pruneserve.api.v1.PruneOptions;
import dev.pruneserve.api.v1.PruneProgress;
import dev.pruneserve.api.v1.PruneRequest;
import dev.pruneserve.api.v1.Variant;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.Flap;
import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.ifso.CnnSettings;
import dev.pruneserve.pruning.ifso.Ifso;
import dev.pruneserve.pruning.search.ForwardSearch;
import dev.pruneserve.pruning.zo.MiniLlm;
import dev.pruneserve.variant.CalibrationInput;
import dev.pruneserve.variant.PruneService;
import dev.pruneserve.variant.VariantManifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Conversions between pruneserve.v1.Pruning messages and the variant domain. */
final class PruneWire {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Longest self-sampled calibration sequence accepted (sampling also stops at the model's context). */
  private static final int MAX_SAMPLE_LENGTH = 4096;

  private PruneWire() {}

  static PruneService.Spec spec(PruneRequest r) {
    PruneOptions o = r.getOptions();
    PruneRecipe recipe;
    try {
      if (o.getFirstLayer() < 0 || o.getEndLayer() < 0) { // uint32 beyond Integer.MAX_VALUE
        throw new IllegalArgumentException("first_layer and end_layer must be layer indices, got "
            + Integer.toUnsignedString(o.getFirstLayer()) + " and " + Integer.toUnsignedString(o.getEndLayer()));
      }
      recipe = new PruneRecipe(r.getMethod(), r.getRatio(), o.getSeed(), o.getFirstLayer(),
          o.getEndLayer() == 0 ? -1 : o.getEndLayer(),
          o.getFlapMetric().isEmpty() ? Flap.Metric.WIFV : enumValue(Flap.Metric.class, o.getFlapMetric(), "flap_metric"),
          o.getFlapStructure().isEmpty() ? Flap.Structure.AL_AM
              : enumValue(Flap.Structure.class, o.getFlapStructure(), "flap_structure"),
          o.hasBiasCompensation() ? o.getBiasCompensation()
              : PruneRecipe.defaultCompensation(r.getMethod()), miniLlm(o.getMiniLlm()),
          cnn(o.getCnn(), o.getRecover(), r.getCalibration().getImages()), search(o.getForwardSearch()));
    } catch (IllegalArgumentException e) {
      throw ServingException.invalid(e.getMessage());
    }
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

  private static CnnSettings cnn(CnnPruneOptions c, RecoverOptions rec, ImageDataset images) {
    CnnSettings d = CnnSettings.DEFAULTS;
    if (c.getBatch() < 0 || c.getScoringBatches() < 0 || c.getInterval() < 0 || c.getRescoreEvery() < 0
        || rec.getSteps() < 0 || rec.getBatch() < 0 || images.getCount() < 0) {
      throw new IllegalArgumentException("cnn, recover and images counts must be small positive numbers");
    }
    if (images.getName().startsWith(CnnSettings.DIRECTORY)) {
      throw new IllegalArgumentException("calibration.images.name: a built-in dataset " + CnnSettings.DATASETS
          + " or " + CnnSettings.MODEL + "<folder> (datasets/<folder>/ in the model's repository folder), not a path");
    }
    return new CnnSettings(c.getMode().isEmpty() ? d.mode() : enumValue(Ifso.Mode.class, c.getMode(), "cnn.mode"),
        or(c.getBatch(), d.batch()), or(c.getScoringBatches(), d.scoringBatches()), or(c.getInterval(), d.interval()),
        or(c.getRescoreEvery(), d.rescoreEvery()), c.getR() == 0 ? d.r() : c.getR(),
        c.getWeightDecay() == 0 ? d.weightDecay() : c.getWeightDecay(), c.getLr() == 0 ? d.lr() : c.getLr(),
        images.getName(), images.getCount(), rec.getSteps(), rec.getLr() == 0 ? d.recoverLr() : rec.getLr(),
        or(rec.getBatch(), d.recoverBatch()));
  }

  private static ForwardSearch.Settings search(ForwardSearchOptions f) {
    if (f.getSubset() < 0) {
      throw new IllegalArgumentException("forward_search.subset must be in [0, 1024]");
    }
    return new ForwardSearch.Settings(f.getChannels().isEmpty() ? ForwardSearch.Settings.DEFAULTS.channels()
        : enumValue(ForwardSearch.Channels.class, f.getChannels(), "forward_search.channels"),
        f.getBudget().isEmpty() ? ForwardSearch.Settings.DEFAULTS.budget()
            : enumValue(ForwardSearch.Budget.class, f.getBudget(), "forward_search.budget"),
        f.getAllSequences() ? 0 : or(f.getSubset(), ForwardSearch.Settings.DEFAULTS.subset()));
  }

  private static int or(int v, int fallback) {
    return v == 0 ? fallback : v;
  }

  private static MiniLlm.Settings miniLlm(MiniLlmOptions m) {
    if (m.getQueries() < 0 || m.getMicroBatch() < 0) {
      throw new IllegalArgumentException("mini_llm.queries and mini_llm.micro_batch must be small positive numbers");
    }
    if (!Double.isFinite(m.getEpsilon())) {
      throw new IllegalArgumentException("mini_llm.epsilon must be a finite number in [1e-6, 1)");
    }
    return MiniLlm.Settings.of(m.getMode(), m.getQueries(), m.getEpsilon(), m.getLaw(), m.getPerturbed(), m.getFms(),
        m.getReduction(), m.getMicroBatch());
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

  private static <E extends Enum<E>> E enumValue(Class<E> type, String v, String field) {
    try {
      return Enum.valueOf(type, v.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + " '" + v + "' is not one of "
          + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT).replace('_', '-'));
    }
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
