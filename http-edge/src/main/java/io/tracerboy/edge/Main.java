package io.tracerboy.edge;

import ch.qos.logback.classic.LoggerContext;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of {@code tracerboy.jar}: reads the configuration (a bad value exits with status 2 and a one-line
 * message), starts the service, and on SIGTERM stops it gracefully, exiting 0 when every accepted event was written and
 * 1 otherwise. A fatal startup error (the port taken, a wrong password, a missing database) logs one line and exits 1.
 */
public final class Main {
    private static final int EXIT_OK = 0;
    private static final int EXIT_FAILED = 1;
    private static final int EXIT_BAD_CONFIGURATION = 2;

    private Main() {
    }

    public static void main(String[] args) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.print(TracerboyConfig.help());
            return;
        }
        TracerboyConfig config;
        try {
            config = TracerboyConfig.load(args);
        } catch (ConfigException e) {
            System.err.println(e.getMessage());
            System.exit(EXIT_BAD_CONFIGURATION);
            return;
        }
        // Before the first logger: logback.xml picks its appender from this property, and Undertow's and XNIO's
        // jboss-logging must go through SLF4J too, so nothing reaches stderr outside LOG_FORMAT.
        System.setProperty("tracerboyLogAppender", config.get(Setting.LOG_FORMAT).name());
        System.setProperty("org.jboss.logging.provider", "slf4j");
        Logger log = LoggerFactory.getLogger(Main.class);
        log.info("tracerboy {} configuration: {}", TracerboyServer.version(), config.describe());

        // One place decides the exit status: the shutdown hook, which runs for SIGTERM and for System.exit alike.
        AtomicReference<TracerboyServer> running = new AtomicReference<>();
        AtomicInteger failedStatus = new AtomicInteger(EXIT_OK);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            TracerboyServer server = running.get();
            long abandoned = 0;
            if (server != null) {
                if (failedStatus.get() == EXIT_OK) {
                    log.info("stopping: refusing new events, writing buffered ones");
                }
                abandoned = server.stop();
            }
            stopLogging();
            int status = failedStatus.get() != EXIT_OK ? failedStatus.get() : abandoned == 0 ? EXIT_OK : EXIT_FAILED;
            // halt, not exit: inside a shutdown hook this sets the status (the JVM would otherwise report 143 for
            // SIGTERM).
            Runtime.getRuntime().halt(status);
        }, "tracerboy-shutdown"));
        try {
            TracerboyServer server = TracerboyServer.create(config, reason -> {
                failedStatus.set(EXIT_FAILED);
                // On a thread of its own: exit waits for the shutdown hook, whose stop waits for the migrator
                // to return.
                new Thread(() -> System.exit(EXIT_FAILED), "tracerboy-fatal-exit").start();
            });
            running.set(server); // before the migrator starts, so a fatal error stops what was built
            server.start();
        } catch (Exception e) {
            log.error("cannot start: {}", e.getMessage());
            failedStatus.set(EXIT_FAILED);
            System.exit(EXIT_FAILED);
        }
    }

    private static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
