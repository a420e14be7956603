package dev.pruneserve.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pruneserve.assets.FixtureCache;
import dev.pruneserve.assets.Stories15m;
import dev.pruneserve.error.ErrorKind;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.model.Lease;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.Warmup;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.testing.Stories15mModels;
import dev.pruneserve.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continuous batching through {@link GenerationService} on stories15M: the same prompts give the
 * same tokens alone (the batch-1 loop, {@code max_batch 1}) and batched, greedy and seeded; a
 * sequence cancelled in a batch leaves while the others go on; sequences join a running batch and
 * leave it at different steps; a full queue answers RESOURCE_EXHAUSTED; an unload and reload, and
 * an alias swap, during batched decoding cut nothing short. Batches are formed deterministically: a sink that blocks
 * holds the scheduler until the other requests are queued.
 */
class ContinuousBatchingTest {
  static final String[] PROMPTS = {"Once upon a time", "The cat sat", "Lily and Ben went to the park",
      "One day, a little bird", "Tom had a red ball. He", "The sun"};

  @TempDir static Path root;
  static ModelRegistry registry;
  static SimpleMeterRegistry meters = new SimpleMeterRegistry();
  static GenerationService service;
  /** The registry's router, as the alias table is in the server: alias → target, read per request. */
  static final java.util.Map<String, String> ALIASES = new java.util.concurrent.ConcurrentHashMap<>();

  @BeforeAll
  static void repository() throws Exception {
    dev.pruneserve.testing.Fixtures.stories15m();
    byte[] tokenizer = Files.readAllBytes(Stories15m.tokenizerFile(FixtureCache.defaultCache()));
    String base = "{\"kind\": \"causal-lm\", \"tokenizer\": \"tokenizer.bin\", \"context_length\": 256, ";
    write("alone", tokenizer, base + "\"generation\": {\"max_batch\": 1}}");
    write("batched", tokenizer, base + "\"generation\": {\"max_batch\": 16, \"prefill_tokens\": 64}}");
    write("small", tokenizer, base + "\"generation\": {\"max_batch\": 2, \"max_waiting\": 1}}");
    registry = new ModelRegistry(new ModelRepository(root), OrtRuntime.cpu(1), Warmup::run, name -> ALIASES
        .getOrDefault(name, name));
    for (String m : new String[] {"alone", "batched", "small"}) {
      registry.load(m);
    }
    service = new GenerationService(registry, meters);
  }

  private static void write(String name, byte[] tokenizer, String config) throws Exception {
    TestModels.write(root, name, 1, Stories15mModels.dense());
    Files.write(root.resolve(name).resolve("tokenizer.bin"), tokenizer);
    TestModels.writeText(root.resolve(name).resolve("config.json"), config);
  }

  @AfterAll
  static void close() {
    registry.unloadAll();
  }

  static SamplingParams params(int i, int tokens) {
    return i % 2 == 0 ? SamplingParams.of(tokens, 0f, 0, 1f, 1f, 7L, List.of())
        : SamplingParams.of(tokens, 0.9f, 40, 0.9f, 1.1f, 100L + i, List.of());
  }

  static GenerationResult run(String model, int i, int tokens, Consumer<GenerationService.TokenEvent> sink,
      AtomicBoolean cancel) {
    return service.generate(model, "", PromptInput.text(PROMPTS[i % PROMPTS.length]), params(i, tokens),
        cancel::get, sink);
  }

  static GenerationResult alone(int i, int tokens) {
    return run("alone", i, tokens, t -> {}, new AtomicBoolean());
  }

  /** Waits (polling, no deadline) until {@code n} generations are queued for {@code model}. */
  static void awaitWaiting(String model, int n) throws InterruptedException {
    try (Lease l = registry.acquire(model, "")) {
      ModelSession s = l.session();
      while (service.waiting(s) < n) {
        Thread.sleep(2);
      }
    }
  }

  /**
   * A sink that, at this sequence's {@code at}-th token, counts {@code held} down and blocks the
   * scheduler until {@code gate} opens.
   */
  static Consumer<GenerationService.TokenEvent> holdAt(int at, CountDownLatch held, CountDownLatch gate) {
    int[] count = new int[1];
    return t -> {
      if (++count[0] == at) {
        held.countDown();
        try {
          gate.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
  }

  /** Starts generation {@code i} on {@code model}, returns once the scheduler is held in its first token. */
  static CompletableFuture<GenerationResult> startHeld(String model, int i, int tokens, CountDownLatch gate)
      throws InterruptedException {
    CountDownLatch held = new CountDownLatch(1);
    var f = CompletableFuture.supplyAsync(() -> run(model, i, tokens, holdAt(1, held, gate), new AtomicBoolean()));
    held.await();
    return f;
  }

  @Test
  void batchedTokensEqualTheBatchOneLoopGreedyAndSeeded() throws Exception {
    int n = 12;
    List<GenerationResult> ref = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ref.add(alone(i, 20 + i));
    }
    CountDownLatch gate = new CountDownLatch(1);
    List<CompletableFuture<GenerationResult>> batched = new ArrayList<>();
    batched.add(startHeld("batched", 0, 20, gate));
    for (int i = 1; i < n; i++) {
      int k = i;
      batched.add(CompletableFuture.supplyAsync(() -> run("batched", k, 20 + k, t -> {}, new AtomicBoolean())));
    }
    awaitWaiting("batched", n - 1);
    gate.countDown();
    for (int i = 0; i < n; i++) {
      GenerationResult b = batched.get(i).get();
      assertArrayEquals(ref.get(i).tokenIds(), b.tokenIds(), "request " + i + " alone vs batched");
      assertEquals(ref.get(i).text(), b.text());
      assertEquals(ref.get(i).reason(), b.reason());
    }
    double most = meters.find("pruneserve.generation.batch.size").tag("model", "batched").summary().max();
    assertTrue(most >= n, "all " + n + " decoded together; largest batch " + most);
  }

  @Test
  void aSequenceCancelledInABatchLeavesAndTheOthersGoOn() throws Exception {
    GenerationResult[] ref = {alone(0, 24), alone(1, 24), alone(2, 24)};
    CountDownLatch gate = new CountDownLatch(1);
    AtomicBoolean cancel = new AtomicBoolean();
    int[] seen = new int[1];
    var a = startHeld("batched", 0, 24, gate);
    var b = CompletableFuture.supplyAsync(() -> run("batched", 1, 24, t -> {
      if (++seen[0] == 3) {
        cancel.set(true);
      }
    }, cancel));
    var c = CompletableFuture.supplyAsync(() -> run("batched", 2, 24, t -> {}, new AtomicBoolean()));
    awaitWaiting("batched", 2);
    gate.countDown();
    assertEquals(FinishReason.CANCELLED, b.get().reason());
    assertEquals(3, b.get().tokenIds().length, "left at the step after the client went away");
    assertArrayEquals(java.util.Arrays.copyOf(ref[1].tokenIds(), 3), b.get().tokenIds());
    assertArrayEquals(ref[0].tokenIds(), a.get().tokenIds());
    assertArrayEquals(ref[2].tokenIds(), c.get().tokenIds());
  }

  @Test
  void sequencesJoinARunningBatchAndLeaveAtTheirOwnStep() throws Exception {
    GenerationResult[] ref = {alone(0, 40), alone(3, 6), alone(4, 12)};
    List<CompletableFuture<GenerationResult>> late = new ArrayList<>();
    int[] count = new int[1];
    var a = CompletableFuture.supplyAsync(() -> run("batched", 0, 40, t -> {
      if (++count[0] == 5) { // on the scheduler thread: two requests arrive while A decodes
        late.add(CompletableFuture.supplyAsync(() -> run("batched", 3, 6, x -> {}, new AtomicBoolean())));
        late.add(CompletableFuture.supplyAsync(() -> run("batched", 4, 12, x -> {}, new AtomicBoolean())));
        try {
          awaitWaiting("batched", 2);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, new AtomicBoolean()));
    assertArrayEquals(ref[0].tokenIds(), a.get().tokenIds());
    assertArrayEquals(ref[1].tokenIds(), late.get(0).get().tokenIds());
    assertArrayEquals(ref[2].tokenIds(), late.get(1).get().tokenIds());
  }

  @Test
  void aFullQueueAnswersResourceExhausted() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    var a = startHeld("small", 0, 8, gate);
    var b = CompletableFuture.supplyAsync(() -> run("small", 1, 8, t -> {}, new AtomicBoolean()));
    awaitWaiting("small", 1);
    ServingException full = assertThrows(ServingException.class, () -> run("small", 2, 8, t -> {},
        new AtomicBoolean()));
    assertEquals(ErrorKind.RESOURCE_EXHAUSTED, full.kind());
    assertTrue(full.getMessage().contains("generation.max_waiting"), full.getMessage());
    gate.countDown();
    assertArrayEquals(alone(0, 8).tokenIds(), a.get().tokenIds());
    assertArrayEquals(alone(1, 8).tokenIds(), b.get().tokenIds());
  }

  /**
   * Generations 0 and 1 (30 tokens each) on {@code model}, decoding in one batch of the session of
   * {@code served}: B joins after A's first token; at A's 6th token the scheduler is held until
   * {@code release} opens. Returns once it is held.
   */
  static List<CompletableFuture<GenerationResult>> heldBatch(String model, String served, CountDownLatch release)
      throws InterruptedException {
    CountDownLatch bQueued = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch first = new CountDownLatch(1);
    Consumer<GenerationService.TokenEvent> hold = holdAt(6, held, release);
    var a = CompletableFuture.supplyAsync(() -> run(model, 0, 30, t -> {
      first.countDown();
      try {
        bQueued.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      hold.accept(t);
    }, new AtomicBoolean()));
    first.await();
    var b = CompletableFuture.supplyAsync(() -> run(model, 1, 30, t -> {}, new AtomicBoolean()));
    awaitWaiting(served, 1);
    bQueued.countDown();
    held.await();
    return List.of(a, b);
  }

  /** Writes and loads a stories15M folder with the default generation settings. */
  static void loadPlain(String name) throws Exception {
    write(name, Files.readAllBytes(root.resolve("alone/tokenizer.bin")),
        "{\"kind\": \"causal-lm\", \"tokenizer\": \"tokenizer.bin\", \"context_length\": 256}");
    registry.load(name);
  }

  @Test
  void anAliasSwapDuringBatchedDecodingCutsNothingShort() throws Exception {
    loadPlain("before-swap");
    ALIASES.put("live", "before-swap");
    try {
      GenerationResult[] ref = {alone(0, 30), alone(1, 30)};
      CountDownLatch swapped = new CountDownLatch(1);
      var running = heldBatch("live", "before-swap", swapped);
      ALIASES.put("live", "alone"); // the swap: new requests go to the new target at once
      GenerationResult fresh = run("live", 2, 10, t -> {}, new AtomicBoolean());
      swapped.countDown();
      assertEquals("alone", fresh.model(), "served by the new target while the old batch is held");
      assertArrayEquals(alone(2, 10).tokenIds(), fresh.tokenIds());
      for (int i = 0; i < 2; i++) {
        assertEquals("before-swap", running.get(i).get().model(), "a running sequence stays on its session");
        assertArrayEquals(ref[i].tokenIds(), running.get(i).get().tokenIds());
      }
    } finally {
      ALIASES.remove("live");
    }
  }

  @Test
  void unloadAndReloadDuringBatchedDecodingCutNothingShort() throws Exception {
    loadPlain("swapped");
    GenerationResult[] ref = {alone(0, 30), alone(1, 30)};
    CountDownLatch reloaded = new CountDownLatch(1);
    var running = heldBatch("swapped", "swapped", reloaded);
    registry.unload("swapped"); // both sequences are mid-way, holding leases on the old session
    registry.load("swapped");
    GenerationResult fresh = run("swapped", 2, 10, t -> {}, new AtomicBoolean()); // a new session's scheduler
    reloaded.countDown();
    assertArrayEquals(ref[0].tokenIds(), running.get(0).get().tokenIds());
    assertArrayEquals(ref[1].tokenIds(), running.get(1).get().tokenIds());
    assertArrayEquals(alone(2, 10).tokenIds(), fresh.tokenIds());
  }
}
