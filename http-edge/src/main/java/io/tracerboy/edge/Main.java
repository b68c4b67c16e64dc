package io.tracerboy.edge;

import ch.qos.logback.classic.LoggerContext;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of {@code tracerboy.jar}: reads the configuration (a bad value exits with status 2 and a one-line
 * message), starts the service, and on SIGTERM stops it gracefully, exiting 0 when every accepted event was written and
 * 1 otherwise.
 */
public final class Main {
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
            System.exit(2);
            return;
        }
        // Before the first logger: logback.xml picks its appender from this property.
        System.setProperty("tracerboyLogAppender", config.logFormat().name());
        Logger log = LoggerFactory.getLogger(Main.class);
        log.info("tracerboy {} configuration: {}", TracerboyServer.version(), config.describe());
        TracerboyServer server;
        try {
            server = TracerboyServer.start(config);
        } catch (Exception e) {
            log.error("cannot start: {}", e.getMessage());
            System.exit(1);
            return;
        }
        server.onFatal(() -> {
            server.close();
            stopLogging();
            Runtime.getRuntime().halt(1);
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping: refusing new events, writing buffered ones");
            long abandoned = server.stop();
            stopLogging();
            // halt, not exit: inside a shutdown hook this sets the status (the JVM would otherwise report 143 for SIGTERM).
            Runtime.getRuntime().halt(abandoned == 0 ? 0 : 1);
        }, "tracerboy-shutdown"));
    }

    private static void stopLogging() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }
}
