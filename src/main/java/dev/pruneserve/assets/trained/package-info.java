/**
 * The trained CNN fixture: the ResNet-style Fashion-MNIST classifier trained from scratch with pruneserve's own
 * backward graphs, cached with its recipe and test accuracy. Kept apart from {@code assets} because it needs the
 * runtime and evaluation packages, which themselves use {@code assets}.
 */
package dev.pruneserve.assets.trained;
