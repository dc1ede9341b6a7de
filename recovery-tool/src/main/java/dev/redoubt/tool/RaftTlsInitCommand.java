package dev.redoubt.tool;

import dev.redoubt.replication.raft.RaftTls;
import dev.redoubt.replication.raft.RaftTlsInit;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code redoubt raft tls-init}: make the credential that authenticates a Raft group's members and clients. */
@Command(name = "tls-init", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Make a Raft group's credential in DIR: a key and self-signed certificate (" + RaftTls.KEYSTORE_FILE
                + ") and its password (" + RaftTls.PASSWORD_FILE + "), owner-only. Copy DIR to every member and client",
            "and give each --tls-dir DIR: connections are then mutual TLS, and only holders of DIR can join, read or write.",
            "Exit 0: written."})
final class RaftTlsInitCommand extends ToolCommand {
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Where to write (created if missing; never overwritten).")
    Path dir;

    @Option(names = "--validity-days", paramLabel = "DAYS", defaultValue = "" + RaftTlsInit.DEFAULT_VALIDITY_DAYS,
            description = "How long the certificate is valid (default: ${DEFAULT-VALUE}).")
    int validityDays;

    @Option(names = "--json", description = "One JSON document.")
    boolean json;

    @Override
    int run() {
        jsonOutput(json);
        if (validityDays < 1 || validityDays > RaftTlsInit.VALIDITY_DAYS_MAX) {
            throw CliException.usage("--validity-days must be 1.." + RaftTlsInit.VALIDITY_DAYS_MAX + ", got " + validityDays);
        }
        RaftTls tls = RaftTlsInit.create(dir, validityDays);
        if (json) {
            printJson(Json.object().put("command", "raft tls-init").put("dir", dir.toString())
                    .put("fingerprint", tls.fingerprint()).put("notAfter", tls.notAfter().toString()));
        } else {
            out().println("group credential written to " + dir + " (" + RaftTls.KEYSTORE_FILE + ", " + RaftTls.PASSWORD_FILE + ")");
            out().println("certificate SHA-256 " + tls.fingerprint() + ", valid until " + tls.notAfter());
            out().println("copy the directory to every member and client (keep it private: it admits to the group)"
                    + " and give each --tls-dir");
        }
        return ExitCodes.OK;
    }
}
