/*
 * DebeziumOracle - runs Debezium's embedded engine and writes every record it
 * produces as one JSON line to a file, for pgcdc's parity tests; with an
 * output mode set, it is also the Debezium side of the head-to-head benchmark
 * (bench/head_to_head.py).
 *
 *   java -cp <debezium jars>:<this class> DebeziumOracle <connector.properties> <output file>
 *
 * The properties file holds the engine and connector settings (name,
 * connector.class, offset.storage..., the connector's own keys).  Keys and
 * values are serialized by Kafka Connect's JsonConverter exactly as a Kafka
 * Connect worker would write them to Kafka (schemas included unless
 * converter.schemas.enable=false).  Keys starting with "oracle." are this
 * program's own settings and are not passed to the engine:
 *
 *   oracle.output=records  (default) each record becomes
 *                            {"topic":"<destination>","key":<key JSON or null>,"value":<value JSON or null>}
 *                          appended to the output file and flushed before the
 *                          record is marked processed (the parity tests).
 *   oracle.output=values   each value (tombstones skipped) becomes one line of
 *                          the output file; the file is written and fsynced
 *                          (FileChannel.force) once per batch the engine hands
 *                          over, before the batch's records are marked processed.
 *   oracle.output=kafka    each record is sent to Kafka (topic = destination,
 *                          key and value as bytes) by a KafkaProducer configured
 *                          as a Kafka Connect 3.9 worker configures its source
 *                          tasks' producers (acks=all, enable.idempotence=false,
 *                          max.in.flight.requests.per.connection=1, unbounded
 *                          max.block.ms and delivery.timeout.ms), with
 *                          oracle.producer.<key> settings on top (bootstrap.servers
 *                          at least).  Once per batch the producer is flushed
 *                          (every record acknowledged) before the batch's records
 *                          are marked processed; the output file is not written.
 *   oracle.done.after=N, oracle.done.file=PATH
 *                          create PATH (empty) once N records have been written
 *                          (values: fsynced; kafka: acknowledged).
 *
 * The process runs until it gets SIGTERM/SIGINT (a clean engine shutdown that
 * commits offsets) or the engine stops by itself (exit code 1, the reason on
 * stderr).
 */

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import io.debezium.engine.format.JsonByteArray;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.BufferedOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

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

    /** Where the records go: write() each record, sync() at the end of every batch. */
    interface Output<T> extends AutoCloseable {
        void write(ChangeEvent<T, T> r) throws Exception;

        /** Everything written so far is durable (or acknowledged) when this returns. */
        default void sync() throws Exception {
        }

        /** Whether a record may be marked processed only after the batch's sync(). */
        default boolean batched() {
            return false;
        }

        @Override
        void close() throws Exception;
    }

    /** The parity tests' format: one {"topic","key","value"} line per record, flushed at once. */
    static final class RecordsOutput implements Output<String> {
        private final Writer out;

        RecordsOutput(String path) throws IOException {
            out = new OutputStreamWriter(new FileOutputStream(path, true), StandardCharsets.UTF_8);
        }

        @Override
        public void write(ChangeEvent<String, String> r) throws IOException {
            StringBuilder line = new StringBuilder();
            line.append("{\"topic\":").append(quote(r.destination()))
                .append(",\"key\":").append(r.key() == null ? "null" : r.key())
                .append(",\"value\":").append(r.value() == null ? "null" : r.value())
                .append("}\n");
            out.write(line.toString());
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** One value per line, fsynced once per batch. */
    static final class ValuesOutput implements Output<byte[]> {
        private final FileOutputStream file;
        private final BufferedOutputStream out;

        ValuesOutput(String path) throws IOException {
            file = new FileOutputStream(path, true);
            out = new BufferedOutputStream(file, 1 << 20);
        }

        @Override
        public void write(ChangeEvent<byte[], byte[]> r) throws IOException {
            if (r.value() != null) {
                out.write(r.value());
                out.write('\n');
            }
        }

        @Override
        public void sync() throws IOException {
            out.flush();
            file.getChannel().force(false);
        }

        @Override
        public boolean batched() {
            return true;
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** To Kafka with a Kafka Connect worker's producer settings; flushed once per batch. */
    static final class KafkaOutput implements Output<byte[]> {
        private final KafkaProducer<byte[], byte[]> producer;
        private final AtomicReference<Exception> failed = new AtomicReference<>();

        KafkaOutput(Properties overrides) {
            Properties p = new Properties();
            p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
            p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
            p.put("max.block.ms", Long.toString(Long.MAX_VALUE));
            p.put("enable.idempotence", "false");
            p.put("acks", "all");
            p.put("max.in.flight.requests.per.connection", "1");
            p.put("delivery.timeout.ms", Integer.toString(Integer.MAX_VALUE));
            p.put("client.id", "pgcdc-oracle-producer");
            p.putAll(overrides);
            producer = new KafkaProducer<>(p);
        }

        @Override
        public void write(ChangeEvent<byte[], byte[]> r) {
            producer.send(new ProducerRecord<>(r.destination(), r.key(), r.value()), (md, e) -> {
                if (e != null) {
                    failed.compareAndSet(null, e);
                }
            });
        }

        @Override
        public void sync() throws Exception {
            producer.flush();
            Exception e = failed.get();
            if (e != null) {
                throw e;
            }
        }

        @Override
        public boolean batched() {
            return true;
        }

        @Override
        public void close() {
            producer.close();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DebeziumOracle <connector.properties> <output file>");
            System.exit(2);
        }
        Properties all = new Properties();
        try (InputStream in = new FileInputStream(args[0])) {
            all.load(in);
        }
        Properties props = new Properties();
        Properties producer = new Properties();
        for (String k : all.stringPropertyNames()) {
            if (k.startsWith("oracle.producer.")) {
                producer.put(k.substring("oracle.producer.".length()), all.getProperty(k));
            } else if (!k.startsWith("oracle.")) {
                props.put(k, all.getProperty(k));
            }
        }
        String mode = all.getProperty("oracle.output", "records");
        long doneAfter = Long.parseLong(all.getProperty("oracle.done.after", "0"));
        String doneFile = all.getProperty("oracle.done.file");
        switch (mode) {
            case "records":
                run(DebeziumEngine.create(Json.class), props, new RecordsOutput(args[1]),
                    doneAfter, doneFile);
                break;
            case "values":
                run(DebeziumEngine.create(JsonByteArray.class), props, new ValuesOutput(args[1]),
                    doneAfter, doneFile);
                break;
            case "kafka":
                run(DebeziumEngine.create(JsonByteArray.class), props, new KafkaOutput(producer),
                    doneAfter, doneFile);
                break;
            default:
                System.err.println("DebeziumOracle: unknown oracle.output " + mode);
                System.exit(2);
        }
    }

    static <T> void run(DebeziumEngine.Builder<ChangeEvent<T, T>> builder, Properties props,
                        Output<T> out, long doneAfter, String doneFile) throws Exception {
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicBoolean stopping = new AtomicBoolean(false);
        final String[] failure = new String[1];
        final long[] written = new long[1];

        DebeziumEngine<ChangeEvent<T, T>> engine = builder
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
                .notifying((List<ChangeEvent<T, T>> records,
                            DebeziumEngine.RecordCommitter<ChangeEvent<T, T>> committer) -> {
                    synchronized (out) {
                        try {
                            for (ChangeEvent<T, T> r : records) {
                                out.write(r);
                                if (!out.batched()) {
                                    committer.markProcessed(r);
                                }
                            }
                            out.sync();
                        } catch (InterruptedException e) {
                            throw e;
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    }
                    if (out.batched()) {
                        for (ChangeEvent<T, T> r : records) {
                            committer.markProcessed(r);
                        }
                    }
                    committer.markBatchFinished();
                    long before = written[0];
                    written[0] += records.size();
                    if (doneFile != null && before < doneAfter && written[0] >= doneAfter) {
                        try {
                            Files.write(Paths.get(doneFile), new byte[0]);
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    }
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
                } catch (Exception e) {
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
