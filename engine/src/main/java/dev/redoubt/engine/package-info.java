/** The embedded {@code Db}: write path, manifest, checkpoints, redo recovery. Built by issue 3; empty until then. */
package dev.redoubt.engine;
