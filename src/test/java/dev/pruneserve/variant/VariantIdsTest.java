package dev.pruneserve.variant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.pruneserve.pruning.methods.PruneRecipe;
import dev.pruneserve.pruning.methods.RecipeParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Variant ids hash data only: a fixed request maps to a pinned id (a change to the identity, the
 * canonical form or the hash fails here), labels and prose never enter it, and options that change
 * the output change it.
 */
class VariantIdsTest {
  private static final String PARENT = "9b1c0f8e2a7d4c6b8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f";

  private static String id(PruneRecipe r) {
    Map<String, Object> recipe = new LinkedHashMap<>(r.identity());
    recipe.put("calibration", new CalibrationInput(List.of("Once upon a time"), List.of()).describe());
    return VariantIds.id(PARENT, recipe);
  }

  @Test
  void aFixedRecipeHasAPinnedId() {
    assertEquals("flap-p30-ee3fc119ea", id(RecipeParser.parse("flap", 0.3, Map.of())));
    assertEquals("mini-llm-p20-d5bda93a94", id(RecipeParser.parse("mini-llm", 0.2, Map.of("queries", "8"))));
  }

  @Test
  void labelsAndExplanationsAreNotPartOfTheIdentity() {
    for (String method : dev.pruneserve.pruning.methods.MethodRegistry.names()) {
      PruneRecipe r = RecipeParser.parse(method, 0.5, Map.of());
      String identity = VariantIds.canonical(r.identity());
      for (Object label : r.labels().values()) {
        assertFalse(identity.contains(String.valueOf(label)), method + ": label in the identity: " + label);
      }
      assertFalse(identity.contains(" "), method + ": prose in the identity: " + identity);
      assertEquals(r.method().revision(), r.identity().get("engine_revision"));
    }
  }

  @Test
  void optionsThatChangeTheOutputChangeTheId() {
    String base = id(RecipeParser.parse("flap", 0.3, Map.of()));
    assertEquals(base, id(RecipeParser.parse("flap", 0.3, Map.of("flap-metric", "wifv"))), "explicit default");
    assertNotEquals(base, id(RecipeParser.parse("flap", 0.3, Map.of("flap-metric", "ifv"))));
    assertNotEquals(base, id(RecipeParser.parse("flap", 0.3, Map.of("bias-compensation", "false"))));
    assertNotEquals(base, id(RecipeParser.parse("flap", 0.3, Map.of("layers", "1:4"))));
    assertEquals(base, id(RecipeParser.parse("flap", 0.3, Map.of("seed", "7"))), "flap ignores the seed");
    String random = id(RecipeParser.parse("random", 0.3, Map.of()));
    assertNotEquals(random, id(RecipeParser.parse("random", 0.3, Map.of("seed", "7"))));
  }
}
