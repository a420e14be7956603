package dev.pruneserve.variant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.ModelBuilder;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The variant store and alias table on disk: a complete write is listed (also by a fresh store, as
 * after a restart) and the repository serves it as a model; a write interrupted before its rename
 * leaves only a staging folder that recovery removes; a variant whose model was corrupted is
 * quarantined, never listed; aliases survive a restart and refuse stale compare-and-set.
 */
class VariantStoreTest {
  @TempDir Path root;

  /**
   * Recovery removes only what no live writer owns: a staging folder whose lock this process (a
   * writer still at work) holds stays, an abandoned one goes; a stale interrupted temporary file
   * goes, a fresh one (a write in progress) stays.
   */
  @Test
  @SuppressWarnings("try") // the lock is held for the block, never read
  void recoveryLeavesLiveWritesAlone() throws Exception {
    Path live = root.resolve(VariantStore.STAGING + "mlp@random-p50-dddddddddd-live");
    Path dead = root.resolve(VariantStore.STAGING + "mlp@random-p50-eeeeeeeeee-dead");
    Files.createDirectories(dead.resolve("1"));
    Path staleTmp = Files.createFile(root.resolve(".tmp-1.part"));
    Files.setLastModifiedTime(staleTmp, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()
        - 3_600_000));
    Path freshTmp = Files.createFile(root.resolve(".tmp-2.part"));
    try (StagingLock held = StagingLock.hold(live, "")) {
      Files.createDirectories(live.resolve("1"));
      assertEquals(List.of(), new VariantStore(new ModelRepository(root)).recover());
      assertTrue(Files.isDirectory(live), "a write in progress is never removed");
      assertFalse(Files.exists(dead), "an abandoned staging folder is removed");
      assertFalse(Files.exists(staleTmp));
      assertTrue(Files.exists(freshTmp));
    }
    assertFalse(Files.exists(root.resolve(live.getFileName() + StagingLock.SUFFIX)), "lock file removed");
    new VariantStore(new ModelRepository(root)).recover();
    assertFalse(Files.exists(live), "once its writer is gone, the folder is abandoned");
  }

  /**
   * Across hosts the OS lock may not reach a writer on another replica: a staging folder whose lock
   * file names a fleet owner stays while the fleet says that owner's lease is alive, and is removed
   * once it is not (the replica was killed and its lease expired).
   */
  @Test
  void recoveryInFleetModeAsksWhetherTheOwnersLeaseIsAlive() throws Exception {
    Path other = root.resolve(VariantStore.STAGING + "mlp@random-p50-ffffffffff-other");
    Path gone = root.resolve(VariantStore.STAGING + "mlp@random-p50-9999999999-gone");
    for (Path p : List.of(other, gone)) {
      Files.createDirectories(p.resolve("1"));
    }
    Files.writeString(other.resolveSibling(other.getFileName() + StagingLock.SUFFIX), "replica-b/1f");
    Files.writeString(gone.resolveSibling(gone.getFileName() + StagingLock.SUFFIX), "replica-c/2e");
    VariantStore store = new VariantStore(new ModelRepository(root));
    store.useFleet(new OwnersOnly(java.util.Set.of("replica-b/1f")));
    store.recover();
    assertTrue(Files.isDirectory(other), "a live replica's write is never removed");
    assertFalse(Files.exists(gone), "a dead replica's write is removed");
  }

  /** The fleet port as recovery uses it: which owner tags hold a live lease. */
  private record OwnersOnly(java.util.Set<String> alive) implements Fleet {
    @Override
    public Table aliases() {
      throw new UnsupportedOperationException();
    }

    @Override
    public Change setAlias(String alias, String target, Optional<String> expected) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<Change> deleteAlias(String alias) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void followAliases(java.util.function.Predicate<AliasRecord> listener, Runnable tableRead) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<Held> lock(String name, java.util.function.BooleanSupplier cancelled) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void publishProgress(String name, String phase, double fraction) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<Progress> progressOf(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String replicaId() {
      return "replica-a";
    }

    @Override
    public String ownerTag() {
      return "replica-a/3d";
    }

    @Override
    public boolean ownerAlive(String tag) {
      return alive.contains(tag);
    }

    @Override
    public void close() {}
  }

  /**
   * A variant of a Hugging Face folder gets the tokenizer files, not the weights or the checkpoint
   * config: its config.json holds the parent's effective settings and it serves as a plain folder.
   */
  @Test
  void aCheckpointParentsVariantIsAPlainModelFolder() throws Exception {
    var tiny = dev.pruneserve.testing.HfFolders.tiny(root.resolve("tiny"), "qwen2", "F32", 1);
    Files.writeString(tiny.dir().resolve("tokenizer.json"), "{}");
    Files.writeString(tiny.dir().resolve("pruneserve.json"), "{\"context_length\": 48}");
    ModelRepository repo = new ModelRepository(root, new dev.pruneserve.checkpoint.HfImport(root.resolve(".cache")));
    byte[] model = Files.readAllBytes(repo.versions("tiny").get(1L));
    VariantManifest v = manifest("tiny@random-p50-aaaaaaaaaa", model);
    new VariantStore(repo).write(v, model, tiny.dir(), repo.config("tiny"));
    Path dir = root.resolve(v.name());
    assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
    assertFalse(Files.exists(dir.resolve("model.safetensors")), "weights are not copied");
    assertFalse(repo.isCheckpoint(v.name()));
    assertEquals("causal-lm", repo.config(v.name()).kindOrDefault());
    assertEquals(48, repo.config(v.name()).contextLength());
    assertEquals("tokenizer.json", repo.config(v.name()).tokenizer());
  }

  @Test
  void completeWritesSurviveARestartAndPartialOrCorruptOnesNeverServe() throws Exception {
    Path parent = root.resolve("mlp");
    Files.createDirectories(parent.resolve("1"));
    byte[] model = ModelBuilder.mlp("mlp", 1, 4, 8, 2).toByteArray();
    Files.write(parent.resolve("1/model.onnx"), model);
    Files.writeString(parent.resolve("config.json"), "{\"kind\":\"generic\"}");
    ModelRepository repo = new ModelRepository(root);
    VariantStore store = new VariantStore(repo);
    VariantManifest a = manifest("mlp@random-p50-aaaaaaaaaa", model);
    store.write(a, model, parent);
    assertTrue(repo.contains(a.name()));
    assertEquals(1, repo.versions(a.name()).size());
    assertTrue(Files.isRegularFile(root.resolve(a.name()).resolve("config.json")), "parent files copied");
    VariantManifest stored = store.read(a.name()).orElseThrow();
    store.write(manifest(a.name(), model), model, parent); // a second writer of the same id (another replica)
    assertEquals(stored, store.read(a.name()).orElseThrow(), "the stored variant is kept");

    // an interrupted write: the staging folder exists, the rename never happened
    Path staging = root.resolve(VariantStore.STAGING + "mlp@random-p50-bbbbbbbbbb-x");
    Files.createDirectories(staging.resolve("1"));
    Files.write(staging.resolve("1/model.onnx"), new byte[] {1, 2});
    // a corrupt variant: complete folder, model bytes changed after the manifest was written
    VariantManifest c = manifest("mlp@random-p50-cccccccccc", model);
    store.write(c, model, parent);
    Files.write(root.resolve(c.name()).resolve("1/model.onnx"), new byte[] {9, 9, 9});

    VariantStore restarted = new VariantStore(new ModelRepository(root));
    assertEquals(List.of(c.name()), restarted.recover());
    assertFalse(Files.exists(staging));
    assertEquals(List.of(a.name()), restarted.list().stream().map(VariantManifest::name).toList());
    assertTrue(Files.isDirectory(root.resolve(VariantStore.QUARANTINE)));
    assertFalse(new ModelRepository(root).modelNames().contains(c.name()));
    restarted.delete(a.name());
    assertFalse(new ModelRepository(root).contains(a.name()));
  }

  @Test
  void aVariantWithExternalDataIsCheckedWithItsDataFile() throws Exception {
    Path parent = root.resolve("mlp");
    Files.createDirectories(parent.resolve("1"));
    ModelProto dense = ModelBuilder.mlp("mlp", 1, 16, 64, 4);
    Files.write(parent.resolve("1/model.onnx"), dense.toByteArray());
    VariantStore store = new VariantStore(new ModelRepository(root));
    for (String id : List.of("dddddddddd", "eeeeeeeeee")) {
      VariantManifest m = new VariantManifest("mlp@random-p50-" + id, "random-p50-" + id, "mlp", "1", "00",
          Map.of(), Map.of(), "", 1, 1, 0, "now");
      VariantManifest stored = store.write(m, dense, true, parent, null);
      assertEquals(Files.size(root.resolve(m.name()).resolve("1/model.onnx")) + Files.size(root.resolve(m.name())
          .resolve("1/model.onnx.data")), stored.fileBytes(), "sealed from the written files");
    }
    Path data = root.resolve("mlp@random-p50-eeeeeeeeee/1/model.onnx.data");
    assertTrue(Files.isRegularFile(data));
    assertEquals(dense, dev.pruneserve.graph.ModelFiles.read(root.resolve("mlp@random-p50-dddddddddd/1/model.onnx"))
        .model());
    byte[] b = Files.readAllBytes(data);
    b[b.length / 2] ^= 1;
    Files.write(data, b);
    assertEquals(List.of("mlp@random-p50-eeeeeeeeee"), new VariantStore(new ModelRepository(root)).recover(),
        "a changed data file quarantines its variant");
  }

  @Test
  void aliasesPersistAndCompareAndSet() throws Exception {
    Path file = root.resolve("aliases.json");
    AliasTable t = new AliasTable(file);
    assertEquals("", t.set("prod", "m@a", Optional.of("")));
    assertThrows(ServingException.class, () -> t.set("prod", "m@b", Optional.of("m@x")));
    assertEquals("m@a", t.set("prod", "m@b", Optional.of("m@a")));
    assertEquals("m@b", t.route("prod"));
    assertEquals("other", t.route("other"));
    AliasTable restarted = new AliasTable(file);
    assertEquals(Map.of("prod", "m@b"), restarted.snapshot());
    assertTrue(restarted.remove("prod"));
    assertTrue(new AliasTable(file).snapshot().isEmpty());
  }

  @Test
  void writeBehindAliasesTakeEffectAtOnceAndReachTheDiskOnFlush() throws Exception {
    Path file = root.resolve("aliases.json");
    try (AliasTable t = new AliasTable(file, AliasTable.Durability.WRITE_BEHIND)) {
      for (int i = 0; i < 50; i++) {
        t.set("prod", "m@" + i, Optional.empty());
        assertEquals("m@" + i, t.route("prod"));
      }
      t.flush();
      assertEquals(Map.of("prod", "m@49"), new AliasTable(file).snapshot());
      t.remove("prod");
    }
    assertTrue(new AliasTable(file).snapshot().isEmpty(), "close flushes");
  }

  private static VariantManifest manifest(String name, byte[] model) {
    return new VariantManifest(name, name.substring(name.indexOf('@') + 1), "mlp", "1", "00",
        Map.of("method", "random"),
        Map.of(), VariantIds.sha256Hex(model), 100, 50, model.length, "2026-11-25T00:00:00Z");
  }
}
