/*
 * DebeziumOracle - runs Debezium's embedded engine and writes every record it
 * produces as one JSON line to a file, for pgcdc's parity tests.
 *
 *   java -cp <debezium jars>:<this class> DebeziumOracle <connector.properties> <records.jsonl>
 *
 * The properties file holds the engine and connector settings (name,
 * connector.class, offset.storage..., the connector's own keys).  Keys and
 * values are serialized by Kafka Connect's JsonConverter exactly as a Kafka
 * Connect worker would write them to Kafka (schemas included unless
 * converter.schemas.enable=false).  Each record becomes
 *
 *   {"topic":"<destination>","key":<key JSON or null>,"value":<value JSON or null>}
 *
 * appended to the output file and flushed before the record is marked
 * processed.  The process runs until it gets SIGTERM/SIGINT (a clean engine
 * shutdown that commits offsets) or the engine stops by itself (exit code 1,
 * the reason on stderr).
 */

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

public final class DebeziumOracle {

    private DebeziumOracle() {
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DebeziumOracle <connector.properties> <records.jsonl>");
            System.exit(2);
        }
        Properties props = new Properties();
        try (InputStream in = new FileInputStream(args[0])) {
            props.load(in);
        }
        final Writer out = new OutputStreamWriter(new FileOutputStream(args[1], true),
                StandardCharsets.UTF_8);
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicBoolean stopping = new AtomicBoolean(false);
        final String[] failure = new String[1];

        DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                .using(props)
                .using((success, message, error) -> {
                    if (!success) {
                        failure[0] = message;
                        System.err.println("DebeziumOracle: engine stopped: " + message);
                        if (error != null) {
                            error.printStackTrace();
                        }
                    }
                    done.countDown();
                })
                .notifying((List<ChangeEvent<String, String>> records,
                            DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer) -> {
                    for (ChangeEvent<String, String> r : records) {
                        StringBuilder line = new StringBuilder();
                        line.append("{\"topic\":").append(quote(r.destination()))
                            .append(",\"key\":").append(r.key() == null ? "null" : r.key())
                            .append(",\"value\":").append(r.value() == null ? "null" : r.value())
                            .append("}\n");
                        synchronized (out) {
                            try {
                                out.write(line.toString());
                                out.flush();
                            } catch (IOException e) {
                                throw new RuntimeException(e);
                            }
                        }
                        committer.markProcessed(r);
                    }
                    committer.markBatchFinished();
                })
                .build();

        ExecutorService executor = Executors.newSingleThreadExecutor();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            try {
                engine.close();
                done.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            }
            synchronized (out) {
                try {
                    out.close();
                } catch (IOException e) {
                    // nothing left to do
                }
            }
        }));
        executor.execute(engine);
        done.await();
        executor.shutdown();
        if (!stopping.get()) {
            // The engine ended on its own (bad config, lost connection...).
            System.err.println("DebeziumOracle: engine ended" + (failure[0] != null ? ": " + failure[0] : ""));
            System.exit(1);
        }
    }
}
