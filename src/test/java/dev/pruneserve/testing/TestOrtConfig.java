package dev.pruneserve.testing;

import dev.pruneserve.config.ServerConfig;

/** ORT settings for tests that build runtimes directly: 1 intra-op thread, no spinning. */
public final class TestOrtConfig {
  private TestOrtConfig() {}

  public static ServerConfig.Ort of(ServerConfig.Device device, boolean fallback) {
    return new ServerConfig.Ort() {
      @Override
      public ServerConfig.Device device() {
        return device;
      }

      @Override
      public boolean cudaFallback() {
        return fallback;
      }

      @Override
      public int cudaDeviceId() {
        return 0;
      }

      @Override
      public int intraOpThreads() {
        return 1;
      }

      @Override
      public int interOpThreads() {
        return 0;
      }

      @Override
      public boolean allowSpinning() {
        return false;
      }

      @Override
      public ServerConfig.OptLevel optimizationLevel() {
        return ServerConfig.OptLevel.ALL;
      }
    };
  }
}
