package dev.pruneserve.pruning.methods;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pruneserve.pruning.ifso.CnnSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command line's --images: a built-in name or dir:<folder>, each with an optional :count. */
class PruneCommandTest {
  @Test
  void imagesNameAFolderOrABuiltInWithAnOptionalCount() {
    CnnSettings dir = PruneCommand.cnn(Map.of("images", "dir:/data/my:set:64"));
    assertEquals("dir:/data/my:set", dir.dataset());
    assertEquals(64, dir.images());
    CnnSettings builtIn = PruneCommand.cnn(Map.of("images", "fashion-mnist"));
    assertEquals("fashion-mnist", builtIn.dataset());
    assertEquals(0, builtIn.images(), "all images");
    assertEquals(256, PruneCommand.cnn(Map.of("images", "fashion-mnist:256")).images());
  }
}
