/** JMH benchmarks of Redoubt, with the physical baselines and RocksDB JNI as peers. */
package dev.redoubt.bench;
