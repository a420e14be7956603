package dev.pruneserve.pruning.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.criteria.Flap;
import java.util.HashSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one recipe parser: defaults, refusals naming the option, and the registry's invariants. */
class RecipeParserTest {
  @Test
  void defaultsAreTheDocumentedOnes() {
    PruneRecipe flap = RecipeParser.parse("flap", 0.2, Map.of());
    FlapMethod.Settings s = flap.settings(FlapMethod.Settings.class);
    assertEquals(new FlapMethod.Settings(Flap.Metric.WIFV, Flap.Structure.AL_AM, true), s);
    assertEquals(0, flap.firstLayer());
    assertEquals(-1, flap.endLayer());
    assertFalse(RecipeParser.parse("forward-search", 0.2, Map.of()).settings(ForwardSearchMethod.Settings.class)
        .compensation(), "forward search: compensation off by default");
    assertTrue(flap.needsTokens());
    assertFalse(RecipeParser.parse("magnitude-l2", 0.2, Map.of()).needsTokens());
    assertTrue(RecipeParser.parse("ifso", 0.5, Map.of()).needsImages());
    assertTrue(RecipeParser.parse("taylor", 0.5, Map.of()).needsTokens(), "taylor without images: Element1");
    assertTrue(RecipeParser.parse("taylor", 0.5, Map.of("images", "fashion-mnist")).needsImages());
  }

  @Test
  void bnRecalibrationIsOnWithImagesAndPartOfTheIdentity() {
    PruneRecipe with = RecipeParser.parse("magnitude-l1", 0.5, Map.of("images", "fashion-mnist"));
    assertTrue(with.cnn().recalibrates());
    assertTrue(with.identity().toString().contains("recalibrate_bn={batches=8, batch=128}"),
        with.identity().toString());
    PruneRecipe off = RecipeParser.parse("magnitude-l1", 0.5, Map.of("images", "fashion-mnist", "recalibrate-bn",
        "false"));
    assertFalse(off.cnn().recalibrates());
    assertTrue(off.identity().toString().contains("recalibrate_bn=false"), off.identity().toString());
    assertFalse(RecipeParser.parse("magnitude-l1", 0.5, Map.of()).cnn().recalibrates(), "no images, nothing to do");
    assertFalse(RecipeParser.parse("magnitude-l1", 0.5, Map.of("images", "fashion-mnist", "reconstruct", "true"))
        .cnn().recalibrates(), "reconstruction keeps the dense statistics by default");
    assertTrue(RecipeParser.parse("magnitude-l1", 0.5, Map.of("images", "fashion-mnist", "reconstruct", "true",
        "recalibrate-bn", "true")).cnn().recalibrates(), "asked for explicitly");
  }

  @Test
  void badValuesAreRefusedNamingTheOption() {
    assertInvalid("unknown method 'nope'", () -> RecipeParser.parse("nope", 0.2, Map.of()));
    assertInvalid("unknown option 'colour'", () -> RecipeParser.parse("flap", 0.2, Map.of("colour", "red")));
    assertInvalid("flap-metric 'x' is not one of", () -> RecipeParser.parse("flap", 0.2, Map.of("flap-metric", "x")));
    assertInvalid("queries must be an integer", () -> RecipeParser.parse("mini-llm", 0.2, Map.of("queries", "q")));
    assertInvalid("--flap-metric does not apply to method 'magnitude-l1'; it is an option of flap",
        () -> RecipeParser.parse("magnitude-l1", 0.2, Map.of("flap-metric", "ifv")));
    assertInvalid("--queries does not apply to method 'flap'",
        () -> RecipeParser.parse("flap", 0.2, Map.of("queries", "4")));
    assertInvalid("ratio must be in (0, 1)", () -> RecipeParser.parse("flap", 1.5, Map.of()));
    assertInvalid("--layers must be layer indices from:to",
        () -> RecipeParser.parse("flap", 0.2, Map.of("layers", "3")));
    assertInvalid("needs labelled training images", () -> RecipeParser.parse("ifso", 0.5, Map.of())
        .requireData(true));
    assertInvalid("flap needs calibration data", () -> RecipeParser.parse("flap", 0.5, Map.of()).requireData(false));
  }

  @Test
  void everyMethodIsRegisteredOnceWithSharesSummingToOne() {
    var names = new HashSet<String>();
    for (PruneMethod m : MethodRegistry.all()) {
      assertTrue(names.add(m.name()), m.name());
      assertTrue(m.revision() >= 1, m.name());
      assertEquals(PruneMethod.PHASES.length, m.phaseShares().length, m.name());
      assertEquals(1.0, java.util.Arrays.stream(m.phaseShares()).sum(), 1e-12, m.name());
      assertEquals(m, MethodRegistry.byName(m.name()));
    }
    assertEquals(10, names.size());
  }

  private static void assertInvalid(String message, Runnable r) {
    ServingException e = assertThrows(ServingException.class, r::run);
    assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }
}
