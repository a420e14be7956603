/**
 * Application shell: CDI wiring of the plain domain objects, start-up (repository preparation, model loading) and the
 * drain on SIGTERM/SIGINT before the JVM's shutdown hooks run. The only package besides the gRPC adapters that knows
 * CDI.
 */
package dev.pruneserve.app;
