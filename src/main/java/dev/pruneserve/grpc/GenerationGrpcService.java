package dev.pruneserve.grpc;

import dev.pruneserve.api.v1.FinishReason;
import dev.pruneserve.api.v1.GenerateRequest;
import dev.pruneserve.api.v1.GenerateResponse;
import dev.pruneserve.api.v1.GenerateResult;
import dev.pruneserve.api.v1.GenerateSummary;
import dev.pruneserve.api.v1.GenerationGrpc;
import dev.pruneserve.api.v1.TokenDelta;
import dev.pruneserve.llm.GenerationRequest;
import dev.pruneserve.llm.GenerationResult;
import dev.pruneserve.llm.GenerationService;
import dev.pruneserve.llm.PromptInput;
import dev.pruneserve.tokenizer.ChatTemplate;
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
    var prompt = new PromptInput(req.getPrompt(), req.getMessagesList().stream()
        .map(m -> new ChatTemplate.Message(m.getRole(), m.getContent())).toList());
    return generation.generate(new GenerationRequest(req.getModel(), req.getVersion(), prompt,
        Integer.toUnsignedLong(p.getMaxNewTokens()), p.getTemperature(), Integer.toUnsignedLong(p.getTopK()),
        p.getTopP(), p.getRepetitionPenalty(), p.hasSeed() ? p.getSeed() : null, p.getStopList()), cancelled, sink);
  }

  private static GenerateSummary summary(GenerationResult r) {
    return GenerateSummary.newBuilder().setFinishReason(FinishReason.valueOf("FINISH_REASON_" + r.reason().name()))
        .setPromptTokens(r.promptTokens()).setGeneratedTokens(r.tokenIds().length)
        .setTimeToFirstTokenMs(r.timeToFirstTokenMs()).setTokensPerSecond(r.tokensPerSecond())
        .setModel(r.model()).setVersion(r.version()).setSeed(r.seed()).setTrailingText(r.trailingText()).build();
  }
}
