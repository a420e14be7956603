package dev.pruneserve.testing;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;

/**
 * Self-signed certificates made with the JDK's keytool for TLS tests (RSA 2048, CN and SAN
 * localhost, valid two days). Every store uses the password {@link #PASSWORD}.
 */
public final class TestCerts {
  public static final String PASSWORD = "changeit";

  /** A key pair and its certificate: {@code <name>.p12} (PKCS12 key store) and {@code <name>.pem}. */
  public record Identity(Path keyStore, Path certificate) {
    /** The key store as a client key manager (for mutual TLS). */
    public KeyManagerFactory keyManagers() throws Exception {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(keyStore)) {
        ks.load(in, PASSWORD.toCharArray());
      }
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, PASSWORD.toCharArray());
      return kmf;
    }
  }

  private TestCerts() {}

  public static Identity selfSigned(Path dir, String name) throws Exception {
    Path store = dir.resolve(name + ".p12");
    Path pem = dir.resolve(name + ".pem");
    keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
        "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", name, "-keystore", store.toString(), "-storepass", PASSWORD,
        "-file", pem.toString());
    return new Identity(store, pem);
  }

  /** A PKCS12 trust store holding {@code trusted}'s certificate. */
  public static Path trustStore(Path dir, String name, Identity trusted) throws Exception {
    Path store = dir.resolve(name + ".p12");
    keytool("-importcert", "-noprompt", "-alias", "trusted", "-file", trusted.certificate().toString(),
        "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD);
    return store;
  }

  private static void keytool(String... args) throws Exception {
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    List<String> cmd = new java.util.ArrayList<>(List.of(keytool));
    cmd.addAll(List.of(args));
    ClientRuns.run(cmd, Map.of());
  }
}
