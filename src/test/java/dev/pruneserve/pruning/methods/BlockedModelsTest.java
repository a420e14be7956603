package dev.pruneserve.pruning.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.pruning.criteria.Pruner;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.TestCnns;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a user is told about what was not pruned: a CNN whose every channel set is blocked is
 * refused as a CNN (FAILED_PRECONDITION naming each blocking node, op and reason), not as a
 * transformer without attention; a CNN pruned around blocked nodes lists them in its details.
 */
class BlockedModelsTest {
  @Test
  void aCnnWithNothingPrunableNamesTheBlockingNodes() {
    var m = TestCnns.channelsLastFlatten(1);
    assertEquals(PruneMethods.Family.CNN, PruneMethods.family(m));
    ServingException e = assertThrows(ServingException.class, () -> PruneMethods.apply(m, PruneRecipe.of(
        "magnitude-l1", 0.3), null, OrtRuntime.cpu(1)));
    assertEquals(ErrorKind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("no prunable channel group") && e.getMessage().contains("Flatten '")
        && e.getMessage().contains("channels-last"),
        e.getMessage());
  }

  @Test
  void aPartialResultListsWhatItLeft() throws Exception {
    Pruner.Result r = PruneMethods.apply(TestCnns.cnn(8, true), PruneRecipe.of("magnitude-l1", 0.3), null,
        OrtRuntime.cpu(1));
    @SuppressWarnings("unchecked")
    List<String> blocked = (List<String>) r.details().get("not_prunable");
    assertTrue(blocked.stream().anyMatch(s -> s.startsWith("LpNormalization '")), String.valueOf(blocked));
    assertTrue(r.parametersAfter() < r.parametersBefore());
  }
}
