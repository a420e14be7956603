package dev.pruneserve.app;

import dev.pruneserve.config.ServerConfig;
import dev.pruneserve.embed.EmbeddingService;
import dev.pruneserve.llm.GenerationService;
import dev.pruneserve.model.InferenceService;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.model.Warmup;
import dev.pruneserve.repository.ModelRepository;
import dev.pruneserve.runtime.OrtRuntime;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.nio.file.Path;

/** CDI wiring of the plain domain objects; the domain classes themselves know nothing of CDI. */
@ApplicationScoped
public class ServerBeans {

  @Produces
  @ApplicationScoped
  OrtRuntime ortRuntime(ServerConfig config) {
    return new OrtRuntime(config.ort());
  }

  @Produces
  @ApplicationScoped
  ModelRepository modelRepository(ServerConfig config) {
    return new ModelRepository(Path.of(config.repository().path()));
  }

  @Produces
  @ApplicationScoped
  ModelRegistry modelRegistry(ModelRepository repository, OrtRuntime runtime) {
    return new ModelRegistry(repository, runtime, Warmup::run);
  }

  @Produces
  @ApplicationScoped
  GenerationService generationService(ModelRegistry registry, MeterRegistry meters) {
    return new GenerationService(registry, meters);
  }

  @Produces
  @ApplicationScoped
  EmbeddingService embeddingService(ModelRegistry registry) {
    return new EmbeddingService(registry);
  }

  @Produces
  @ApplicationScoped
  InferenceService inferenceService(ModelRegistry registry, MeterRegistry meters) {
    return new InferenceService(registry, meters);
  }
}
