package dev.pruneserve;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering the folders promise, checked on the compiled main classes: one package touches ONNX
 * Runtime, one touches Caffeine, only the gRPC adapters see gRPC (health and Quarkus gRPC included)
 * and the generated API, only the HTTP adapters see JAX-RS and Quarkus REST, dependencies
 * point inward (nothing depends on the adapters, the command line or the application shell; only the shell constructs the runtime; domain code knows no CDI),
 * and no two packages depend on each other (generated protobuf packages excluded).
 */
class ArchitectureTest {
  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS).importPackages("dev.pruneserve");
  }

  @Test
  void onlyTheRuntimePackageTouchesOnnxRuntime() {
    noClasses().that().resideOutsideOfPackage("dev.pruneserve.runtime").should().dependOnClassesThat()
        .resideInAPackage("ai.onnxruntime..").check(main);
  }

  @Test
  void onlyTheCachePackageTouchesCaffeine() {
    noClasses().that().resideOutsideOfPackage("dev.pruneserve.cache").should().dependOnClassesThat()
        .resideInAPackage("com.github.benmanes.caffeine..").check(main);
  }

  @Test
  void onlyTheEtcdPackageTouchesEtcd() {
    noClasses().that().resideOutsideOfPackage("dev.pruneserve.etcd").should().dependOnClassesThat()
        .resideInAPackage("io.etcd..").check(main);
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.etcd", "dev.pruneserve.app").should()
        .dependOnClassesThat().resideInAPackage("dev.pruneserve.etcd").check(main);
  }

  @Test
  void onlyTheGrpcAdaptersSeeGrpcAndTheWireTypes() {
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.grpc", "dev.pruneserve.api..").should()
        .dependOnClassesThat().resideInAnyPackage("io.grpc..", "dev.pruneserve.api..").check(main);
  }

  @Test
  void onlyTheGrpcAdaptersSeeGrpcHealthAndQuarkusGrpc() {
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.grpc", "dev.pruneserve.api..").should()
        .dependOnClassesThat().resideInAnyPackage("io.quarkus.grpc..", "grpc.health..").check(main);
  }

  @Test
  void nothingDependsOnTheAdaptersOrTheApplicationShell() {
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.grpc", "dev.pruneserve.app").should()
        .dependOnClassesThat().resideInAPackage("dev.pruneserve.grpc").check(main);
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.http..").should()
        .dependOnClassesThat().resideInAPackage("dev.pruneserve.http..").check(main);
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.app", "dev.pruneserve.cli").should()
        .dependOnClassesThat().resideInAnyPackage("dev.pruneserve.app", "dev.pruneserve.cli").check(main);
  }

  @Test
  void onlyTheHttpAdaptersSeeJaxRsAndQuarkusRest() {
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.http..").should().dependOnClassesThat()
        .resideInAnyPackage("jakarta.ws.rs..", "org.jboss.resteasy..").check(main);
  }

  @Test
  void onlyTheApplicationShellConstructsTheRuntime() {
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.runtime", "dev.pruneserve.app").should()
        .dependOnClassesThat().resideInAPackage("dev.pruneserve.runtime").check(main);
  }

  @Test
  void domainCodeKnowsNothingOfTheCommandLineOrCdi() {
    noClasses().that().resideOutsideOfPackages("dev.pruneserve.app", "dev.pruneserve.grpc", "dev.pruneserve.http..",
        "dev.pruneserve.config", "dev.pruneserve.api..").should().dependOnClassesThat()
        .resideInAnyPackage("jakarta.enterprise..", "jakarta.inject..", "io.quarkus..")
        .check(main);
  }

  @Test
  void packagesAreFreeOfCycles() {
    JavaClasses handWritten = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
        .withImportOption(l -> !l.contains("/dev/pruneserve/api/") && !l.contains("/dev/pruneserve/onnx/proto/"))
        .importPackages("dev.pruneserve");
    slices().matching("dev.pruneserve.(**)").should().beFreeOfCycles().check(handWritten);
  }
}
