/** WAL streaming primary/backup, epochs, Raft mode. Built by issues 6 and 7; empty until then. */
package dev.redoubt.replication;
