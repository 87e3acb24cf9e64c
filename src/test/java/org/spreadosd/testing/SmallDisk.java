package org.spreadosd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A disk of its own for a test: a tmpfs of a given size mounted on a fresh directory, which the test can fill
 * to the last byte without touching the machine's disks. Mounting needs root: without it the calling test fails
 * in CI ({@code CI} set) and is skipped otherwise.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path dir;

    private SmallDisk(Path dir) {
        this.dir = dir;
    }

    public static SmallDisk mount(long megabytes) throws IOException, InterruptedException {
        if (!"root".equals(System.getProperty("user.name"))) {
            String ci = System.getenv("CI");
            if (ci != null && !ci.isEmpty()) {
                throw new AssertionError("the full-disk tests mount a tmpfs and must run as root in CI");
            }
            Assumptions.abort("not root: cannot mount the small tmpfs the full-disk tests fill");
        }
        Path dir = Files.createTempDirectory("spread-small-disk");
        run("mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m", "tmpfs", dir.toString());
        return new SmallDisk(dir);
    }

    public Path dir() {
        return dir;
    }

    public long free() throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("umount", "-l", dir.toString());
        Files.deleteIfExists(dir);
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: "
                    + new String(p.getInputStream().readAllBytes()));
        }
    }
}
