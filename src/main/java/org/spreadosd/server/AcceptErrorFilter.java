package org.spreadosd.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.time.Duration;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.spreadosd.util.IntervalCount;

/**
 * Pekko's TCP listener (org.apache.pekko.io.TcpListener) logs "Accept error: could not accept new connection" with a
 * stack trace for every accept that fails. Out of file descriptors, the kernel keeps the connection in the backlog
 * and the listener retries at once: tens of thousands of such lines a second (2.2 GB of log in 35 s). This filter
 * drops them and writes one line per interval instead, without a stack trace, with the count and the reason. The
 * listener goes on trying, so the node accepts again as soon as descriptors are free. Wired in conf/logback.xml.
 */
public final class AcceptErrorFilter extends TurboFilter {
    private static final String LISTENER = "org.apache.pekko.io.TcpListener";
    private static final String ACCEPT_ERROR = "Accept error";

    private volatile IntervalCount failed = new IntervalCount(Duration.ofSeconds(10));
    private volatile Logger own;

    /** Seconds between two lines about failed accepts (logback property {@code intervalSeconds}, default 10). */
    public void setIntervalSeconds(int seconds) {
        failed = new IntervalCount(Duration.ofSeconds(seconds));
    }

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (format == null
                || !format.startsWith(ACCEPT_ERROR)
                || !logger.getName().startsWith(LISTENER)) {
            return FilterReply.NEUTRAL;
        }
        IntervalCount counted = failed;
        long count = counted.countAndDue();
        if (count > 0) {
            ownLogger()
                    .warn(
                            "cannot accept connections: {} ({} failed accepts in the last {} s; accepting resumes when"
                                    + " file descriptors are free, see spreadosd.clients.*.max-connections and"
                                    + " ulimit -n)",
                            t == null ? "unknown reason" : t.getMessage(),
                            count,
                            counted.intervalSeconds());
        }
        return FilterReply.DENY;
    }

    /** Looked up at first use: during logback's own configuration the logger factory is not ready yet. */
    private Logger ownLogger() {
        Logger l = own;
        if (l == null) {
            l = (Logger) LoggerFactory.getLogger(AcceptErrorFilter.class);
            own = l;
        }
        return l;
    }
}
