/**
 * The fleet's coordination engine: etcd through jetcd, behind {@link dev.pruneserve.variant.Fleet}.
 * The only package that touches {@code io.etcd}.
 */
package dev.pruneserve.etcd;
