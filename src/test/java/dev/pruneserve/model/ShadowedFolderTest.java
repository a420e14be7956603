package dev.pruneserve.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model folder created with the name of an existing alias is not silently shadowed: the index
 * reports it UNAVAILABLE saying which alias hides it and what to do, and the start-up warning lists
 * it; requests for the name keep going to the alias target.
 */
class ShadowedFolderTest {
  @TempDir Path root;

  @Test
  void aFolderNamedLikeAnAliasIsReported() throws Exception {
    TestModels.write(root, "mlp", 1, ModelBuilder.mlp("mlp", 1, 4, 2));
    TestModels.write(root, "prod", 1, ModelBuilder.mlp("prod", 2, 4, 2));
    ModelRegistry registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run,
        name -> name.equals("prod") ? "mlp" : name);
    List<IndexEntry> prod = registry.index().stream().filter(e -> e.name().equals("prod")).toList();
    assertEquals(1, prod.size());
    assertEquals(ModelState.UNAVAILABLE, prod.get(0).state());
    assertTrue(prod.get(0).reason().contains("hidden by the alias 'prod' (-> 'mlp')")
        && prod.get(0).reason().contains("delete the alias or rename the folder"), prod.get(0).reason());
    assertEquals(List.of(prod.get(0).reason()), registry.shadowedFolders());
    registry.load("mlp");
    try (Lease l = registry.acquire("prod", "")) {
      assertEquals("mlp", l.model(), "the alias still routes");
    }
  }
}
