package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.undertow.server.HttpHandler;
import io.undertow.util.Methods;
import org.junit.jupiter.api.Test;

class RoutesTest {
    private static final HttpHandler NOTHING = exchange -> { };

    @Test
    void getBringsHeadAndAllowListsEveryDeclaredMethodInOrder() {
        Routes routes = new Routes().add("/analytics", NOTHING, Methods.POST).add("/analytics", NOTHING, Methods.GET)
                .add("/analytics/batch", NOTHING, Methods.POST);
        assertThat(routes.allowed("/analytics")).isEqualTo("GET, HEAD, POST");
        assertThat(routes.allowed("/analytics/batch")).isEqualTo("POST");
    }

    @Test
    void aMethodDeclaredTwiceOnAPathIsADeclarationError() {
        assertThatThrownBy(() -> new Routes().add("/healthz", NOTHING, Methods.GET).add("/healthz", NOTHING,
                Methods.HEAD)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("HEAD /healthz is declared twice");
        assertThatThrownBy(() -> new Routes().add("/x", NOTHING, Methods.POST, Methods.POST))
                .hasMessage("POST /x is declared twice");
    }
}
