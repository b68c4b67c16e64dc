package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.Undertow;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The last stage of a graceful stop, on a real Undertow server: requests in progress finish, new ones hear why not. */
class InFlightRequestsIT {
    @Test
    void afterShutdownNewRequestsGet503WithAReasonWhileRequestsInProgressFinish() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        InFlightRequests inFlight = new InFlightRequests(exchange -> {
            if (exchange.getRequestPath().equals("/slow")) {
                exchange.dispatch(() -> {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    Replies.line(exchange, 200, "done");
                });
                return;
            }
            Replies.line(exchange, 200, "fast");
        });
        Undertow undertow = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(inFlight).build();
        undertow.start();
        try {
            String base = "http://127.0.0.1:" + ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress())
                    .getPort();
            CompletableFuture<HttpResponse<String>> slow = TestServers.http.sendAsync(
                    HttpRequest.newBuilder(URI.create(base + "/slow")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();

            inFlight.shutdown();
            HttpResponse<String> late = TestServers.http.send(
                    HttpRequest.newBuilder(URI.create(base + "/fast")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(late.statusCode()).isEqualTo(503);
            assertThat(late.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(late.body()).isEqualTo(PublishGate.REQUESTS_REFUSED + "\n");
            assertThat(inFlight.awaitIdle(0)).as("the slow request is still in progress").isFalse();

            release.countDown();
            assertThat(slow.get(30, TimeUnit.SECONDS).body()).isEqualTo("done\n");
            assertThat(inFlight.awaitIdle(30_000)).isTrue();
        } finally {
            undertow.stop();
        }
    }
}
