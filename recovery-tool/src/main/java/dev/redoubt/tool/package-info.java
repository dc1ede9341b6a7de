/** The {@code redoubt} command-line tool. */
package dev.redoubt.tool;
