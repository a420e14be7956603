/**
 * The command line ({@code java -jar quarkus-run.jar prune …}): flags to the shared recipe parser,
 * one-line errors and documented exit codes; the runtime is handed in by the application shell.
 */
package dev.pruneserve.cli;
