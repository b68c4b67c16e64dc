package io.tracerboy.edge;

import java.util.Set;

/**
 * A component whose behaviour follows settings that may change while the service runs (Kafka's
 * {@code Reconfigurable}): it names the settings it follows and is handed the full set of current values, already
 * validated, whenever one of them changes. {@link LiveSettings} calls it on the admin request's worker thread.
 */
interface Reconfigurable {
    /** The live settings this component follows. */
    Set<Setting<?>> reconfigurableSettings();

    /** Takes the current values of {@link #reconfigurableSettings()} (all checked), effective from the next use. */
    void reconfigure(Values values);

    /** Current setting values, typed. */
    interface Values {
        <T> T get(Setting<T> setting);
    }
}
