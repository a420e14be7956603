package dev.pruneserve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command line's --images: a built-in name or dir:<folder>, each with an optional :count. */
class PruneCommandTest {
  @Test
  void imagesNameAFolderOrABuiltInWithAnOptionalCount() {
    Map<String, String> dir = PruneCommand.recipeOptions(Map.of("images", "dir:/data/my:set:64"));
    assertEquals("dir:/data/my:set", dir.get("images"));
    assertEquals("64", dir.get("images-count"));
    Map<String, String> builtIn = PruneCommand.recipeOptions(Map.of("images", "fashion-mnist", "model", "m.onnx"));
    assertEquals(Map.of("images", "fashion-mnist"), builtIn, "all images; non-recipe flags left out");
    assertEquals("256", PruneCommand.recipeOptions(Map.of("images", "fashion-mnist:256")).get("images-count"));
  }
}
