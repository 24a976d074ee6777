/*
 * test_config.c - unit tests for the configuration module: table defaults,
 * every key type, both input forms (YAML and Debezium JSON, from strings and
 * from files), error messages (key, value, accepted values, locations,
 * masking), validation, conninfo quoting and the generated docs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/config_internal.h"
#include "test.h"

static char err[1024];

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

#define CHECK_HAS(hay, needle)                                                                     \
    do {                                                                                           \
        if (!contains((hay), (needle))) {                                                          \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, (hay),      \
                    (needle));                                                                     \
            test_current_failed = 1;                                                               \
        }                                                                                          \
    } while (0)

/* Loads text into a fresh config; returns the loader's result. */
static int load(pgcdc_config *cfg, const char *text)
{
    pgcdc_config_init(cfg);
    err[0] = 0;
    return pgcdc_config_load_string(cfg, text, strlen(text), err, sizeof(err));
}

/* Loads text, expects failure; frees; err holds the message. */
static void load_fails(const char *text)
{
    pgcdc_config cfg;
    int rc = load(&cfg, text);
    CHECK_INT(rc, -1);
    pgcdc_config_free(&cfg);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static const char *seed_json =
    "{\"name\":\"inventory-connector\",\"config\":{\"connector.class\":\"io.debezium.connector."
    "postgresql.PostgresConnector\",\"database.hostname\":\"postgres\",\"database.port\":\"5432\","
    "\"database.user\":\"postgres\",\"database.password\":\"postgres\",\"database.dbname\":"
    "\"postgres\",\"database.server.name\":\"dbserver2\",\"table.include.list\":\"public.links\","
    "\"plugin.name\":\"pgoutput\",\"tasks.max\":\"1\",\"key.converter\":\"org.apache.kafka."
    "connect.json.JsonConverter\",\"value.converter\":\"org.apache.kafka.connect.json."
    "JsonConverter\",\"key.converter.schemas.enable\":\"false\",\"value.converter.schemas."
    "enable\":\"true\"}}";

/* ------------------------------------------------------------------------ */

static void test_defaults(void)
{
    pgcdc_config cfg;
    pgcdc_config_init(&cfg);
    CHECK_STR(cfg.name, "pgcdc");
    CHECK(cfg.connector_class == NULL);
    CHECK_INT(cfg.tasks_max, 1);
    CHECK(cfg.topic_prefix == NULL);
    CHECK_STR(cfg.db_hostname, "localhost");
    CHECK_INT(cfg.db_port, 5432);
    CHECK_STR(cfg.db_user, "postgres");
    CHECK_STR(cfg.db_password, "");
    CHECK_STR(cfg.db_dbname, "postgres");
    CHECK_STR(cfg.db_sslmode, "prefer");
    CHECK_STR(cfg.slot_name, "debezium");
    CHECK_STR(cfg.publication_name, "dbz_publication");
    CHECK_INT(cfg.publication_mode, PGCDC_PUBLICATION_ALL_TABLES);
    CHECK_STR(cfg.plugin_name, "pgoutput");
    CHECK_INT(cfg.proto_version, 0);
    CHECK_INT(cfg.streaming, 1);
    CHECK_INT(cfg.spill_bytes, 67108864);
    CHECK_INT(cfg.status_interval_ms, 10000);
    CHECK_INT(cfg.slot_failover, 0);
    CHECK(cfg.schema_include == NULL && cfg.schema_exclude == NULL);
    CHECK(cfg.table_include == NULL && cfg.table_exclude == NULL);
    CHECK(cfg.column_include == NULL && cfg.column_exclude == NULL);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_UNSET);
    CHECK_INT(cfg.tombstones_on_delete, 1);
    CHECK_INT(cfg.skipped_ops, PGCDC_SKIP_TRUNCATE);
    CHECK_INT(cfg.types.decimal_mode, PGCDC_DECIMAL_PRECISE);
    CHECK_INT(cfg.types.time_mode, PGCDC_TIME_ADAPTIVE);
    CHECK_INT(cfg.types.binary_mode, PGCDC_BINARY_BYTES);
    CHECK_INT(cfg.types.interval_mode, PGCDC_INTERVAL_NUMERIC);
    CHECK_INT(cfg.key_schemas, 1);
    CHECK_INT(cfg.value_schemas, 1);
    CHECK_STR(cfg.key_converter, "org.apache.kafka.connect.json.JsonConverter");
    CHECK_STR(cfg.value_converter, "org.apache.kafka.connect.json.JsonConverter");
    CHECK_INT(cfg.queue_max_bytes, 67108864);
    CHECK_INT(cfg.batch_max_events, 2048);
    CHECK(cfg.sink_types == NULL);
    CHECK_STR(pgcdc_config_sink_types(&cfg), "file");
    CHECK_INT(cfg.file_fsync, 1);
    CHECK_STR(cfg.data_dir, "./pgcdc-data");
    CHECK_STR(cfg.log_level, "info");
    pgcdc_config_free(&cfg);
    CHECK(cfg.db_hostname == NULL);
}

static void test_table_sane(void)
{
    /* every key: unique name/alias, a group, a doc, defaults parse */
    CHECK(pgcdc_cfg_nkeys >= 40);
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        CHECK(k->group != NULL && k->doc != NULL && k->doc[0]);
        CHECK(pgcdc_config_find_key(k->name) == k);
        if (k->alias)
            CHECK(pgcdc_config_find_key(k->alias) == k);
        if (k->type == PGCDC_CFG_ENUM)
            CHECK(k->choices != NULL);
    }
    CHECK(pgcdc_config_find_key("nope") == NULL);
}

static void test_set_types(void)
{
    pgcdc_config cfg;
    pgcdc_config_init(&cfg);

    /* string */
    CHECK_INT(pgcdc_config_set(&cfg, "database.hostname", "db.example", err, sizeof(err)), 0);
    CHECK_STR(cfg.db_hostname, "db.example");
    /* secret */
    CHECK_INT(pgcdc_config_set(&cfg, "database.password", "pw", err, sizeof(err)), 0);
    CHECK_STR(cfg.db_password, "pw");
    /* int */
    CHECK_INT(pgcdc_config_set(&cfg, "database.port", " 6543 ", err, sizeof(err)), 0);
    CHECK_INT(cfg.db_port, 6543);
    /* long */
    CHECK_INT(pgcdc_config_set(&cfg, "max.queue.size.in.bytes", "10000000000", err, sizeof(err)),
              0);
    CHECK_INT(cfg.queue_max_bytes, 10000000000LL);
    /* bool in all spellings */
    static const char *const t[] = {"true", "TRUE", "yes", "On", "1"};
    static const char *const f[] = {"false", "False", "no", "OFF", "0"};
    for (int i = 0; i < 5; i++) {
        CHECK_INT(pgcdc_config_set(&cfg, "tombstones.on.delete", f[i], err, sizeof(err)), 0);
        CHECK_INT(cfg.tombstones_on_delete, 0);
        CHECK_INT(pgcdc_config_set(&cfg, "tombstones.on.delete", t[i], err, sizeof(err)), 0);
        CHECK_INT(cfg.tombstones_on_delete, 1);
    }
    /* enums, case-insensitive */
    CHECK_INT(pgcdc_config_set(&cfg, "decimal.handling.mode", "STRING", err, sizeof(err)), 0);
    CHECK_INT(cfg.types.decimal_mode, PGCDC_DECIMAL_STRING);
    CHECK_INT(pgcdc_config_set(&cfg, "time.precision.mode", "connect", err, sizeof(err)), 0);
    CHECK_INT(cfg.types.time_mode, PGCDC_TIME_CONNECT);
    CHECK_INT(pgcdc_config_set(&cfg, "binary.handling.mode", "base64-url-safe", err, sizeof(err)),
              0);
    CHECK_INT(cfg.types.binary_mode, PGCDC_BINARY_BASE64_URL_SAFE);
    CHECK_INT(pgcdc_config_set(&cfg, "binary.handling.mode", "hex", err, sizeof(err)), 0);
    CHECK_INT(cfg.types.binary_mode, PGCDC_BINARY_HEX);
    CHECK_INT(pgcdc_config_set(&cfg, "interval.handling.mode", "string", err, sizeof(err)), 0);
    CHECK_INT(cfg.types.interval_mode, PGCDC_INTERVAL_STRING);
    CHECK_INT(pgcdc_config_set(&cfg, "publication.autocreate.mode", "filtered", err, sizeof(err)),
              0);
    CHECK_INT(cfg.publication_mode, PGCDC_PUBLICATION_FILTERED);
    CHECK_INT(pgcdc_config_set(&cfg, "publication.autocreate.mode", "no_tables", err, sizeof(err)),
              0);
    CHECK_INT(cfg.publication_mode, PGCDC_PUBLICATION_NO_TABLES);
    /* snapshot.mode including the "never" alias */
    CHECK_INT(pgcdc_config_set(&cfg, "snapshot.mode", "initial", err, sizeof(err)), 0);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_INITIAL);
    CHECK_INT(pgcdc_config_set(&cfg, "snapshot.mode", "never", err, sizeof(err)), 0);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_NO_DATA);
    CHECK_INT(pgcdc_config_set(&cfg, "snapshot.mode", "when_needed", err, sizeof(err)), 0);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_WHEN_NEEDED);
    CHECK_INT(pgcdc_config_set(&cfg, "snapshot.mode", "initial_only", err, sizeof(err)), 0);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_INITIAL_ONLY);
    CHECK_INT(pgcdc_config_set(&cfg, "snapshot.mode", "always", err, sizeof(err)), 0);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_ALWAYS);
    CHECK_INT(pgcdc_config_set(&cfg, "snapshot.mode", "-", err, sizeof(err)), -1);
    CHECK_STR(err, "config: snapshot.mode: invalid value '-' (expected initial, no_data, "
                   "initial_only, always or when_needed)");
    /* string with choices is stored canonically */
    CHECK_INT(pgcdc_config_set(&cfg, "database.sslmode", "Verify-Full", err, sizeof(err)), 0);
    CHECK_STR(cfg.db_sslmode, "verify-full");
    CHECK_INT(pgcdc_config_set(&cfg, "log.level", "DEBUG", err, sizeof(err)), 0);
    CHECK_STR(cfg.log_level, "debug");
    /* skipped.operations */
    CHECK_INT(pgcdc_config_set(&cfg, "skipped.operations", "c, d", err, sizeof(err)), 0);
    CHECK_INT(cfg.skipped_ops, PGCDC_SKIP_CREATE | PGCDC_SKIP_DELETE);
    CHECK_INT(pgcdc_config_set(&cfg, "skipped.operations", "none", err, sizeof(err)), 0);
    CHECK_INT(cfg.skipped_ops, 0);
    CHECK_INT(pgcdc_config_set(&cfg, "skipped.operations", "u,t", err, sizeof(err)), 0);
    CHECK_INT(cfg.skipped_ops, PGCDC_SKIP_UPDATE | PGCDC_SKIP_TRUNCATE);
    CHECK_INT(pgcdc_config_set(&cfg, "skipped.operations", "c,x", err, sizeof(err)), -1);
    CHECK_HAS(err, "skipped.operations: invalid value 'c,x'");
    CHECK_INT(pgcdc_config_set(&cfg, "skipped.operations", "none,c", err, sizeof(err)), -1);
    /* lists */
    CHECK_INT(
        pgcdc_config_set(&cfg, "table.include.list", "public\\.a.*,inv\\..*", err, sizeof(err)), 0);
    CHECK_STR(cfg.table_include, "public\\.a.*,inv\\..*");
    CHECK_INT(pgcdc_config_set(&cfg, "table.include.list", "  ", err, sizeof(err)), 0);
    CHECK(cfg.table_include == NULL);
    CHECK_INT(pgcdc_config_set(&cfg, "sink.type", "stdout, file", err, sizeof(err)), 0);
    CHECK_STR(cfg.sink_types, "stdout, file");
    /* protocol version range */
    CHECK_INT(pgcdc_config_set(&cfg, "pgoutput.protocol.version", "4", err, sizeof(err)), 0);
    CHECK_INT(cfg.proto_version, 4);
    CHECK_INT(pgcdc_config_set(&cfg, "pgoutput.protocol.version", "5", err, sizeof(err)), -1);
    CHECK_STR(err, "config: pgoutput.protocol.version: invalid value '5' (expected an integer "
                   "from 0 to 4)");
    /* value NULL resets to the default */
    CHECK_INT(pgcdc_config_set(&cfg, "database.port", NULL, err, sizeof(err)), 0);
    CHECK_INT(cfg.db_port, 5432);
    CHECK_INT(pgcdc_config_set(&cfg, "snapshot.mode", NULL, err, sizeof(err)), 0);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_UNSET);
    /* a legacy alias */
    CHECK_INT(pgcdc_config_set(&cfg, "table.whitelist", "a\\.b", err, sizeof(err)), 0);
    CHECK_STR(cfg.table_include, "a\\.b");
    /* DDL events are opt-in (they install an event trigger); Debezium's
     * include.schema.changes names the same switch */
    CHECK_INT(cfg.schema_changes, 0);
    CHECK_INT(pgcdc_config_set(&cfg, "include.schema.changes", "true", err, sizeof(err)), 0);
    CHECK_INT(cfg.schema_changes, 1);
    CHECK_INT(pgcdc_config_set(&cfg, "schema.changes", "off", err, sizeof(err)), 0);
    CHECK_INT(cfg.schema_changes, 0);
    pgcdc_config_free(&cfg);
}

static void test_set_errors(void)
{
    pgcdc_config cfg;
    pgcdc_config_init(&cfg);

    CHECK_INT(pgcdc_config_set(&cfg, "decimal.handling.mode", "exact", err, sizeof(err)), -1);
    CHECK_STR(err, "config: decimal.handling.mode: invalid value 'exact' (expected precise, "
                   "double or string)");
    CHECK_INT(pgcdc_config_set(&cfg, "database.port", "70000", err, sizeof(err)), -1);
    CHECK_STR(err, "config: database.port: invalid value '70000' (expected an integer from 1 to "
                   "65535)");
    CHECK_INT(pgcdc_config_set(&cfg, "database.port", "0", err, sizeof(err)), -1);
    CHECK_INT(pgcdc_config_set(&cfg, "database.port", "54x", err, sizeof(err)), -1);
    CHECK_HAS(err, "invalid value '54x'");
    CHECK_INT(pgcdc_config_set(&cfg, "database.port", "", err, sizeof(err)), -1);
    CHECK_INT(pgcdc_config_set(&cfg, "max.batch.size", "-5", err, sizeof(err)), -1);
    CHECK_STR(err, "config: max.batch.size: invalid value '-5' (expected a positive integer)");
    CHECK_INT(pgcdc_config_set(&cfg, "max.batch.size", "99999999999", err, sizeof(err)), -1);
    CHECK_INT(pgcdc_config_set(&cfg, "max.queue.size.in.bytes", "0", err, sizeof(err)), -1);
    CHECK_INT(pgcdc_config_set(&cfg, "pgcdc.stream.spill.bytes", "99999999999999999999", err,
                               sizeof(err)),
              -1);
    CHECK_INT(pgcdc_config_set(&cfg, "pgcdc.streaming", "maybe", err, sizeof(err)), -1);
    CHECK_STR(err, "config: pgcdc.streaming: invalid value 'maybe' (expected true or false; "
                   "yes/no, on/off and 1/0 are accepted too)");
    CHECK_INT(pgcdc_config_set(&cfg, "database.sslmode", "strict", err, sizeof(err)), -1);
    CHECK_STR(err, "config: database.sslmode: invalid value 'strict' (expected disable, allow, "
                   "prefer, require, verify-ca or verify-full)");
    CHECK_INT(pgcdc_config_set(&cfg, "log.level", "trace", err, sizeof(err)), -1);
    CHECK_HAS(err, "expected error, warn, info or debug");

    CHECK_INT(pgcdc_config_set(&cfg, "connector.class",
                               "io.debezium.connector.mysql.MySqlConnector", err, sizeof(err)),
              -1);
    CHECK_HAS(err, "config: connector.class: invalid value "
                   "'io.debezium.connector.mysql.MySqlConnector'");
    CHECK_HAS(err, "PostgreSQL only");
    CHECK_INT(pgcdc_config_set(&cfg, "tasks.max", "4", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: tasks.max: invalid value '4' (expected 1");
    CHECK_HAS(err, "one task");
    CHECK_INT(pgcdc_config_set(&cfg, "plugin.name", "decoderbufs", err, sizeof(err)), -1);
    CHECK_STR(err, "config: plugin.name: invalid value 'decoderbufs' (pgcdc decodes pgoutput "
                   "only; set plugin.name=pgoutput)");
    CHECK_INT(pgcdc_config_set(&cfg, "plugin.name", "wal2json", err, sizeof(err)), -1);
    CHECK_HAS(err, "pgcdc decodes pgoutput only; set plugin.name=pgoutput");
    CHECK_INT(pgcdc_config_set(&cfg, "value.converter", "io.confluent.connect.avro.AvroConverter",
                               err, sizeof(err)),
              -1);
    CHECK_HAS(err, "config: value.converter: invalid value 'io.confluent.connect.avro.");
    CHECK_HAS(err, "org.apache.kafka.connect.json.JsonConverter");
    CHECK_INT(pgcdc_config_set(&cfg, "sink.type", "file,kafak", err, sizeof(err)), -1);
    CHECK_STR(err, "config: sink.type: unknown sink 'kafak' (known sinks: elasticsearch, file, "
                   "kafka, lake, stdout)");
    CHECK_INT(pgcdc_config_set(&cfg, "sink.type", "file,file", err, sizeof(err)), -1);
    CHECK_INT(pgcdc_config_set(&cfg, "sink.type", "", err, sizeof(err)), -1);
    CHECK_INT(pgcdc_config_set(&cfg, "slot.name", "My-Slot", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: slot.name: invalid value 'My-Slot'");
    CHECK_INT(pgcdc_config_set(&cfg, "topic.prefix", "bad prefix!", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: topic.prefix: invalid value 'bad prefix!'");
    CHECK_INT(pgcdc_config_set(&cfg, "database.server.name", "a/b", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: database.server.name: invalid value 'a/b'");
    CHECK_INT(pgcdc_config_set(&cfg, "table.include.list", "ok,bad(", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: table.include.list: invalid regular expression 'bad('");
    CHECK_INT(pgcdc_config_set(&cfg, "database.hostname", "", err, sizeof(err)), -1);
    CHECK_STR(err, "config: database.hostname: must not be empty");

    /* failed sets leave the old value */
    CHECK_INT(cfg.db_port, 5432);
    CHECK_STR(cfg.plugin_name, "pgoutput");
    CHECK(cfg.sink_types == NULL);

    /* control characters are not echoed raw */
    CHECK_INT(pgcdc_config_set(&cfg, "database.port", "1\n2", err, sizeof(err)), -1);
    CHECK_HAS(err, "'1?2'");
    pgcdc_config_free(&cfg);
}

static void test_unknown_keys(void)
{
    pgcdc_config cfg;
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_set(&cfg, "database.hostnme", "x", err, sizeof(err)), -1);
    CHECK_STR(err, "config: unknown configuration key 'database.hostnme' (did you mean "
                   "'database.hostname'?)");
    CHECK_INT(pgcdc_config_set(&cfg, "tabel.include.list", "x", err, sizeof(err)), -1);
    CHECK_HAS(err, "did you mean 'table.include.list'?");
    CHECK_INT(pgcdc_config_set(&cfg, "hostname", "x", err, sizeof(err)), -1);
    CHECK_HAS(err, "did you mean 'database.hostname'?");
    CHECK_INT(pgcdc_config_set(&cfg, "database.server.nam", "x", err, sizeof(err)), -1);
    CHECK_HAS(err, "did you mean 'topic.prefix'?");
    CHECK_INT(pgcdc_config_set(&cfg, "completely.unrelated.thing", "x", err, sizeof(err)), -1);
    CHECK_HAS(err, "unknown configuration key 'completely.unrelated.thing'");
    CHECK(!contains(err, "did you mean"));
    CHECK_INT(pgcdc_config_set(&cfg, "predicates.p.type", "x", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: predicates.p.type: transform predicates are not supported");
    CHECK_INT(pgcdc_config_set(&cfg, "database.history.kafka.topic", "h", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: database.history.kafka.topic: ");
    CHECK_HAS(err, "MySQL");
    CHECK_INT(pgcdc_config_set(&cfg, "database.history", "h", err, sizeof(err)), -1);
    CHECK_HAS(err, "MySQL");
    pgcdc_config_free(&cfg);
}

static void test_seed_json(void)
{
    pgcdc_config cfg;
    CHECK_INT(load(&cfg, seed_json), 0);
    CHECK_STR(err, "");
    CHECK_STR(cfg.name, "inventory-connector");
    CHECK_STR(cfg.connector_class, "io.debezium.connector.postgresql.PostgresConnector");
    CHECK_STR(cfg.db_hostname, "postgres");
    CHECK_INT(cfg.db_port, 5432);
    CHECK_STR(cfg.db_user, "postgres");
    CHECK_STR(cfg.db_password, "postgres");
    CHECK_STR(cfg.db_dbname, "postgres");
    CHECK_STR(cfg.topic_prefix, "dbserver2");
    CHECK_STR(cfg.table_include, "public.links");
    CHECK_STR(cfg.plugin_name, "pgoutput");
    CHECK_INT(cfg.tasks_max, 1);
    CHECK_INT(cfg.key_schemas, 0);
    CHECK_INT(cfg.value_schemas, 1);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_UNSET);
    pgcdc_config_free(&cfg);
}

static void test_json_forms(void)
{
    pgcdc_config cfg;
    /* flat object with JSON scalars */
    CHECK_INT(load(&cfg, "  {\"connector.class\":\"io.debezium.connector.postgresql."
                         "PostgresConnector\",\"topic.prefix\":\"t1\",\"database.port\":6000,"
                         "\"tombstones.on.delete\":false,\"max.queue.size.in.bytes\":1e6,"
                         "\"snapshot.mode\":\"never\",\"table.exclude.list\":null,"
                         "\"slot.failover\":\"true\"}"),
              0);
    CHECK_STR(err, "");
    CHECK_INT(cfg.slot_failover, 1);
    CHECK_INT(cfg.db_port, 6000);
    CHECK_INT(cfg.tombstones_on_delete, 0);
    CHECK_INT(cfg.queue_max_bytes, 1000000);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_NO_DATA);
    CHECK(cfg.table_exclude == NULL);
    pgcdc_config_free(&cfg);

    /* GET /connectors/x output: tasks and type are ignored; arrays for lists */
    CHECK_INT(load(&cfg, "{\"name\":\"c\",\"config\":{\"name\":\"c\",\"topic.prefix\":\"p\","
                         "\"schema.include.list\":[\"public\",\"a{1,2}\"]},\"tasks\":[],"
                         "\"type\":\"source\"}"),
              0);
    CHECK_STR(err, "");
    CHECK_STR(cfg.name, "c");
    CHECK_STR(cfg.schema_include, "public,a{1\\,2}");
    pgcdc_config_free(&cfg);

    /* mismatched names */
    load_fails("{\"name\":\"a\",\"config\":{\"name\":\"b\",\"topic.prefix\":\"p\"}}");
    CHECK_HAS(err, "config: name:");
    /* nested object inside config */
    load_fails("{\"name\":\"a\",\"config\":{\"topic.prefix\":\"p\",\"database\":{\"hostname\":"
               "\"x\"}}}");
    CHECK_HAS(err, "config: database: nested objects are not accepted");
    /* unknown top-level member in the request form */
    load_fails("{\"name\":\"a\",\"config\":{\"topic.prefix\":\"p\"},\"topic.prefix\":\"q\"}");
    CHECK_HAS(err, "unexpected top-level member 'topic.prefix'");
    /* array for a scalar key */
    load_fails("{\"topic.prefix\":\"p\",\"database.port\":[1]}");
    CHECK_STR(err, "config: database.port: expected a single value, not a list");
    /* duplicate keys, literally and through an alias */
    load_fails("{\"topic.prefix\":\"p\",\"topic.prefix\":\"q\"}");
    CHECK_HAS(err, "duplicate");
    load_fails("{\"topic.prefix\":\"p\",\"database.server.name\":\"q\"}");
    CHECK_STR(err, "config: database.server.name: given twice (also as topic.prefix)");
    /* unknown key inside JSON */
    load_fails("{\"topic.prefix\":\"p\",\"slot.nmae\":\"s\"}");
    CHECK_STR(err, "config: unknown configuration key 'slot.nmae' (did you mean 'slot.name'?)");
    /* wrong connector, plugin, transforms in a pasted config */
    load_fails("{\"name\":\"x\",\"config\":{\"connector.class\":\"io.debezium.connector.mysql."
               "MySqlConnector\",\"topic.prefix\":\"p\"}}");
    CHECK_HAS(err, "connector.class");
    CHECK_HAS(err, "PostgreSQL only");
    load_fails("{\"topic.prefix\":\"p\",\"plugin.name\":\"decoderbufs\"}");
    CHECK_HAS(err, "pgcdc decodes pgoutput only; set plugin.name=pgoutput");
    load_fails("{\"topic.prefix\":\"p\",\"transforms\":\"unwrap\",\"transforms.unwrap.type\":"
               "\"io.debezium.transforms.ExtractNewRecordState\"}");
    CHECK_HAS(err, "transforms.unwrap.type: io.debezium.transforms.ExtractNewRecordState is not "
                   "supported; pgcdc applies org.apache.kafka.connect.transforms.RegexRouter");
    load_fails("{\"topic.prefix\":\"p\",\"tasks.max\":2}");
    CHECK_HAS(err, "config: tasks.max: invalid value '2'");
    load_fails("{\"topic.prefix\":\"p\",\"database.port\":1.5}");
    CHECK_HAS(err, "config: database.port: invalid value '1.5'");
    /* not an object */
    load_fails("[1,2]");
}

static void test_json_syntax_errors(void)
{
    load_fails("{\"topic.prefix\": \"p\",\n\"database.port\": 5432,\n\"x\" 1}");
    CHECK_HAS(err, "config: line 3, column");
    CHECK_HAS(err, "invalid JSON");
    load_fails("{");
    CHECK_HAS(err, "invalid JSON");
    load_fails("{\"topic.prefix\":\"a\\u0000b\"}");
    CHECK_HAS(err, "config: line 1");
}

static void test_yaml_basic(void)
{
    pgcdc_config cfg;
    CHECK_INT(load(&cfg, "# pgcdc\n"
                         "topic.prefix: inventory\n"
                         "database:\n"
                         "  hostname: db.internal\n"
                         "  port: 6432\n"
                         "  password: \"it's \\\\ secret\"\n"
                         "  server: {}\n"
                         "table.include.list:\n"
                         "  - public\\.orders\n"
                         "  - public\\.c{1,3}\n"
                         "skipped.operations: [c, u]\n"
                         "sink.type: [stdout, file]\n"
                         "sink:\n"
                         "  file.fsync: off\n"
                         "pgcdc.streaming: no\n"
                         "snapshot.mode: initial\n"
                         "key:\n"
                         "  converter:\n"
                         "    schemas:\n"
                         "      enable: false\n"
                         "schema.exclude.list: ~\n"),
              0);
    CHECK_STR(err, "");
    CHECK_STR(cfg.topic_prefix, "inventory");
    CHECK_STR(cfg.db_hostname, "db.internal");
    CHECK_INT(cfg.db_port, 6432);
    CHECK_STR(cfg.db_password, "it's \\ secret");
    CHECK_STR(cfg.table_include, "public\\.orders,public\\.c{1\\,3}");
    CHECK_INT(cfg.skipped_ops, PGCDC_SKIP_CREATE | PGCDC_SKIP_UPDATE);
    CHECK_STR(cfg.sink_types, "stdout,file");
    CHECK_INT(cfg.file_fsync, 0);
    CHECK_INT(cfg.streaming, 0);
    CHECK_INT(cfg.snapshot_mode, PGCDC_SNAPSHOT_INITIAL);
    CHECK_INT(cfg.key_schemas, 0);
    CHECK(cfg.schema_exclude == NULL);
    pgcdc_config_free(&cfg);

    /* flow mapping, quoted keys, Debezium 1.x alias, empty sequence resets the list */
    CHECK_INT(load(&cfg, "database.server.name: legacy\n\"slot.name\": 'my_slot'\n"
                         "skipped.operations: []\n"),
              0);
    CHECK_STR(cfg.topic_prefix, "legacy");
    CHECK_STR(cfg.slot_name, "my_slot");
    CHECK_INT(cfg.skipped_ops, 0);
    pgcdc_config_free(&cfg);

    /* empty document: only topic.prefix is missing */
    load_fails("# nothing here\n");
    CHECK_STR(err, "config: topic.prefix is required (Debezium 1.x name: database.server.name)");
    load_fails("");
    CHECK_STR(err, "config: topic.prefix is required (Debezium 1.x name: database.server.name)");
}

static void test_yaml_errors(void)
{
    /* duplicates: literal, via nesting, via alias */
    load_fails("topic.prefix: a\ndatabase.port: 1\ntopic.prefix: b\n");
    CHECK_STR(err, "config: line 3: topic.prefix: given twice (first at line 1)");
    load_fails("topic.prefix: a\ndatabase.hostname: x\ndatabase:\n  hostname: y\n");
    CHECK_STR(err, "config: line 4: database.hostname: given twice (first at line 2)");
    load_fails("topic.prefix: a\ndatabase.server.name: b\n");
    CHECK_STR(err, "config: line 2: database.server.name: given twice (also as topic.prefix at "
                   "line 1)");
    /* sequences only for list keys */
    load_fails("topic.prefix: a\ndatabase.port:\n  - 1\n  - 2\n");
    CHECK_STR(err, "config: line 2: database.port: expected a single value, not a list");
    load_fails("topic.prefix: a\ntable.include.list:\n  - [x]\n");
    CHECK_STR(err, "config: line 3: table.include.list: list items must be plain values");
    /* a mapping where a value is expected */
    load_fails("topic.prefix: a\nslot.name:\n  x: y\n");
    CHECK_STR(err, "config: line 2: slot.name: expected a single value, not a mapping");
    /* bad values carry the line */
    load_fails("topic.prefix: a\n\ndecimal.handling.mode: exact\n");
    CHECK_STR(err, "config: line 3: decimal.handling.mode: invalid value 'exact' (expected "
                   "precise, double or string)");
    load_fails("topic.prefix: a\ndatabase:\n  port: 99999\n");
    CHECK_STR(err, "config: line 3: database.port: invalid value '99999' (expected an integer "
                   "from 1 to 65535)");
    load_fails("topic.prefix: a\ndatabase:\n  hostnam: x\n");
    CHECK_STR(err, "config: line 3: unknown configuration key 'database.hostnam' (did you mean "
                   "'database.hostname'?)");
    load_fails("topic.prefix: a\ntransforms: unwrap\ntransforms.unwrap.type: X\n");
    CHECK_HAS(err, "config: transforms.unwrap.type: X is not supported");
    load_fails("topic.prefix: a\ndatabase.history.kafka.topic: h\n");
    CHECK_HAS(err, "config: line 2: database.history.kafka.topic:");
    /* syntax errors with line and column */
    load_fails("topic.prefix: a\nsink.type: [file, stdout\nslot.name: x\n");
    CHECK_STR(err, "config: line 3, column 10: invalid YAML: did not find expected ',' or ']' "
                   "(while parsing a flow sequence started at line 2)");
    load_fails("topic.prefix: a\ndatabase: x\n");
    CHECK_HAS(err, "config: line 2: database: not a key by itself");
    load_fails("topic.prefix: a\nkey: \"unterminated\n");
    CHECK_HAS(err, "invalid YAML");
    CHECK_HAS(err, "line 2");
    load_fails("topic.prefix: \x01\n");
    CHECK_HAS(err, "config: line 1, column");
    /* aliases, non-mapping roots, several documents, complex keys */
    load_fails("topic.prefix: &p a\nslot.name: *p\n");
    CHECK_STR(err, "config: line 2: slot.name: YAML aliases are not supported");
    load_fails("- a\n- b\n");
    CHECK_HAS(err, "must be a mapping");
    load_fails("topic.prefix: a\n---\ntopic.prefix: b\n");
    CHECK_HAS(err, "only one YAML document");
    load_fails("? [a]\n: b\n");
    CHECK_HAS(err, "mapping keys must be plain strings");
    /* deep nesting is bounded */
    load_fails("a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: {o: {p: {q: {r: {s: "
               "1}}}}}}}}}}}}}}}}}}\n");
    CHECK_HAS(err, "nested more than");
    /* validation after a clean parse */
    load_fails("topic.prefix: a\nschema.include.list: public\nschema.exclude.list: other\n");
    CHECK_STR(err, "config: schema.include.list and schema.exclude.list cannot be used together "
                   "(set only one of them)");
    load_fails("topic.prefix: a\ncolumn.include.list: [a]\ncolumn.blacklist: b\n");
    CHECK_HAS(err, "column.include.list and column.exclude.list");
    load_fails("database.hostname: x\n");
    CHECK_STR(err, "config: topic.prefix is required (Debezium 1.x name: database.server.name)");
    load_fails("topic.prefix: a\ntable.exclude.list: '[a-'\n");
    CHECK_HAS(err, "line 2: table.exclude.list: invalid regular expression '[a-'");
}

static void test_secret_masking(void)
{
    pgcdc_config cfg;
    pgcdc_buf b = PGCDC_BUF_INIT;
    char shown[64];

    /* a misspelled password key: the value is never echoed */
    load_fails("topic.prefix: a\ndatabase.pasword: hunter2\n");
    CHECK_HAS(err, "did you mean 'database.password'?");
    CHECK(!contains(err, "hunter2"));
    load_fails("{\"topic.prefix\":\"a\",\"database.pasword\":\"hunter2\"}");
    CHECK(!contains(err, "hunter2"));
    /* a list given for the password */
    load_fails("topic.prefix: a\ndatabase.password: [hunter2, x]\n");
    CHECK_HAS(err, "database.password");
    CHECK(!contains(err, "hunter2"));
    /* the shared formatter masks by key type */
    pgcdc_cfg_show(pgcdc_config_find_key("database.password"), "hunter2", 7, shown, sizeof(shown));
    CHECK_STR(shown, "***");
    pgcdc_cfg_show(pgcdc_config_find_key("database.user"), "bob", 3, shown, sizeof(shown));
    CHECK_STR(shown, "bob");

    /* dump masks, describe_conn never shows it */
    CHECK_INT(load(&cfg, seed_json), 0);
    CHECK_INT(pgcdc_config_set(&cfg, "database.password", "hunter2", err, sizeof(err)), 0);
    pgcdc_config_dump(&cfg, &b);
    CHECK_HAS(b.data, "database.password=***\n");
    CHECK_HAS(b.data, "topic.prefix=dbserver2\n");
    CHECK_HAS(b.data, "skipped.operations=t\n");
    CHECK_HAS(b.data, "snapshot.mode=\n");
    CHECK(!contains(b.data, "hunter2"));
    pgcdc_buf_reset(&b);
    pgcdc_config_describe_conn(&cfg, &b);
    CHECK_STR(b.data, "postgres@postgres:5432/postgres");
    pgcdc_buf_free(&b);
    pgcdc_config_free(&cfg);
}

/* kafka.* / producer.override.* / producer.* reach librdkafka as they are. */
static void test_kafka_passthrough(void)
{
    pgcdc_config cfg;
    pgcdc_buf b = PGCDC_BUF_INIT;
    CHECK_INT(load(&cfg, "topic.prefix: a\nsink.type: kafka\nbootstrap.servers: k:9092\n"
                         "kafka:\n  security.protocol: SASL_PLAINTEXT\n  sasl.password: hunter2\n"
                         "producer.override.linger.ms: 20\n"),
              0);
    CHECK_STR(cfg.kafka_bootstrap, "k:9092");
    CHECK_INT(cfg.nkafka_props, 3);
    CHECK_STR(cfg.kafka_props[0], "security.protocol");
    CHECK_STR(cfg.kafka_props[1], "SASL_PLAINTEXT");
    CHECK_STR(cfg.kafka_props[4], "linger.ms");
    CHECK_STR(cfg.kafka_props[5], "20");
    pgcdc_config_dump(&cfg, &b);
    CHECK_HAS(b.data, "kafka.sasl.password=***\n");
    CHECK_HAS(b.data, "kafka.security.protocol=SASL_PLAINTEXT\n");
    CHECK(!contains(b.data, "hunter2"));
    pgcdc_buf_free(&b);
    pgcdc_config_free(&cfg);
    /* Kafka Connect's worker-style JSON, and the alias */
    CHECK_INT(load(&cfg, "{\"topic.prefix\":\"a\",\"kafka.bootstrap.servers\":\"x:1\","
                         "\"producer.compression.type\":\"zstd\"}"),
              0);
    CHECK_STR(cfg.kafka_bootstrap, "x:1");
    CHECK_STR(pgcdc_config_sink_types(&cfg), "kafka");
    CHECK_STR(cfg.kafka_props[0], "compression.type");
    pgcdc_config_free(&cfg);
    load_fails("topic.prefix: a\nkafka.acks: 1\nproducer.acks: all\n");
    CHECK_HAS(err, "acks is given twice");
}

/* consumer.* reaches only the consumer, producer.* only the producer,
 * kafka.* both; a property may be given once per client. */
static void test_kafka_passthrough_roles(void)
{
    pgcdc_config cfg;
    pgcdc_buf b = PGCDC_BUF_INIT;
    CHECK_INT(load(&cfg, "topic.prefix: a\nkafka.client.rack: r1\nproducer.linger.ms: 9\n"
                         "consumer.override.fetch.min.bytes: 10\nconsumer.linger.ms: 1\n"),
              0);
    CHECK_INT(cfg.nkafka_props, 4);
    CHECK_INT(cfg.kafka_prop_roles[0], PGCDC_KAFKA_PRODUCER | PGCDC_KAFKA_CONSUMER);
    CHECK_INT(cfg.kafka_prop_roles[1], PGCDC_KAFKA_PRODUCER);
    CHECK_INT(cfg.kafka_prop_roles[2], PGCDC_KAFKA_CONSUMER);
    CHECK_STR(cfg.kafka_props[4], "fetch.min.bytes");
    pgcdc_config_dump(&cfg, &b);
    CHECK_HAS(b.data, "kafka.client.rack=r1\n");
    CHECK_HAS(b.data, "producer.linger.ms=9\n");
    CHECK_HAS(b.data, "consumer.fetch.min.bytes=10\n");
    pgcdc_buf_free(&b);
    pgcdc_config_free(&cfg);
    load_fails("topic.prefix: a\nkafka.fetch.min.bytes: 1\nconsumer.fetch.min.bytes: 2\n");
    CHECK_HAS(err, "fetch.min.bytes is given twice");
}

/* source.type kafka: no PostgreSQL keys needed, its own ones required. */
static void test_kafka_source_config(void)
{
    pgcdc_config cfg;
    char group[64];
    CHECK_INT(load(&cfg, "source:\n  type: kafka\n  kafka:\n    topics: [a.b, '^c\\..*']\n"
                         "bootstrap.servers: k:9092\n"),
              0);
    CHECK_INT(cfg.source_type, PGCDC_SOURCE_KAFKA);
    CHECK_STR(cfg.ksrc_topics, "a.b,^c\\..*");
    CHECK_INT(cfg.ksrc_offset_latest, 0);
    /* bootstrap.servers names where records come from: the default sink stays file */
    CHECK_STR(pgcdc_config_sink_types(&cfg), "file");
    CHECK_INT(pgcdc_config_has_sink(&cfg, "file"), 1);
    CHECK_INT(pgcdc_config_has_sink(&cfg, "kafka"), 0);
    pgcdc_config_kafka_group(&cfg, group, sizeof(group));
    CHECK_STR(group, "pgcdc-pgcdc");
    pgcdc_config_free(&cfg);
    CHECK_INT(load(&cfg, "name: orders\nsource.type: kafka\nsource.kafka.topics: t\n"
                         "bootstrap.servers: k:1\nsource.kafka.auto.offset.reset: latest\n"
                         "sink.type: file,kafka\nsource.kafka.sink.topic.prefix: copy.\n"),
              0);
    pgcdc_config_kafka_group(&cfg, group, sizeof(group));
    CHECK_STR(group, "pgcdc-orders");
    CHECK_INT(cfg.ksrc_offset_latest, 1);
    CHECK_INT(pgcdc_config_has_sink(&cfg, "kafka"), 1);
    pgcdc_config_free(&cfg);
    CHECK_INT(load(&cfg, "source.type: kafka\nsource.kafka.topics: t\nbootstrap.servers: k:1\n"
                         "source.kafka.group.id: connect-x\n"),
              0);
    pgcdc_config_kafka_group(&cfg, group, sizeof(group));
    CHECK_STR(group, "connect-x");
    pgcdc_config_free(&cfg);

    load_fails("source.type: kafka\nbootstrap.servers: k:1\n");
    CHECK_HAS(err, "source.kafka.topics is required with source.type=kafka");
    load_fails("source.type: kafka\nsource.kafka.topics: t\n");
    CHECK_HAS(err, "bootstrap.servers is required with source.type=kafka");
    load_fails("source.type: kafka\nsource.kafka.topics: t\nbootstrap.servers: k:1\n"
               "sink.type: kafka\n");
    CHECK_HAS(err, "set source.kafka.sink.topic.prefix");
    load_fails("source.type: kafka\nsource.kafka.topics: 'has space'\nbootstrap.servers: k:1\n");
    CHECK_HAS(err, "source.kafka.topics: 'has space' is not a Kafka topic name");
    load_fails("source.type: kafka\nsource.kafka.topics: t\nbootstrap.servers: k:1\n"
               "source.kafka.group.id: ''\n");
    CHECK_HAS(err, "source.kafka.group.id");
    load_fails("source.type: mysql\n");
    CHECK_HAS(err, "source.type");
    /* the PostgreSQL source still needs its keys */
    load_fails("source.type: postgres\nsource.kafka.topics: t\n");
    CHECK_HAS(err, "topic.prefix is required");
}

static void test_files(void)
{
    pgcdc_config cfg;
    char ypath[64], jpath[64];
    snprintf(ypath, sizeof(ypath), "/tmp/pgcdc_test_config_%d.yaml", (int)getpid());
    snprintf(jpath, sizeof(jpath), "/tmp/pgcdc_test_config_%d.json", (int)getpid());

    write_file(ypath, "topic.prefix: fromyaml\ndatabase:\n  dbname: shop\n");
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_load(&cfg, ypath, err, sizeof(err)), 0);
    CHECK_STR(cfg.topic_prefix, "fromyaml");
    CHECK_STR(cfg.db_dbname, "shop");
    pgcdc_config_free(&cfg);

    write_file(jpath, seed_json);
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_load(&cfg, jpath, err, sizeof(err)), 0);
    CHECK_STR(cfg.topic_prefix, "dbserver2");
    pgcdc_config_free(&cfg);

    /* errors carry path:line */
    write_file(ypath, "topic.prefix: a\ndatabase.port: nope\n");
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_load(&cfg, ypath, err, sizeof(err)), -1);
    char want[256];
    snprintf(want, sizeof(want),
             "config: %s:2: database.port: invalid value 'nope' (expected an integer from 1 to "
             "65535)",
             ypath);
    CHECK_STR(err, want);
    pgcdc_config_free(&cfg);

    write_file(ypath, "database.port: 1\n");
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_load(&cfg, ypath, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "config: %s: topic.prefix is required (Debezium 1.x name: database.server.name)",
             ypath);
    CHECK_STR(err, want);
    pgcdc_config_free(&cfg);

    write_file(jpath, "{\n  \"topic.prefix\": \"x\",\n  oops\n}\n");
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_load(&cfg, jpath, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "config: %s:3:", jpath);
    CHECK_HAS(err, want);
    pgcdc_config_free(&cfg);

    unlink(ypath);
    unlink(jpath);
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_load(&cfg, "/nonexistent/pgcdc.yaml", err, sizeof(err)), -1);
    CHECK_HAS(err, "config: cannot open /nonexistent/pgcdc.yaml");
    pgcdc_config_free(&cfg);
}

static void test_validate(void)
{
    pgcdc_config cfg;
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_validate(&cfg, err, sizeof(err)), -1);
    CHECK_STR(err, "config: topic.prefix is required (Debezium 1.x name: database.server.name)");
    CHECK_INT(pgcdc_config_set(&cfg, "topic.prefix", "ok.prefix-1_x", err, sizeof(err)), 0);
    CHECK_INT(pgcdc_config_validate(&cfg, err, sizeof(err)), 0);
    /* fields filled directly are re-checked */
    cfg.table_exclude = strdup("(unclosed");
    CHECK_INT(pgcdc_config_validate(&cfg, err, sizeof(err)), -1);
    CHECK_HAS(err, "config: table.exclude.list: invalid regular expression '(unclosed'");
    free(cfg.table_exclude);
    cfg.table_exclude = NULL;
    cfg.db_port = 0;
    CHECK_INT(pgcdc_config_validate(&cfg, err, sizeof(err)), -1);
    CHECK_HAS(err, "config: database.port: invalid value '0'");
    cfg.db_port = 5432;
    cfg.tasks_max = 2;
    CHECK_INT(pgcdc_config_validate(&cfg, err, sizeof(err)), -1);
    CHECK_HAS(err, "tasks.max");
    cfg.tasks_max = 1;
    free(cfg.topic_prefix);
    cfg.topic_prefix = strdup("has space");
    CHECK_INT(pgcdc_config_validate(&cfg, err, sizeof(err)), -1);
    CHECK_HAS(err, "config: topic.prefix: invalid value 'has space'");
    pgcdc_config_free(&cfg);
}

static void test_conninfo(void)
{
    pgcdc_config cfg;
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_config_init(&cfg);

    pgcdc_config_conninfo(&cfg, 0, &b);
    CHECK_STR(b.data, "host='localhost' port='5432' user='postgres' dbname='postgres' "
                      "sslmode='prefer' application_name='pgcdc' "
                      "fallback_application_name='pgcdc' "
                      "options='-c datestyle=ISO -c intervalstyle=postgres "
                      "-c extra_float_digits=3 -c lc_monetary=C -c timezone=UTC'");

    CHECK_INT(pgcdc_config_set(&cfg, "database.password", "it's a \\ pass", err, sizeof(err)), 0);
    CHECK_INT(pgcdc_config_set(&cfg, "database.user", "o'neil", err, sizeof(err)), 0);
    CHECK_INT(pgcdc_config_set(&cfg, "database.dbname", "my db", err, sizeof(err)), 0);
    pgcdc_buf_reset(&b);
    pgcdc_config_conninfo(&cfg, 1, &b);
    CHECK_STR(b.data, "host='localhost' port='5432' user='o\\'neil' password='it\\'s a \\\\ pass' "
                      "dbname='my db' sslmode='prefer' application_name='pgcdc' "
                      "fallback_application_name='pgcdc' "
                      "options='-c datestyle=ISO -c intervalstyle=postgres "
                      "-c extra_float_digits=3 -c lc_monetary=C -c timezone=UTC' "
                      "replication='database'");

    pgcdc_buf_reset(&b);
    pgcdc_config_describe_conn(&cfg, &b);
    CHECK_STR(b.data, "o'neil@localhost:5432/my db");
    CHECK_INT(pgcdc_config_set(&cfg, "database.hostname", "::1", err, sizeof(err)), 0);
    pgcdc_buf_reset(&b);
    pgcdc_config_describe_conn(&cfg, &b);
    CHECK_STR(b.data, "o'neil@[::1]:5432/my db");
    pgcdc_buf_free(&b);
    pgcdc_config_free(&cfg);
}

static void test_list_next(void)
{
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = " a , b\\,c ,, d{1\\,2}";
    CHECK_INT(pgcdc_config_list_next(&pos, &item), 1);
    CHECK_STR(item.data, "a");
    CHECK_INT(pgcdc_config_list_next(&pos, &item), 1);
    CHECK_STR(item.data, "b,c");
    CHECK_INT(pgcdc_config_list_next(&pos, &item), 1);
    CHECK_STR(item.data, "d{1,2}");
    CHECK_INT(pgcdc_config_list_next(&pos, &item), 0);
    pos = "";
    CHECK_INT(pgcdc_config_list_next(&pos, &item), 0);
    pgcdc_buf_free(&item);
}

static void test_docs(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    pgcdc_config_write_docs(f);
    fclose(f);
    CHECK(strncmp(text, "# Configuration\n", 16) == 0);
    static const char *const groups[] = {"## Connection", "## Replication", "## Filters",
                                         "## Events",     "## Pipeline",    "## Sinks",
                                         "## Process"};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        CHECK_HAS(text, groups[i]);
    CHECK_HAS(text, "| key | type | default | description |");
    CHECK_HAS(text, "```yaml");
    CHECK_HAS(text, "```json");
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        char cell[160];
        snprintf(cell, sizeof(cell), "| `%s` |", pgcdc_cfg_keys[i].name);
        CHECK_HAS(text, cell);
    }
    CHECK_HAS(text, "| `database.port` | int | `5432` |");
    CHECK_HAS(text, "| `database.password` | secret |");
    CHECK_HAS(text, "**Secret**");
    CHECK_HAS(text, "One of: `precise`, `double`, `string`.");
    CHECK_HAS(text, "Alias: `database.server.name`");
    free(text);
}

int main(void)
{
    TEST_RUN(test_defaults);
    TEST_RUN(test_kafka_passthrough);
    TEST_RUN(test_kafka_passthrough_roles);
    TEST_RUN(test_kafka_source_config);
    TEST_RUN(test_table_sane);
    TEST_RUN(test_set_types);
    TEST_RUN(test_set_errors);
    TEST_RUN(test_unknown_keys);
    TEST_RUN(test_seed_json);
    TEST_RUN(test_json_forms);
    TEST_RUN(test_json_syntax_errors);
    TEST_RUN(test_yaml_basic);
    TEST_RUN(test_yaml_errors);
    TEST_RUN(test_secret_masking);
    TEST_RUN(test_files);
    TEST_RUN(test_validate);
    TEST_RUN(test_conninfo);
    TEST_RUN(test_list_next);
    TEST_RUN(test_docs);
    TEST_DONE();
}
