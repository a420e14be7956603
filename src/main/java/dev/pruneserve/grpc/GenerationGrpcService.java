package dev.pruneserve.grpc;

import dev.pruneserve.api.v1.FinishReason;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResponse;
import dev.pruneserve.api.v1.GenerateResult;
import dev.pruneserve.api.v1.GenerateSummary;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.TokenDelta;
import dev.pruneserve.llm.GenerationResult;
import dev.pruneserve.llm.GenerationService;
import dev.pruneserve.llm.SamplingParams;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** {@code pruneserve.v1.Generation}: adapter over {@link GenerationService}; runs on worker threads. */
@GrpcService
@Blocking
public class GenerationGrpcService extends GenerationGrpc.GenerationImplBase {
  @Inject GenerationService generation;
  @Inject dev.pruneserve.config.ServerConfig config;

  /** Requests that do not decode answer INVALID_ARGUMENT ({@link UndecodableRequests}). */
  @Override
  public io.grpc.ServerServiceDefinition bindService() {
    return UndecodableRequests.guard(super.bindService());
  }

  @Override
  public void generate(GenerateRequest req, StreamObserver<GenerateResponse> obs) {
    ServerCallStreamObserver<GenerateResponse> call = (ServerCallStreamObserver<GenerateResponse>) obs;
    call.setOnCancelHandler(() -> {}); // the loop polls isCancelled() before every step
    GrpcErrors.stream(obs, () -> {
      GenerationResult r = run(req, call::isCancelled, t -> {
        if (!call.isCancelled()) {
          obs.onNext(GenerateResponse.newBuilder()
              .setToken(TokenDelta.newBuilder().setId(t.id()).setText(t.text())).build());
        }
      });
      if (!call.isCancelled()) {
        obs.onNext(GenerateResponse.newBuilder().setSummary(summary(r)).build());
      }
    });
  }

  @Override
  public void generateUnary(GenerateRequest req, StreamObserver<GenerateResult> obs) {
    ServerCallStreamObserver<GenerateResult> call = (ServerCallStreamObserver<GenerateResult>) obs;
    GrpcErrors.unary(obs, () -> {
      GenerationResult r = run(req, call::isCancelled, t -> {});
      GenerateResult.Builder b = GenerateResult.newBuilder().setText(r.text()).setSummary(summary(r));
      for (int id : r.tokenIds()) {
        b.addTokenIds(id);
      }
      return b.build();
    });
  }

  private GenerationResult run(GenerateRequest req, BooleanSupplier cancelled,
      Consumer<GenerationService.TokenEvent> sink) {
    var p = req.getParams();
    var limits = config.limits();
    if (Integer.toUnsignedLong(p.getMaxNewTokens()) > limits.maxNewTokens()) {
      throw dev.pruneserve.error.ServingException.invalid("max_new_tokens is " + Integer.toUnsignedString(
          p.getMaxNewTokens()) + "; this server allows at most " + limits.maxNewTokens()
          + " (pruneserve.limits.max-new-tokens)");
    }
    var prompt = new dev.pruneserve.llm.PromptInput(req.getPrompt(), req.getMessagesList().stream()
        .map(m -> new dev.pruneserve.tokenizer.ChatTemplate.Message(m.getRole(), m.getContent())).toList());
    if (prompt.bytes() > limits.maxPromptBytes()) {
      throw dev.pruneserve.error.ServingException.invalid("prompt is " + prompt.bytes() + " bytes; this"
          + " server allows at most " + limits.maxPromptBytes() + " (pruneserve.limits.max-prompt-bytes)");
    }
    SamplingParams params = SamplingParams.of(Integer.toUnsignedLong(p.getMaxNewTokens()), p.getTemperature(),
        Integer.toUnsignedLong(p.getTopK()), p.getTopP(), p.getRepetitionPenalty(),
        p.hasSeed() ? p.getSeed() : null, p.getStopList());
    return generation.generate(req.getModel(), req.getVersion(), prompt, params, cancelled, sink);
  }

  private static GenerateSummary summary(GenerationResult r) {
    return GenerateSummary.newBuilder().setFinishReason(FinishReason.valueOf("FINISH_REASON_" + r.reason().name()))
        .setPromptTokens(r.promptTokens()).setGeneratedTokens(r.tokenIds().length)
        .setTimeToFirstTokenMs(r.timeToFirstTokenMs()).setTokensPerSecond(r.tokensPerSecond())
        .setModel(r.model()).setVersion(r.version()).setSeed(r.seed()).setTrailingText(r.trailingText()).build();
  }
}
