/**
 * HTTP adapters on the HTTP port (Quarkus REST): the OpenAI-compatible {@code /v1} routes ({@code
 * openai}) and KServe v2 REST ({@code kserve}), over the same domain services as the gRPC adapters
 * (no second path for inference, sampling or limits). This package holds what both share: JSON
 * bodies, error mapping, bearer tokens and streamed generations.
 */
package dev.pruneserve.http;
