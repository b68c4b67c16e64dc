package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchWriterTest {
    private final RecordingBatchSink sink = new RecordingBatchSink();
    private final PipelineStats stats = new PipelineStats();
    private final List<String> settled = new ArrayList<>();
    private boolean abandon;

    private final BatchWriter.Settlement recording = new BatchWriter.Settlement() {
        @Override
        public void onCommitted(EventBatch part, WriteOutcome outcome) {
            settled.add("committed " + users(part));
        }

        @Override
        public void onDeadLettered(EventBatch part) {
            settled.add("dead-lettered " + users(part));
        }

        @Override
        public void onAbandoned(EventBatch part, boolean inDoubt) {
            settled.add("abandoned " + users(part) + (inDoubt ? " in doubt" : ""));
        }
    };

    private static String users(EventBatch part) {
        List<String> users = new ArrayList<>();
        for (int i = 0; i < part.size(); i++) {
            users.add(part.userId(i));
        }
        return String.join(",", users);
    }

    private static EventBatch batch(String... users) {
        EventBatch batch = new EventBatch(users.length);
        for (String user : users) {
            batch.add(1_700_000_000_000L, user, EventKind.CLICK);
        }
        return batch;
    }

    @Test
    void aStopWhileIsolatingAPoisonEventSettlesEveryPartOnceAndNeverAbandonsWhatCommitted() {
        sink.refused = event -> event.userId().equals("poison");
        sink.deadLetterFailuresLeft = Integer.MAX_VALUE; // the dead letters cannot be written either
        BatchWriter writer = new BatchWriter(sink, new RetryBackoff(1, 1), delayMs -> abandon = true,
                () -> abandon, stats);

        assertThat(writer.write(batch("a", "poison", "c", "d"), recording)).isFalse();

        assertThat(settled).containsExactly("committed a", "abandoned poison", "abandoned c,d");
    }

    @Test
    void aRetryThatFindsTheBatchCommittedTakesTheOutcomeOfTheAttemptWhoseReplyWasLost() {
        java.util.BitSet resends = new java.util.BitSet();
        resends.set(1);
        WriteOutcome lostAttempt = WriteOutcome.withResends(resends);
        BatchSink lostThenFound = new BatchSink() {
            private int attempts;

            @Override
            public WriteOutcome write(EventBatch batch) throws Exception {
                if (attempts++ == 0) {
                    throw new CommitUnknownException("reply lost", null, lostAttempt);
                }
                return WriteOutcome.ALREADY_COMMITTED;
            }

            @Override
            public void deadLetter(EventBatch batch, String reason) {
                throw new AssertionError("nothing is refused");
            }
        };
        List<WriteOutcome> outcomes = new ArrayList<>();
        BatchWriter writer = new BatchWriter(lostThenFound, new RetryBackoff(1, 1), delayMs -> { }, () -> false,
                stats);
        assertThat(writer.write(batch("a", "b"), new BatchWriter.Settlement() {
            @Override
            public void onCommitted(EventBatch part, WriteOutcome outcome) {
                outcomes.add(outcome);
            }

            @Override
            public void onDeadLettered(EventBatch part) {
                throw new AssertionError();
            }

            @Override
            public void onAbandoned(EventBatch part, boolean inDoubt) {
                throw new AssertionError();
            }
        })).isTrue();
        assertThat(outcomes).hasSize(1);
        assertThat(outcomes.get(0).isResend(1)).isTrue();
        assertThat(outcomes.get(0).isResend(0)).isFalse();
    }
}
