package dev.pruneserve.model;

import dev.pruneserve.error.ServingException;
import dev.pruneserve.graph.NativeHazards;
import dev.pruneserve.onnx.proto.Onnx.ModelProto;
import dev.pruneserve.repository.ModelConfigFile;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.session.ModelSession;
import dev.pruneserve.session.SessionLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Builds the sessions of every version of one model: checks each file for operands that could crash
 * the runtime ({@link NativeHazards}: refused unless config.json allows them, guarded per request
 * when they are inputs), loads it, and warms it up. A failure retires what was built. Called by
 * the registry under the model's lifecycle lock; stateless.
 */
final class SessionBuilder {
  private final ModelRepository repository;
  private final SessionLoader loader;
  private final java.util.function.BiConsumer<ModelSession, ModelConfigFile> warmup;

  SessionBuilder(ModelRepository repository, SessionLoader loader,
      java.util.function.BiConsumer<ModelSession, ModelConfigFile> warmup) {
    this.repository = repository;
    this.loader = loader;
    this.warmup = warmup;
  }

  ModelSlot.Served build(String name) {
    ModelConfigFile config = repository.config(name);
    NavigableMap<Long, Path> files = repository.versions(name);
    if (files.isEmpty()) {
      throw ServingException.precondition(
          "model '" + name + "' has no version folder <n>/model.onnx in its repository folder");
    }
    NavigableMap<Long, ModelHandle> handles = new TreeMap<>();
    try {
      for (Map.Entry<Long, Path> e : files.entrySet()) {
        String v = Long.toString(e.getKey());
        NativeHazards.Report hazards = hazards(name, e.getValue(), config);
        ModelSession session = loader.load(name + "/" + v, e.getValue());
        if (!hazards.guards().isEmpty()) {
          session = new GuardedSession(session, hazards.guards());
        }
        handles.put(e.getKey(), new ModelHandle(name, repository.modelDir(name), v, session, config));
        if (config.warmupOrDefault() && hazards.safe()) { // allowed-but-unguarded models: zeros could crash
          warmup.accept(session, config);
        }
      }
    } catch (RuntimeException e) {
      handles.values().forEach(ModelHandle::retire);
      throw e;
    }
    return new ModelSlot.Served(config, Collections.unmodifiableNavigableMap(handles));
  }

  /**
   * The hazardous operands of a model file: refused (FAILED_PRECONDITION naming each node) when one
   * is computed in the graph, unless config.json allows it. A file that does not parse is left to
   * the loader, which names the problem.
   */
  private static NativeHazards.Report hazards(String name, Path file, ModelConfigFile config) {
    NativeHazards.Report r;
    try {
      r = NativeHazards.analyse(ModelProto.parseFrom(Files.readAllBytes(file)));
    } catch (IOException | RuntimeException | OutOfMemoryError e) { // the loader names a bad file
      return new NativeHazards.Report(List.of(), List.of());
    }
    if (!r.safe() && !config.allowsUnguardedNativeOps()) {
      throw ServingException.precondition("model '" + name + "' is not served: " + r.why() + ". Such an operand"
          + " would crash the server process; set \"allow_unguarded_native_ops\": true in its config.json to serve"
          + " it anyway");
    }
    return r;
  }
}
