package io.tracerboy.ingest;

import java.util.BitSet;

/**
 * What a {@link BatchSink} did with a batch it wrote: which events were resends (an id already counted for them, so
 * acknowledged again but neither stored nor counted again). Immutable; indexes are the batch's.
 */
public final class WriteOutcome {
    /** A batch written whole, with no resend. */
    public static final WriteOutcome NO_RESENDS = new WriteOutcome(new BitSet());

    /**
     * The answer of a retry that found its batch committed by an earlier attempt whose reply was lost: that attempt's
     * outcome ({@link CommitUnknownException#outcomeIfCommitted()}) holds. Told apart by identity.
     */
    public static final WriteOutcome ALREADY_COMMITTED = new WriteOutcome(new BitSet());

    private final BitSet resends;

    private WriteOutcome(BitSet resends) {
        this.resends = resends;
    }

    /** An outcome whose resends are the set bits of {@code resends} (copied). */
    public static WriteOutcome withResends(BitSet resends) {
        return resends.isEmpty() ? NO_RESENDS : new WriteOutcome((BitSet) resends.clone());
    }

    /** Whether event {@code index} of the batch was a resend. */
    public boolean isResend(int index) {
        return resends.get(index);
    }

    public int resendCount() {
        return resends.cardinality();
    }

    /** The outcome of events {@code [from, to)} of the batch, re-indexed from 0 (a half of a split batch). */
    WriteOutcome slice(int from, int to) {
        return withResends(resends.get(from, to));
    }
}
