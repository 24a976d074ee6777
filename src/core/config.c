/*
 * config.c - the declarative key table and everything driven by it:
 * defaults, parsing one value from text, validation, libpq conninfo,
 * secret-safe dumps and the generated docs/CONFIG.md.
 *
 * Input-file parsing (YAML and Debezium JSON) lives in config_load.c and
 * ends up here, one key at a time, through pgcdc_cfg_set_key(): defaults
 * from the table and values from users take the same code path.
 */
#include "core/config.h"
#include "core/filter.h"
#include "format/route.h"
#include "sink/sink.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"

#define PG_CONNECTOR_CLASS "io.debezium.connector.postgresql.PostgresConnector"
#define JSON_CONVERTER "org.apache.kafka.connect.json.JsonConverter"

/* ------------------------------------------------------------------------ */
/* small helpers                                                             */
/* ------------------------------------------------------------------------ */

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        fprintf(stderr, "pgcdc: out of memory copying a configuration value\n");
        abort();
    }
    return p;
}

static void errf(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    if (!errstr || errstr_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

/* Copies s without leading/trailing ASCII whitespace into out (size n). */
static void trim_copy(const char *s, char *out, size_t n)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = 0;
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

void pgcdc_cfg_show(const pgcdc_cfg_key *k, const char *v, size_t vlen, char *out, size_t outsz)
{
    const size_t maxshow = 80;
    size_t o = 0;

    if (outsz == 0)
        return;
    if (k && k->type == PGCDC_CFG_SECRET) {
        snprintf(out, outsz, "***");
        return;
    }
    for (size_t i = 0; i < vlen && i < maxshow && o + 1 < outsz; i++) {
        unsigned char c = (unsigned char)v[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[o] = 0;
    if (vlen > maxshow && o + 4 < outsz) {
        memcpy(out + o, "...", 4);
    }
}

/* ------------------------------------------------------------------------ */
/* per-key checks (run on the raw text before the type parse)                */
/* ------------------------------------------------------------------------ */

static int check_connector_class(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char shown[128];
    if (strcmp(value, PG_CONNECTOR_CLASS) == 0)
        return 0;
    pgcdc_cfg_show(NULL, value, strlen(value), shown, sizeof(shown));
    errf(errstr, n, "invalid value '%s' (pgcdc captures PostgreSQL only: expected %s)", shown,
         PG_CONNECTOR_CLASS);
    return -1;
}

static int check_tasks_max(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char t[32], shown[128];
    trim_copy(value, t, sizeof(t));
    if (strcmp(t, "1") == 0)
        return 0;
    pgcdc_cfg_show(NULL, value, strlen(value), shown, sizeof(shown));
    errf(errstr, n,
         "invalid value '%s' (expected 1: a logical replication slot is read by exactly one "
         "task)",
         shown);
    return -1;
}

static int check_plugin(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char t[64], shown[128];
    trim_copy(value, t, sizeof(t));
    if (strcasecmp(t, "pgoutput") == 0)
        return 0;
    pgcdc_cfg_show(NULL, value, strlen(value), shown, sizeof(shown));
    errf(errstr, n, "invalid value '%s' (pgcdc decodes pgoutput only; set plugin.name=pgoutput)",
         shown);
    return -1;
}

static int check_converter(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char shown[128];
    if (strcmp(value, JSON_CONVERTER) == 0)
        return 0;
    pgcdc_cfg_show(NULL, value, strlen(value), shown, sizeof(shown));
    errf(errstr, n, "invalid value '%s' (pgcdc writes Kafka Connect JSON only: expected %s)", shown,
         JSON_CONVERTER);
    return -1;
}

static int check_nonempty(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    if (!is_blank(value))
        return 0;
    errf(errstr, n, "must not be empty");
    return -1;
}

static int check_topic_prefix(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char shown[128];
    const char *p;
    if (value[0] == 0) {
        errf(errstr, n, "must not be empty");
        return -1;
    }
    for (p = value; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            break;
    }
    if (*p == 0 && p - value <= 200)
        return 0;
    pgcdc_cfg_show(NULL, value, strlen(value), shown, sizeof(shown));
    errf(errstr, n,
         "invalid value '%s' (expected at most 200 characters from A-Z a-z 0-9 . _ -, as Kafka "
         "topic names allow)",
         shown);
    return -1;
}

static int check_slot_name(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char shown[128];
    const char *p;
    for (p = value; *p; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            break;
    }
    if (*p == 0 && p != value && p - value <= 63)
        return 0;
    pgcdc_cfg_show(NULL, value, strlen(value), shown, sizeof(shown));
    errf(errstr, n,
         "invalid value '%s' (expected 1 to 63 characters from a-z 0-9 _, as PostgreSQL "
         "replication slot names require)",
         shown);
    return -1;
}

/* signal.data.collection: schema.table, both parts non-empty. */
static int check_collection_name(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char shown[128];
    const char *dot = strchr(value, '.');
    if (dot && dot != value && dot[1] && !strchr(dot + 1, '.') && !is_blank(value))
        return 0;
    pgcdc_cfg_show(NULL, value, strlen(value), shown, sizeof(shown));
    errf(errstr, n, "invalid value '%s' (expected schema.table, e.g. public.debezium_signal)",
         shown);
    return -1;
}

static int check_publication_name(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char shown[128];
    size_t len = strlen(value);
    if (len > 0 && len <= 63 && !is_blank(value))
        return 0;
    pgcdc_cfg_show(NULL, value, len, shown, sizeof(shown));
    errf(errstr, n, "invalid value '%s' (expected a PostgreSQL identifier of 1 to 63 bytes)",
         shown);
    return -1;
}

static int check_regex_list(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = value;
    int rc = 0;

    while (pgcdc_config_list_next(&pos, &item)) {
        /* Compiled as the filter will use it: anchored to a full match. */
        regex_t re;
        char msg[128], shown[128];
        if (pgcdc_regex_full_compile(&re, item.data, msg, sizeof(msg)) != 0) {
            pgcdc_cfg_show(NULL, item.data, item.len, shown, sizeof(shown));
            errf(errstr, n, "invalid regular expression '%s' (%s; POSIX extended syntax expected)",
                 shown, msg);
            rc = -1;
            goto cleanup;
        }
        regfree(&re);
    }
cleanup:
    pgcdc_buf_free(&item);
    return rc;
}

static int check_key_columns_entry(void *ctx, const char *table_re, const char *const *cols,
                                   int ncols, char *errstr, size_t errstr_size)
{
    (void)ctx;
    (void)cols;
    (void)ncols;
    regex_t re;
    char msg[128];
    if (pgcdc_regex_full_compile(&re, table_re, msg, sizeof(msg)) != 0) {
        errf(errstr, errstr_size, "invalid regular expression '%s' (%s)", table_re, msg);
        return -1;
    }
    regfree(&re);
    return 0;
}

static int check_key_columns(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    return pgcdc_key_columns_parse(value, check_key_columns_entry, NULL, errstr, n);
}

static int check_kafka_headers(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = value;
    int rc = 0;
    while (pgcdc_config_list_next(&pos, &item)) {
        if (strcmp(item.data, "op") && strcmp(item.data, "lsn") && strcmp(item.data, "txId")) {
            char shown[128];
            pgcdc_cfg_show(NULL, item.data, item.len, shown, sizeof(shown));
            errf(errstr, n, "unknown header '%s' (known: op, lsn, txId)", shown);
            rc = -1;
            break;
        }
    }
    pgcdc_buf_free(&item);
    return rc;
}

static int check_sinks(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    pgcdc_buf item = PGCDC_BUF_INIT;
    const pgcdc_sink_type *seen[PGCDC_MAX_SINKS];
    const char *pos = value;
    int count = 0, rc = 0;

    while (pgcdc_config_list_next(&pos, &item)) {
        const pgcdc_sink_type *type = pgcdc_sink_type_find(item.data);
        if (!type) {
            char shown[128];
            pgcdc_cfg_show(NULL, item.data, item.len, shown, sizeof(shown));
            errf(errstr, n, "unknown sink '%s' (known sinks: %s)", shown, pgcdc_sink_type_names());
            rc = -1;
            goto cleanup;
        }
        for (int i = 0; i < count; i++) {
            if (seen[i] == type) {
                errf(errstr, n, "sink '%s' listed twice", type->name);
                rc = -1;
                goto cleanup;
            }
        }
        if (count == PGCDC_MAX_SINKS) {
            errf(errstr, n, "at most %d sinks are supported", PGCDC_MAX_SINKS);
            rc = -1;
            goto cleanup;
        }
        seen[count++] = type;
    }
    if (count == 0) {
        errf(errstr, n, "at least one sink is required (known sinks: %s)", pgcdc_sink_type_names());
        rc = -1;
    }
cleanup:
    pgcdc_buf_free(&item);
    return rc;
}

/* Characters Kafka allows in topic names. */
static int topic_chars_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static int check_topic_chars(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    char shown[128];
    size_t len = strlen(value);
    if (len > 0 && len < 200 && topic_chars_ok(value, len))
        return 0;
    pgcdc_cfg_show(NULL, value, len, shown, sizeof(shown));
    errf(errstr, n,
         "invalid value '%s' (expected 1 to 199 characters from A-Z a-z 0-9 . _ -, as Kafka "
         "topic names allow)",
         shown);
    return -1;
}

/* source.kafka.topics: names Kafka accepts, or ^regular expressions (their
 * syntax is librdkafka's, checked when the consumer subscribes). */
static int check_kafka_topics(const char *key, const char *value, char *errstr, size_t n)
{
    (void)key;
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = value;
    int count = 0, rc = 0;

    while (pgcdc_config_list_next(&pos, &item)) {
        count++;
        if (item.data[0] == '^')
            continue;
        if (item.len > 249 || !topic_chars_ok(item.data, item.len) || !strcmp(item.data, ".") ||
            !strcmp(item.data, "..")) {
            char shown[128];
            pgcdc_cfg_show(NULL, item.data, item.len, shown, sizeof(shown));
            errf(errstr, n,
                 "'%s' is not a Kafka topic name (at most 249 characters from A-Z a-z 0-9 . _ "
                 "-); start an entry with ^ to make it a regular expression",
                 shown);
            rc = -1;
            goto cleanup;
        }
    }
    if (count == 0) {
        errf(errstr, n, "at least one topic is required");
        rc = -1;
    }
cleanup:
    pgcdc_buf_free(&item);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the table                                                                 */
/* ------------------------------------------------------------------------ */

#define OFF(f) offsetof(pgcdc_config, f)
#define G_CONN "Connection"
#define G_REPL "Replication"
#define G_FILT "Filters"
#define G_SIG "Signals and incremental snapshots"
#define G_EVT "Events"
#define G_PIPE "Pipeline"
#define G_KAFKA "Kafka sink"
#define G_KSRC "Kafka source"
#define G_ES "Elasticsearch sink"
#define G_SINK "Sinks"
#define G_LAKE "Lake sink"
#define G_PROC "Process"

#define REGEX_DOC_TAIL                                                                             \
    " Comma-separated POSIX extended regular expressions, each matched against the whole "         \
    "name; write `\\,` for a comma inside an expression."

const pgcdc_cfg_key pgcdc_cfg_keys[] = {
    /* Connection */
    {"database.hostname", PGCDC_CFG_STRING, "localhost", NULL, OFF(db_hostname),
     "PostgreSQL server host name, IP address, or Unix-socket directory.", NULL, G_CONN, 0, 0,
     check_nonempty},
    {"database.port", PGCDC_CFG_INT, "5432", NULL, OFF(db_port), "PostgreSQL server port.", NULL,
     G_CONN, 1, 65535, NULL},
    {"database.user", PGCDC_CFG_STRING, "postgres", NULL, OFF(db_user),
     "User to connect as; needs the REPLICATION attribute (or superuser) and SELECT on captured "
     "tables.",
     NULL, G_CONN, 0, 0, check_nonempty},
    {"database.password", PGCDC_CFG_SECRET, "", NULL, OFF(db_password),
     "Password. Empty means none is sent, so libpq falls back to `PGPASSWORD` or `~/.pgpass`.",
     NULL, G_CONN, 0, 0, NULL},
    {"database.dbname", PGCDC_CFG_STRING, "postgres", NULL, OFF(db_dbname),
     "Database to capture changes from.", NULL, G_CONN, 0, 0, check_nonempty},
    {"database.sslmode", PGCDC_CFG_STRING, "prefer",
     "disable|allow|prefer|require|verify-ca|verify-full", OFF(db_sslmode),
     "libpq `sslmode` for both the replication and the query connection.", NULL, G_CONN, 0, 0,
     NULL},

    /* Replication */
    {"slot.name", PGCDC_CFG_STRING, "debezium", NULL, OFF(slot_name),
     "Logical replication slot; created with pgoutput if missing. The slot's confirmed position "
     "is where a restart resumes.",
     NULL, G_REPL, 0, 0, check_slot_name},
    {"publication.name", PGCDC_CFG_STRING, "dbz_publication", NULL, OFF(publication_name),
     "Publication that pgoutput streams.", NULL, G_REPL, 0, 0, check_publication_name},
    {"publication.autocreate.mode", PGCDC_CFG_ENUM, "all_tables",
     "all_tables|disabled|filtered|no_tables", OFF(publication_mode),
     "How the publication is created when missing: `all_tables` (FOR ALL TABLES), `disabled` "
     "(must exist), `filtered` (the tables matching the filters), `no_tables` (empty; add tables "
     "yourself).",
     NULL, G_REPL, 0, 0, NULL},
    {"plugin.name", PGCDC_CFG_STRING, "pgoutput", "pgoutput", OFF(plugin_name),
     "Logical decoding plugin. Only `pgoutput` (built into PostgreSQL 10+) is supported; "
     "Debezium's default `decoderbufs` and `wal2json` are rejected.",
     NULL, G_REPL, 0, 0, check_plugin},
    {"pgoutput.protocol.version", PGCDC_CFG_INT, "0", NULL, OFF(proto_version),
     "pgcdc: pgoutput protocol version; 0 picks the highest the server supports (1 on 10-13, 2 "
     "on 14, 3 on 15, 4 on 16+).",
     NULL, G_REPL, 0, 4, NULL},
    {"pgcdc.streaming", PGCDC_CFG_BOOL, "true", NULL, OFF(streaming),
     "pgcdc: ask the server to stream large in-progress transactions (protocol 2+) instead of "
     "spilling them to disk on the server; ignored with protocol 1.",
     NULL, G_REPL, 0, 0, NULL},
    {"pgcdc.stream.spill.bytes", PGCDC_CFG_LONG, "67108864", NULL, OFF(spill_bytes),
     "pgcdc: bytes of one streamed transaction kept in memory before the rest spills to files "
     "under `data.dir`.",
     NULL, G_REPL, 1, LLONG_MAX, NULL},
    {"status.update.interval.ms", PGCDC_CFG_INT, "10000", NULL, OFF(status_interval_ms),
     "Interval between standby status updates (feedback) sent to the server.", NULL, G_REPL, 1,
     INT_MAX, NULL},
    {"heartbeat.interval.ms", PGCDC_CFG_INT, "0", NULL, OFF(heartbeat_interval_ms),
     "Emit a heartbeat record every this many milliseconds (0: never) to the topic "
     "`<heartbeat.topics.prefix>.<topic.prefix>`, as Debezium does. The slot advances past "
     "WAL without captured changes whether or not heartbeats are on.",
     NULL, G_REPL, 0, INT_MAX, NULL},
    {"heartbeat.action.query", PGCDC_CFG_STRING, NULL, NULL, OFF(heartbeat_action_query),
     "SQL run on the captured database at every heartbeat, e.g. an `INSERT` into a heartbeat "
     "table or `SELECT pg_logical_emit_message(false, 'heartbeat', now()::text)`, so a quiet "
     "database beside busy ones still produces WAL for the slot to confirm. A failure is "
     "logged, not fatal.",
     NULL, G_REPL, 0, 0, NULL},
    {"heartbeat.topics.prefix", PGCDC_CFG_STRING, "__debezium-heartbeat", NULL,
     OFF(heartbeat_topics_prefix), "Prefix of the heartbeat topic.", NULL, G_REPL, 0, 0, NULL},
    {"slot.drop.on.stop", PGCDC_CFG_BOOL, "false", NULL, OFF(slot_drop_on_stop),
     "Drop the replication slot when pgcdc stops cleanly (for tests and one-off runs: the next "
     "start begins from scratch).",
     NULL, G_REPL, 0, 0, NULL},
    {"slot.failover", PGCDC_CFG_BOOL, "false", NULL, OFF(slot_failover),
     "Make the replication slot a failover slot (PostgreSQL 17+, `FAILOVER` of "
     "`CREATE_REPLICATION_SLOT`), which PostgreSQL synchronizes to standbys "
     "(`sync_replication_slots`), so streaming can resume on a promoted standby. A slot that "
     "exists without it is switched with `ALTER_REPLICATION_SLOT`. Only a primary can have "
     "failover slots: on a standby, and on servers before 17, the slot stays an ordinary one "
     "and a warning says so at every start (Debezium ignores the key there silently).",
     NULL, G_REPL, 0, 0, NULL},
    {"pgcdc.slot.lag.warn.bytes", PGCDC_CFG_LONG, "1073741824", NULL, OFF(slot_lag_warn_bytes),
     "pgcdc: log a warning when the slot retains more WAL than this behind the server's current "
     "position (checked every 10 s; 0: never).",
     NULL, G_REPL, 0, LLONG_MAX, NULL},
    {"snapshot.max.threads", PGCDC_CFG_INT, "1", NULL, OFF(snapshot_max_threads),
     "Connections that copy tables in parallel during the snapshot, all on the same "
     "database snapshot. Large tables are split into ranges of pages, so one big table uses "
     "every worker. With more than one, rows arrive in no particular order and carry "
     "`snapshot: true` (the first/last markers need the single-threaded order).",
     NULL, G_REPL, 1, 64, NULL},
    {"snapshot.mode", PGCDC_CFG_ENUM, NULL,
     "-|initial|no_data|initial_only|always|when_needed|never=no_data", OFF(snapshot_mode),
     "When to copy rows that exist before streaming starts. `initial` (the default, as in "
     "Debezium): on the first start, copy every captured table as op `r` events, consistent "
     "with the slot (an interrupted copy is taken again on restart), then stream. "
     "`initial_only`: the same copy, then exit. `when_needed`: like `initial`, and when the "
     "slot was invalidated or vanished (changes lost), drop it, create a new one and copy the "
     "tables again instead of stopping. `always`: copy the captured tables on every start, then "
     "stream; when the slot already exists there is no exported snapshot to line up with, so "
     "the copy uses a fresh snapshot taken after the slot's position and the changes made "
     "between the last acknowledged position and that snapshot arrive again as events after the "
     "copy (a lost or vanished slot is replaced, as with `when_needed`). `no_data` (older name "
     "`never`): stream only.",
     NULL, G_REPL, 0, 0, NULL},

    /* Filters */
    {"schema.include.list", PGCDC_CFG_LIST, NULL, NULL, OFF(schema_include),
     "Schemas to capture; others are ignored." REGEX_DOC_TAIL, "schema.whitelist", G_FILT, 0, 0,
     check_regex_list},
    {"schema.exclude.list", PGCDC_CFG_LIST, NULL, NULL, OFF(schema_exclude),
     "Schemas not to capture." REGEX_DOC_TAIL, "schema.blacklist", G_FILT, 0, 0, check_regex_list},
    {"table.include.list", PGCDC_CFG_LIST, NULL, NULL, OFF(table_include),
     "Tables to capture, as `schema.table`." REGEX_DOC_TAIL, "table.whitelist", G_FILT, 0, 0,
     check_regex_list},
    {"table.exclude.list", PGCDC_CFG_LIST, NULL, NULL, OFF(table_exclude),
     "Tables not to capture, as `schema.table`." REGEX_DOC_TAIL, "table.blacklist", G_FILT, 0, 0,
     check_regex_list},
    {"column.include.list", PGCDC_CFG_LIST, NULL, NULL, OFF(column_include),
     "Columns to emit, as `schema.table.column`." REGEX_DOC_TAIL, "column.whitelist", G_FILT, 0, 0,
     check_regex_list},
    {"column.exclude.list", PGCDC_CFG_LIST, NULL, NULL, OFF(column_exclude),
     "Columns to drop from events, as `schema.table.column`." REGEX_DOC_TAIL, "column.blacklist",
     G_FILT, 0, 0, check_regex_list},

    {"message.key.columns", PGCDC_CFG_STRING, NULL, NULL, OFF(message_key_columns),
     "Event keys for chosen tables instead of the primary key: "
     "`<schema.table regex>:<column>[,<column>...]`, entries separated by `;`, e.g. "
     "`public.orders:customer_id,order_no;public.log.*:id`. Also gives tables without a "
     "primary key a key.",
     NULL, G_FILT, 0, 0, check_key_columns},

    /* Signals and incremental snapshots */
    {"signal.data.collection", PGCDC_CFG_STRING, NULL, NULL, OFF(signal_data_collection),
     "Debezium's signal table, as `schema.table`: columns `id` (text, primary key), `type` "
     "(text) and `data` (text, JSON), in that order. Rows inserted into it are signals: "
     "`execute-snapshot` (`{\"data-collections\": [\"public.t\"], \"type\": \"incremental\", "
     "\"additional-conditions\": [{\"data-collection\": \"public.t\", \"filter\": \"...\"}]}`), "
     "`stop-snapshot`, `pause-snapshot`, `resume-snapshot`. pgcdc also writes its snapshot "
     "window watermarks there, so the user needs INSERT on it; the table must be in the "
     "publication (`filtered` adds it). Unset: signals are off.",
     NULL, G_SIG, 0, 0, check_collection_name},
    {"incremental.snapshot.chunk.size", PGCDC_CFG_INT, "1024", NULL, OFF(incr_chunk_size),
     "Rows an incremental snapshot reads per chunk (primary-key order), held in memory while "
     "the chunk's window is open.",
     NULL, G_SIG, 1, 1000000, NULL},
    {"incremental.snapshot.watermarking.strategy", PGCDC_CFG_ENUM, "insert_insert",
     "insert_insert|insert_delete", OFF(incr_watermark_delete),
     "How chunk windows are marked in the signal table: `insert_insert` writes an open and a "
     "close row per chunk; `insert_delete` writes the open row and deletes it to close the "
     "window, so the signal table does not grow.",
     NULL, G_SIG, 0, 0, NULL},

    /* Events */
    {"topic.prefix", PGCDC_CFG_STRING, NULL, NULL, OFF(topic_prefix),
     "Required. Logical server name: topics are `<topic.prefix>.<schema>.<table>` and it "
     "appears in `source.name`.",
     "database.server.name", G_EVT, 0, 0, check_topic_prefix},
    {"tombstones.on.delete", PGCDC_CFG_BOOL, "true", NULL, OFF(tombstones_on_delete),
     "Emit a tombstone (null value) after each delete event.", NULL, G_EVT, 0, 0, NULL},
    {"skipped.operations", PGCDC_CFG_SKIPOPS, "t", NULL, OFF(skipped_ops),
     "Operations not to emit: comma-separated `c` (create), `u` (update), `d` (delete), `t` "
     "(truncate), or `none`.",
     NULL, G_EVT, 0, 0, NULL},
    {"decimal.handling.mode", PGCDC_CFG_ENUM, "precise", "precise|double|string",
     OFF(types.decimal_mode),
     "How NUMERIC/DECIMAL values are represented: `precise` (Kafka Connect Decimal / "
     "VariableScaleDecimal bytes), `double`, or `string`.",
     NULL, G_EVT, 0, 0, NULL},
    {"time.precision.mode", PGCDC_CFG_ENUM, "adaptive",
     "adaptive|adaptive_time_microseconds|connect", OFF(types.time_mode),
     "How temporal values are represented, as in Debezium.", NULL, G_EVT, 0, 0, NULL},
    {"binary.handling.mode", PGCDC_CFG_ENUM, "bytes", "bytes|base64|base64-url-safe|hex",
     OFF(types.binary_mode), "How BYTEA values are represented.", NULL, G_EVT, 0, 0, NULL},
    {"hstore.handling.mode", PGCDC_CFG_ENUM, "json", "json|map", OFF(types.hstore_mode),
     "How values of the hstore extension type are represented: `json` (a string holding a JSON "
     "object, io.debezium.data.Json) or `map` (a Kafka Connect map of strings).",
     NULL, G_EVT, 0, 0, NULL},
    {"interval.handling.mode", PGCDC_CFG_ENUM, "numeric", "numeric|string",
     OFF(types.interval_mode),
     "How INTERVAL values are represented: `numeric` (microseconds, io.debezium.time."
     "MicroDuration) or `string` (ISO-8601, io.debezium.time.Interval).",
     NULL, G_EVT, 0, 0, NULL},
    {"key.converter", PGCDC_CFG_STRING, JSON_CONVERTER, NULL, OFF(key_converter),
     "Kafka Connect key converter; only the JSON converter is supported.", NULL, G_EVT, 0, 0,
     check_converter},
    {"value.converter", PGCDC_CFG_STRING, JSON_CONVERTER, NULL, OFF(value_converter),
     "Kafka Connect value converter; only the JSON converter is supported.", NULL, G_EVT, 0, 0,
     check_converter},
    {"key.converter.schemas.enable", PGCDC_CFG_BOOL, "true", NULL, OFF(key_schemas),
     "Wrap keys as `{\"schema\":...,\"payload\":...}` like JsonConverter with schemas enabled.",
     NULL, G_EVT, 0, 0, NULL},
    {"value.converter.schemas.enable", PGCDC_CFG_BOOL, "true", NULL, OFF(value_schemas),
     "Wrap values as `{\"schema\":...,\"payload\":...}` like JsonConverter with schemas enabled.",
     NULL, G_EVT, 0, 0, NULL},
    {"value.converter.replace.null.with.default", PGCDC_CFG_BOOL, "true", NULL,
     OFF(replace_null_with_default),
     "Write a NULL of a column that has a `default` in its field schema (a constant column "
     "DEFAULT) as that default, like JsonConverter (KIP-581; with or without schemas). `false` "
     "keeps such NULLs null, and `source.snapshot` of streamed changes (schema default "
     "`\"false\"`) null as JsonConverter does; a NULL in a NOT NULL column (the old image of a "
     "delete under REPLICA IDENTITY DEFAULT) still becomes the default or the type's zero "
     "value, as in Debezium. See docs/COMPATIBILITY.md.",
     NULL, G_EVT, 0, 0, NULL},
    {"schema.changes", PGCDC_CFG_BOOL, "false", NULL, OFF(schema_changes),
     "Emit each DDL command that creates, alters or drops a captured table as a schema change "
     "event (Debezium's layout) on the topic `<topic.prefix>`, in commit order with the row "
     "changes. Needs PostgreSQL 14+ and pgcdc's DDL event trigger in the database: pgcdc "
     "installs it at startup, logging what it creates, only when this key is true and "
     "`database.user` is a superuser; otherwise a superuser runs the SQL printed by `pgcdc "
     "ddl-sql`. Off by default (unlike Debezium's `include.schema.changes`) because it installs "
     "something. See docs/SCHEMA_CHANGES.md.",
     "include.schema.changes", G_EVT, 0, 0, NULL},

    {"provide.transaction.metadata", PGCDC_CFG_BOOL, "false", NULL, OFF(provide_txn),
     "Write a BEGIN and an END record per transaction with captured changes to "
     "`<topic.prefix>.<topic.transaction>` (END counts the events per table) and give every "
     "event a `transaction` block (`id`, `total_order`, `data_collection_order`).",
     NULL, G_EVT, 0, 0, NULL},
    {"topic.transaction", PGCDC_CFG_STRING, "transaction", NULL, OFF(topic_transaction),
     "Name of the transaction topic after `<topic.prefix>.`.", NULL, G_EVT, 0, 0, NULL},

    /* Pipeline */
    {"max.queue.size.in.bytes", PGCDC_CFG_LONG, "67108864", NULL, OFF(queue_max_bytes),
     "Bound on encoded event bytes waiting for the sinks; reading from the slot pauses when it "
     "is reached. Debezium's default is 0 (unbounded); pgcdc always bounds the queue.",
     NULL, G_PIPE, 1, LLONG_MAX, NULL},
    {"max.batch.size", PGCDC_CFG_INT, "2048", NULL, OFF(batch_max_events),
     "Maximum number of events handed to the sinks in one batch.", NULL, G_PIPE, 1, INT_MAX, NULL},

    /* Sinks */
    {"sink.type", PGCDC_CFG_LIST, NULL, NULL, OFF(sink_types),
     "pgcdc: where events go, comma-separated: `file` (one JSON-lines file per topic under "
     "`data.dir`), `stdout`, `kafka` (see the Kafka sink keys), `elasticsearch` (see the "
     "Elasticsearch sink keys). Unset: `kafka` when "
     "`bootstrap.servers` is given (a connector JSON with Kafka Connect's worker settings) and "
     "the source is PostgreSQL, else `file`.",
     NULL, G_SINK, 0, 0, check_sinks},
    {"sink.file.fsync", PGCDC_CFG_BOOL, "true", NULL, OFF(file_fsync),
     "pgcdc: fsync sink files before the slot position is confirmed to the server, so no "
     "acknowledged change is lost on a crash.",
     NULL, G_SINK, 0, 0, NULL},

    /* Lake sink */
    {"lake.root", PGCDC_CFG_STRING, NULL, NULL, OFF(lake_root),
     "pgcdc: where `sink.type: lake` keeps its Delta Lake tables: a local directory, or "
     "`s3://bucket/prefix` on S3-compatible storage (see the `lake.s3.*` keys). Each captured "
     "table's change log is the table `<lake.root>/bronze/<topic>`. Required with the lake sink.",
     NULL, G_LAKE, 0, 0, NULL},
    {"lake.silver.interval.ms", PGCDC_CFG_LONG, "60000", NULL, OFF(lake_silver_interval_ms),
     "pgcdc: how often the silver tables (`<lake.root>/silver/<topic>`: the current row per "
     "primary key) are brought up to date from the bronze change logs, in a thread of their "
     "own. 0: never while running (`pgcdc lake compact` does it on demand).",
     NULL, G_LAKE, 0, LLONG_MAX, NULL},
    {"lake.silver.buckets", PGCDC_CFG_INT, "8", NULL, OFF(lake_silver_buckets),
     "pgcdc: hash buckets of a new silver table, one Parquet file each; a compaction rewrites "
     "only the buckets its changes touch.",
     NULL, G_LAKE, 1, 4096, NULL},
    {"lake.silver.memory.bytes", PGCDC_CFG_LONG, "268435456", NULL, OFF(lake_silver_memory),
     "pgcdc: changes of one bucket a compaction holds in memory at once; more are applied in "
     "several passes, so tables and change sets larger than memory compact.",
     NULL, G_LAKE, 1048576, LLONG_MAX, NULL},
    {"lake.s3.endpoint", PGCDC_CFG_STRING, NULL, NULL, OFF(lake_s3_endpoint),
     "pgcdc: the S3 endpoint URL for an `s3://` lake.root (`http://minio:9000`). Unset: "
     "`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, else AWS S3 in lake.s3.region.",
     NULL, G_LAKE, 0, 0, NULL},
    {"lake.s3.region", PGCDC_CFG_STRING, NULL, NULL, OFF(lake_s3_region),
     "pgcdc: the region requests are signed for. Unset: `AWS_REGION` or `AWS_DEFAULT_REGION`, "
     "else `us-east-1` (what MinIO expects by default).",
     NULL, G_LAKE, 0, 0, NULL},
    {"lake.s3.path.style", PGCDC_CFG_ENUM, "auto", "auto|true|false", OFF(lake_s3_path_style),
     "pgcdc: `true` puts the bucket in the path (`endpoint/bucket/key`, what MinIO and most "
     "S3-compatible servers want), `false` in the host name (AWS). `auto`: the host name for "
     "AWS's own endpoint, the path for an endpoint given explicitly.",
     NULL, G_LAKE, 0, 0, NULL},
    {"lake.s3.access.key.id", PGCDC_CFG_STRING, NULL, NULL, OFF(lake_s3_access_key),
     "pgcdc: the access key. Unset: `AWS_ACCESS_KEY_ID` (with `AWS_SECRET_ACCESS_KEY`).", NULL,
     G_LAKE, 0, 0, NULL},
    {"lake.s3.secret.access.key", PGCDC_CFG_SECRET, NULL, NULL, OFF(lake_s3_secret_key),
     "pgcdc: the secret key (never logged). Unset: `AWS_SECRET_ACCESS_KEY`.", NULL, G_LAKE, 0, 0,
     NULL},
    {"lake.s3.session.token", PGCDC_CFG_SECRET, NULL, NULL, OFF(lake_s3_session_token),
     "pgcdc: a session token for temporary credentials. Unset: `AWS_SESSION_TOKEN`.", NULL, G_LAKE,
     0, 0, NULL},
    {"lake.format", PGCDC_CFG_ENUM, "delta", "delta|jsonl", OFF(lake_format),
     "pgcdc: `delta`: Delta Lake tables of typed Parquet files (see docs/LAKE.md). `jsonl`: "
     "JSON Lines files of the events as they are (what the file sink writes), partitioned by "
     "commit date, for readers that want the Debezium JSON itself.",
     NULL, G_LAKE, 0, 0, NULL},
    {"lake.flush.bytes", PGCDC_CFG_LONG, "67108864", NULL, OFF(lake_flush_bytes),
     "pgcdc: a table's Parquet file is closed and committed once this many bytes of it are "
     "written (the changes in it are acknowledged to the slot then).",
     NULL, G_LAKE, 1024, LLONG_MAX, NULL},
    {"lake.flush.interval.ms", PGCDC_CFG_LONG, "30000", NULL, OFF(lake_flush_interval_ms),
     "pgcdc: at the latest this long after a change was received it is committed to its Delta "
     "table (smaller: fresher tables and less WAL kept on the server, but more small files).",
     NULL, G_LAKE, 10, LLONG_MAX, NULL},
    {"lake.parquet.compression", PGCDC_CFG_ENUM, "snappy", "snappy|zstd|none",
     OFF(lake_compression),
     "pgcdc: compression of the lake sink's Parquet files: `snappy` (what Spark writes by "
     "default), `zstd` (smaller files, a little more CPU) or `none`.",
     NULL, G_LAKE, 0, 0, NULL},

    {"transforms", PGCDC_CFG_LIST, NULL, NULL, OFF(transforms),
     "Kafka Connect transforms, by name; each is configured with `transforms.<name>.type`, "
     "`.regex` and `.replacement`. Supported: `org.apache.kafka.connect.transforms.RegexRouter` "
     "(topic routing: a topic the regex matches as a whole becomes the replacement, with `$1`... "
     "for its groups; schema names keep the original topic). Other types are refused.",
     NULL, G_EVT, 0, 0, NULL},

    /* Kafka sink */
    {"bootstrap.servers", PGCDC_CFG_STRING, NULL, NULL, OFF(kafka_bootstrap),
     "Kafka brokers (`host:port,...`) for `sink.type: kafka` and `source.type: kafka` (one "
     "cluster per process); the Kafka Connect worker setting of the same name. Any librdkafka "
     "property can be given as `kafka.<property>` (e.g. `kafka.security.protocol: SASL_SSL`, "
     "`kafka.sasl.username`, `kafka.ssl.ca.location`) for both the producer and the consumer; "
     "Kafka Connect's `producer.override.<property>` / `producer.<property>` reach only the "
     "producer, `consumer.override.<property>` / `consumer.<property>` only the consumer. pgcdc "
     "always produces idempotently with `acks=all`.",
     "kafka.bootstrap.servers", G_KAFKA, 0, 0, NULL},
    {"security.protocol", PGCDC_CFG_STRING, NULL, NULL, OFF(kafka_security_protocol),
     "Kafka Connect worker setting: `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.", NULL,
     G_KAFKA, 0, 0, NULL},
    {"sasl.mechanism", PGCDC_CFG_STRING, NULL, NULL, OFF(kafka_sasl_mechanism),
     "Kafka Connect worker setting: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, ...", NULL, G_KAFKA,
     0, 0, NULL},
    {"sasl.jaas.config", PGCDC_CFG_SECRET, NULL, NULL, OFF(kafka_sasl_jaas),
     "Kafka Connect worker setting, e.g. `org.apache.kafka.common.security.plain.PlainLoginModule "
     "required username=\"u\" password=\"p\";`: the username and password are used.",
     NULL, G_KAFKA, 0, 0, NULL},
    {"topic.creation.enable", PGCDC_CFG_BOOL, "true", NULL, OFF(kafka_topic_create),
     "Create missing topics (with the partitions and replication factor below); when false, a "
     "missing topic is an error and nothing is acknowledged.",
     NULL, G_KAFKA, 0, 0, NULL},
    {"topic.creation.default.partitions", PGCDC_CFG_INT, "-1", NULL, OFF(kafka_partitions),
     "Partitions of topics pgcdc creates; -1: the broker's `num.partitions`.", NULL, G_KAFKA, -1,
     100000, NULL},
    {"topic.creation.default.replication.factor", PGCDC_CFG_INT, "-1", NULL, OFF(kafka_replication),
     "Replication factor of topics pgcdc creates; -1: the broker's "
     "`default.replication.factor`.",
     NULL, G_KAFKA, -1, 1000, NULL},

    {"sink.kafka.headers", PGCDC_CFG_LIST, NULL, NULL, OFF(kafka_headers),
     "pgcdc: record headers to add, named as Debezium's `add.headers` names them: `op` "
     "(`__op`: c, u, d, r, t, m), `lsn` (`__lsn`), `txId` (`__txId`). Consumers can route or "
     "filter on them without parsing the value. Unset: no headers, as Debezium.",
     NULL, G_KAFKA, 0, 0, check_kafka_headers},

    /* Elasticsearch sink */
    {"elasticsearch.url", PGCDC_CFG_STRING, "http://localhost:9200", NULL, OFF(es_url),
     "Elasticsearch (7.x, 8.x) or OpenSearch REST endpoint for `sink.type: elasticsearch`, "
     "`http://` or `https://`. Credentials go in the keys below, not in the URL.",
     NULL, G_ES, 0, 0, check_nonempty},
    {"elasticsearch.index", PGCDC_CFG_STRING, "${topic}", NULL, OFF(es_index),
     "Index of each table's documents, a template over `${topic}`, `${schema}` and `${table}` "
     "(e.g. `${table}_index`, or a fixed name such as `user_data_index_new`); lower-cased. A "
     "missing index is created with a mapping derived from the table's columns (see "
     "docs/ELASTICSEARCH.md); an existing one is used as it is.",
     NULL, G_ES, 0, 0, check_nonempty},
    {"elasticsearch.username", PGCDC_CFG_STRING, NULL, NULL, OFF(es_username),
     "User for HTTP basic authentication.", NULL, G_ES, 0, 0, NULL},
    {"elasticsearch.password", PGCDC_CFG_SECRET, NULL, NULL, OFF(es_password),
     "Password of `elasticsearch.username`.", NULL, G_ES, 0, 0, NULL},
    {"elasticsearch.api.key", PGCDC_CFG_SECRET, NULL, NULL, OFF(es_api_key),
     "API key, sent as `Authorization: ApiKey ...`: the `encoded` value Elasticsearch returns, "
     "or `id:api_key`. Instead of a username and password.",
     NULL, G_ES, 0, 0, NULL},
    {"elasticsearch.ca.file", PGCDC_CFG_STRING, NULL, NULL, OFF(es_ca_file),
     "PEM file of the certificate authorities that sign the server's certificate, for "
     "`https://` URLs; unset: the system's trust store.",
     NULL, G_ES, 0, 0, NULL},
    {"elasticsearch.bulk.max.bytes", PGCDC_CFG_LONG, "5242880", NULL, OFF(es_bulk_max_bytes),
     "Largest `_bulk` request body in bytes (a bigger single document still goes alone).", NULL,
     G_ES, 1024, 1073741824LL, NULL},
    {"elasticsearch.bulk.max.actions", PGCDC_CFG_INT, "1000", NULL, OFF(es_bulk_max_actions),
     "Most documents (index or delete actions) in one `_bulk` request.", NULL, G_ES, 1, 100000,
     NULL},
    {"elasticsearch.max.in.flight", PGCDC_CFG_INT, "4", NULL, OFF(es_max_in_flight),
     "`_bulk` requests sent concurrently (versions keep the documents right whatever order "
     "they complete in).",
     NULL, G_ES, 1, 64, NULL},
    {"elasticsearch.retry.backoff.ms", PGCDC_CFG_INT, "200", NULL, OFF(es_backoff_ms),
     "First wait before a `_bulk` request (or the items of it) that failed with a connection "
     "error, HTTP 429 or 5xx is sent again; doubled on every further failure.",
     NULL, G_ES, 1, 3600000, NULL},
    {"elasticsearch.retry.backoff.max.ms", PGCDC_CFG_INT, "10000", NULL, OFF(es_backoff_max_ms),
     "Longest wait between retries.", NULL, G_ES, 1, 3600000, NULL},
    {"elasticsearch.retry.timeout.ms", PGCDC_CFG_LONG, "300000", NULL, OFF(es_retry_timeout_ms),
     "How long a request may keep failing before pgcdc stops with an error (nothing after the "
     "last acknowledged change is confirmed, so a restart resumes there); 0: retry for ever.",
     NULL, G_ES, 0, LLONG_MAX, NULL},
    {"elasticsearch.request.timeout.ms", PGCDC_CFG_INT, "60000", NULL, OFF(es_request_timeout_ms),
     "Time limit of one HTTP request; a request that takes longer is retried.", NULL, G_ES, 100,
     INT_MAX, NULL},
    {"elasticsearch.dead.letter.file", PGCDC_CFG_STRING, NULL, NULL, OFF(es_dead_letter_file),
     "JSON Lines file for documents Elasticsearch rejects (mapping conflicts, invalid values): "
     "one line per document with the index, id, version, HTTP status, the error and the "
     "document; the pipeline continues. Unset: `<data.dir>/elasticsearch.dead-letter.jsonl`.",
     NULL, G_ES, 0, 0, NULL},
    {"elasticsearch.truncate", PGCDC_CFG_ENUM, "clear", "clear|ignore", OFF(es_truncate_ignore),
     "What a truncate event does (when `skipped.operations` lets them through): `clear` empties "
     "the table's index (deleted and re-created with its mappings and settings), `ignore` "
     "leaves it.",
     NULL, G_ES, 0, 0, NULL},
    {"elasticsearch.mapping.file", PGCDC_CFG_STRING, NULL, NULL, OFF(es_mapping_file),
     "JSON file with the body (`settings`, `mappings`) of indices pgcdc creates, instead of the "
     "mapping derived from the columns. Index templates matching the name apply either way; "
     "fields a template maps are left out of the derived mapping.",
     NULL, G_ES, 0, 0, NULL},
    {"elasticsearch.json.type", PGCDC_CFG_ENUM, "object", "object|flattened",
     OFF(es_json_flattened),
     "Mapping of json/jsonb columns, which are indexed as JSON: `object` (fields mapped "
     "dynamically) or `flattened` (one field for the whole value; Elasticsearch's default "
     "distribution).",
     NULL, G_ES, 0, 0, NULL},

    /* Kafka source */
    {"source.type", PGCDC_CFG_ENUM, "postgres", "postgres|kafka", OFF(source_type),
     "pgcdc: where events come from. `postgres`: the logical replication slot of the "
     "`database.*` server. `kafka`: Debezium-format topics (written by pgcdc's Kafka sink or by "
     "Debezium) read in a consumer group from `bootstrap.servers`, records passed to the sinks "
     "as they are (topic, key, value); the `database.*`, slot, publication, filter and event "
     "keys are then unused. Several processes with the same `source.kafka.group.id` split the "
     "partitions between them, so a slow sink can be scaled out. Offsets are committed to the "
     "group only for records every sink has acknowledged (at least once: after a crash or a "
     "rebalance the unacknowledged tail is delivered again).",
     NULL, G_KSRC, 0, 0, NULL},
    {"source.kafka.topics", PGCDC_CFG_LIST, NULL, NULL, OFF(ksrc_topics),
     "Topics the Kafka source subscribes to, comma-separated; required with "
     "`source.type: kafka`. An entry starting with `^` is a regular expression (POSIX extended, "
     "searched in the name as librdkafka's subscriptions do, so anchor the end with `$` when it "
     "matters), followed as topics appear, e.g. `^inventory\\.public\\..*`; other entries "
     "are topic names, which must exist at start.",
     NULL, G_KSRC, 0, 0, check_kafka_topics},
    {"source.kafka.group.id", PGCDC_CFG_STRING, NULL, NULL, OFF(ksrc_group),
     "Consumer group of the Kafka source; unset: `pgcdc-<name>`. The committed offsets of the "
     "group are the source's position (there is no `offsets.json`). To take over from a Kafka "
     "Connect sink connector, use its group, `connect-<connector name>`.",
     NULL, G_KSRC, 0, 0, check_nonempty},
    {"source.kafka.auto.offset.reset", PGCDC_CFG_ENUM, "earliest", "earliest|latest",
     OFF(ksrc_offset_latest),
     "Where the Kafka source starts in a partition the group has no committed offset for: "
     "`earliest` (every record the topic still holds) or `latest` (only new records).",
     NULL, G_KSRC, 0, 0, NULL},
    {"source.kafka.sink.topic.prefix", PGCDC_CFG_STRING, NULL, NULL, OFF(ksrc_topic_prefix),
     "Prepended to the topic of every record the Kafka source reads before the sinks see it "
     "(file names, Kafka topics), e.g. `copy.` turns `inventory.public.orders` into "
     "`copy.inventory.public.orders`. Required when `sink.type` includes `kafka` with "
     "`source.type: kafka`, so that records never flow back into the topics they came from.",
     NULL, G_KSRC, 0, 0, check_topic_chars},

    /* Process */
    {"name", PGCDC_CFG_STRING, "pgcdc", NULL, OFF(name),
     "Connector name (the top-level `name` of a Kafka Connect request); used in logs and in the "
     "Kafka source's default consumer group.",
     NULL, G_PROC, 0, 0, NULL},
    {"connector.class", PGCDC_CFG_STRING, NULL, NULL, OFF(connector_class),
     "Optional; if present it must be `" PG_CONNECTOR_CLASS "`.", NULL, G_PROC, 0, 0,
     check_connector_class},
    {"tasks.max", PGCDC_CFG_INT, "1", NULL, OFF(tasks_max),
     "Must be 1: one replication slot is read by one task.", NULL, G_PROC, 1, 1, check_tasks_max},
    {"data.dir", PGCDC_CFG_STRING, "./pgcdc-data", NULL, OFF(data_dir),
     "pgcdc: directory for offsets, spill files and file-sink output.", NULL, G_PROC, 0, 0,
     check_nonempty},
    {"log.level", PGCDC_CFG_STRING, "info", "error|warn|info|debug", OFF(log_level),
     "pgcdc: log verbosity on stderr.", NULL, G_PROC, 0, 0, NULL},
};

const size_t pgcdc_cfg_nkeys = sizeof(pgcdc_cfg_keys) / sizeof(pgcdc_cfg_keys[0]);

static const char *const group_order[] = {G_CONN, G_REPL,  G_FILT, G_SIG,  G_EVT,  G_PIPE,
                                          G_SINK, G_KAFKA, G_ES,   G_LAKE, G_KSRC, G_PROC};

/* ------------------------------------------------------------------------ */
/* lookup and suggestions                                                    */
/* ------------------------------------------------------------------------ */

int pgcdc_cfg_key_index(const char *name)
{
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        if (strcmp(k->name, name) == 0 || (k->alias && strcmp(k->alias, name) == 0))
            return (int)i;
    }
    return -1;
}

const pgcdc_cfg_key *pgcdc_config_find_key(const char *name)
{
    int i = pgcdc_cfg_key_index(name);
    return i < 0 ? NULL : &pgcdc_cfg_keys[i];
}

int pgcdc_cfg_list_valued(const pgcdc_cfg_key *k)
{
    return k->type == PGCDC_CFG_LIST || k->type == PGCDC_CFG_SKIPOPS;
}

#define LEV_MAX 128

/* Levenshtein distance, or INT_MAX when either string is too long. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int prev[LEV_MAX + 1], cur[LEV_MAX + 1];

    if (la > LEV_MAX || lb > LEV_MAX)
        return INT_MAX;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

static const char *last_component(const char *s)
{
    const char *dot = strrchr(s, '.');
    return dot ? dot + 1 : s;
}

/*
 * Picks the known key the user most likely meant: the closest name or alias
 * within a small edit distance (2, or len/6 for long keys), else the only
 * key whose last component equals the unknown key's last component
 * ("hostname" or "db.hostname" -> database.hostname). NULL if none fits.
 */
static const char *suggest_key(const char *name)
{
    const char *best = NULL;
    int bestd = INT_MAX;
    size_t len = strlen(name);
    int limit = len / 6 > 2 ? (int)(len / 6) : 2;

    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        int d = edit_distance(name, k->name);
        if (k->alias) {
            int da = edit_distance(name, k->alias);
            if (da < d)
                d = da;
        }
        if (d < bestd) {
            bestd = d;
            best = k->name;
        }
    }
    if (best && bestd <= limit)
        return best;

    const char *tail = last_component(name), *match = NULL;
    if (*tail == 0)
        return NULL;
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        if (strcmp(last_component(pgcdc_cfg_keys[i].name), tail) == 0) {
            if (match)
                return NULL; /* ambiguous */
            match = pgcdc_cfg_keys[i].name;
        }
    }
    return match;
}

static int has_family(const char *name, const char *family)
{
    size_t n = strlen(family);
    return strncmp(name, family, n) == 0 && (name[n] == 0 || name[n] == '.');
}

void pgcdc_cfg_unknown_key(const char *name, char *errstr, size_t errstr_size)
{
    char shown[128];
    pgcdc_cfg_show(NULL, name, strlen(name), shown, sizeof(shown));

    if (has_family(name, "predicates")) {
        errf(errstr, errstr_size,
             "%s: transform predicates are not supported; pgcdc applies RegexRouter transforms "
             "to every topic (remove the predicates keys)",
             shown);
        return;
    }
    if (has_family(name, "database.history") || has_family(name, "schema.history.internal")) {
        errf(errstr, errstr_size,
             "%s: schema history settings belong to the MySQL/SQL Server connectors; the "
             "PostgreSQL connector keeps no schema history, remove this key",
             shown);
        return;
    }
    const char *s = suggest_key(name);
    if (s)
        errf(errstr, errstr_size, "unknown configuration key '%s' (did you mean '%s'?)", shown, s);
    else
        errf(errstr, errstr_size,
             "unknown configuration key '%s' (see docs/CONFIG.md for the accepted keys)", shown);
}

/* ------------------------------------------------------------------------ */
/* enum choices: "a|b|c|alias=b", "-" entries are unselectable placeholders  */
/* ------------------------------------------------------------------------ */

/* Index of value in choices (case-insensitive, aliases resolved), or -1. */
static int choice_index(const char *choices, const char *value)
{
    const char *p = choices;
    int idx = 0;
    size_t vlen = strlen(value);

    while (*p) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t namelen = eq ? (size_t)(eq - p) : len;
        int placeholder = (namelen == 1 && p[0] == '-');

        if (!placeholder && namelen == vlen && strncasecmp(p, value, vlen) == 0) {
            if (!eq)
                return idx;
            /* alias: resolve the target name */
            char target[64];
            size_t tl = len - namelen - 1;
            if (tl >= sizeof(target))
                return -1;
            memcpy(target, eq + 1, tl);
            target[tl] = 0;
            return choice_index(choices, target);
        }
        if (!eq)
            idx++;
        if (!end)
            break;
        p = end + 1;
    }
    return -1;
}

/* Canonical name of index idx into out; "" if none. */
static void choice_name(const char *choices, int idx, char *out, size_t n)
{
    const char *p = choices;
    int i = 0;

    out[0] = 0;
    while (*p) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!memchr(p, '=', len)) {
            if (i == idx) {
                if (len == 1 && p[0] == '-')
                    return;
                if (len >= n)
                    len = n - 1;
                memcpy(out, p, len);
                out[len] = 0;
                return;
            }
            i++;
        }
        if (!end)
            break;
        p = end + 1;
    }
}

/* Appends the selectable canonical choices: "a, b or c" (sep_last " or "),
 * or with a custom wrapper for docs ("`a`, `b`"). */
static void choice_list(const char *choices, pgcdc_buf *out, const char *quote,
                        const char *sep_last)
{
    const char *p = choices, *names[32];
    size_t lens[32];
    int n = 0;

    while (*p && n < 32) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!memchr(p, '=', len) && !(len == 1 && p[0] == '-')) {
            names[n] = p;
            lens[n++] = len;
        }
        if (!end)
            break;
        p = end + 1;
    }
    for (int i = 0; i < n; i++) {
        if (i > 0)
            pgcdc_buf_puts(out, i == n - 1 ? sep_last : ", ");
        pgcdc_buf_printf(out, "%s%.*s%s", quote, (int)lens[i], names[i], quote);
    }
}

/* ------------------------------------------------------------------------ */
/* typed value parsing                                                       */
/* ------------------------------------------------------------------------ */

/* Parses a boolean the way users write them: true/false, yes/no, on/off,
 * 1/0, case-insensitive, surrounding whitespace ignored. */
static int parse_bool(const char *value, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    char t[16];
    trim_copy(value, t, sizeof(t));
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(t, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(t, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int parse_ll(const char *value, long long *out)
{
    char t[64], *end;
    if (strlen(value) >= sizeof(t))
        return -1;
    trim_copy(value, t, sizeof(t));
    if (t[0] == 0)
        return -1;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void describe_range(const pgcdc_cfg_key *k, char *out, size_t n)
{
    long long top = k->type == PGCDC_CFG_INT ? INT_MAX : LLONG_MAX;
    if (k->max >= top) {
        if (k->min == 1)
            snprintf(out, n, "a positive integer");
        else if (k->min == 0)
            snprintf(out, n, "a non-negative integer");
        else
            snprintf(out, n, "an integer >= %lld", k->min);
    } else if (k->min == k->max) {
        snprintf(out, n, "%lld", k->min);
    } else {
        snprintf(out, n, "an integer from %lld to %lld", k->min, k->max);
    }
}

static int parse_skipops(const char *value, int *out)
{
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = value;
    int bits = 0, none = 0, count = 0, rc = 0;

    while (pgcdc_config_list_next(&pos, &item)) {
        count++;
        if (strcasecmp(item.data, "none") == 0)
            none = 1;
        else if (strcasecmp(item.data, "c") == 0)
            bits |= PGCDC_SKIP_CREATE;
        else if (strcasecmp(item.data, "u") == 0)
            bits |= PGCDC_SKIP_UPDATE;
        else if (strcasecmp(item.data, "d") == 0)
            bits |= PGCDC_SKIP_DELETE;
        else if (strcasecmp(item.data, "t") == 0)
            bits |= PGCDC_SKIP_TRUNCATE;
        else {
            rc = -1;
            goto cleanup;
        }
    }
    if (none && count > 1) {
        rc = -1;
        goto cleanup;
    }
    *out = bits;
cleanup:
    pgcdc_buf_free(&item);
    return rc;
}

static void skipops_text(int bits, char *out, size_t n)
{
    static const struct {
        int bit;
        const char *name;
    } ops[] = {{PGCDC_SKIP_CREATE, "c"},
               {PGCDC_SKIP_UPDATE, "u"},
               {PGCDC_SKIP_DELETE, "d"},
               {PGCDC_SKIP_TRUNCATE, "t"}};
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < 4; i++) {
        if (bits & ops[i].bit)
            o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", o ? "," : "", ops[i].name);
    }
    if (!bits)
        snprintf(out, n, "none");
}

static char **str_field(pgcdc_config *cfg, const pgcdc_cfg_key *k)
{
    return (char **)((char *)cfg + k->offset);
}

static int *int_field(pgcdc_config *cfg, const pgcdc_cfg_key *k)
{
    return (int *)((char *)cfg + k->offset);
}

static long long *ll_field(pgcdc_config *cfg, const pgcdc_cfg_key *k)
{
    return (long long *)((char *)cfg + k->offset);
}

static int is_string_type(pgcdc_cfg_type t)
{
    return t == PGCDC_CFG_STRING || t == PGCDC_CFG_SECRET || t == PGCDC_CFG_LIST;
}

static void clear_string(char **p, int secret)
{
    if (*p && secret)
        explicit_bzero(*p, strlen(*p));
    free(*p);
    *p = NULL;
}

/*
 * The one path from text to a field. `value` NULL resets the key to its
 * table default (or zero / NULL when it has none). Order: the key's check
 * sees the raw text first (so specific messages such as plugin.name's win),
 * then the type's parse. Nothing is modified when -1 is returned.
 */
int pgcdc_cfg_set_key(pgcdc_config *cfg, const pgcdc_cfg_key *k, const char *given,
                      const char *value, char *errstr, size_t errstr_size)
{
    char detail[384], shown[128], expect[256];
    pgcdc_buf tmp = PGCDC_BUF_INIT;
    int rc = 0;

    if (!given)
        given = k->name;
    if (!value) {
        if (is_string_type(k->type))
            clear_string(str_field(cfg, k), k->type == PGCDC_CFG_SECRET);
        else if (k->type == PGCDC_CFG_LONG)
            *ll_field(cfg, k) = 0;
        else
            *int_field(cfg, k) = 0;
        if (k->def)
            return pgcdc_cfg_set_key(cfg, k, given, k->def, errstr, errstr_size);
        return 0;
    }

    if (k->check && k->check(given, value, detail, sizeof(detail)) != 0) {
        errf(errstr, errstr_size, "%s: %s", given, detail);
        return -1;
    }

    pgcdc_cfg_show(k, value, strlen(value), shown, sizeof(shown));
    switch (k->type) {
    case PGCDC_CFG_STRING:
    case PGCDC_CFG_SECRET: {
        char **f = str_field(cfg, k);
        if (k->choices) {
            char t[64], canon[64];
            trim_copy(value, t, sizeof(t));
            int idx = strlen(value) < sizeof(t) ? choice_index(k->choices, t) : -1;
            if (idx < 0)
                goto bad_choice;
            choice_name(k->choices, idx, canon, sizeof(canon));
            clear_string(f, 0);
            *f = xstrdup(canon);
        } else {
            clear_string(f, k->type == PGCDC_CFG_SECRET);
            *f = xstrdup(value);
        }
        break;
    }
    case PGCDC_CFG_LIST: {
        char **f = str_field(cfg, k);
        clear_string(f, 0);
        if (!is_blank(value))
            *f = xstrdup(value);
        break;
    }
    case PGCDC_CFG_INT:
    case PGCDC_CFG_LONG: {
        long long v;
        if (parse_ll(value, &v) != 0 || v < k->min || v > k->max) {
            describe_range(k, expect, sizeof(expect));
            errf(errstr, errstr_size, "%s: invalid value '%s' (expected %s)", given, shown, expect);
            rc = -1;
            goto cleanup;
        }
        if (k->type == PGCDC_CFG_INT)
            *int_field(cfg, k) = (int)v;
        else
            *ll_field(cfg, k) = v;
        break;
    }
    case PGCDC_CFG_BOOL: {
        int b;
        if (parse_bool(value, &b) != 0) {
            errf(errstr, errstr_size,
                 "%s: invalid value '%s' (expected true or false; yes/no, on/off and 1/0 are "
                 "accepted too)",
                 given, shown);
            rc = -1;
            goto cleanup;
        }
        *int_field(cfg, k) = b;
        break;
    }
    case PGCDC_CFG_ENUM: {
        char t[64];
        trim_copy(value, t, sizeof(t));
        int idx = strlen(value) < sizeof(t) ? choice_index(k->choices, t) : -1;
        if (idx < 0)
            goto bad_choice;
        *int_field(cfg, k) = idx;
        break;
    }
    case PGCDC_CFG_SKIPOPS: {
        int bits;
        if (parse_skipops(value, &bits) != 0) {
            errf(errstr, errstr_size,
                 "%s: invalid value '%s' (expected a comma-separated list of c, u, d and t, or "
                 "none)",
                 given, shown);
            rc = -1;
            goto cleanup;
        }
        *int_field(cfg, k) = bits;
        break;
    }
    }
    goto cleanup;

bad_choice:
    choice_list(k->choices, &tmp, "", " or ");
    errf(errstr, errstr_size, "%s: invalid value '%s' (expected %s)", given, shown, tmp.data);
    rc = -1;
cleanup:
    pgcdc_buf_free(&tmp);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* public API                                                                */
/* ------------------------------------------------------------------------ */

void pgcdc_config_init(pgcdc_config *cfg)
{
    char err[512];
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        if (k->def && pgcdc_cfg_set_key(cfg, k, NULL, k->def, err, sizeof(err)) != 0) {
            fprintf(stderr, "pgcdc: bad built-in default: %s\n", err);
            abort();
        }
    }
}

void pgcdc_config_free(pgcdc_config *cfg)
{
    for (int i = 0; i < cfg->nkafka_props * 2; i++) {
        explicit_bzero(cfg->kafka_props[i], strlen(cfg->kafka_props[i]));
        free(cfg->kafka_props[i]);
    }
    free(cfg->kafka_props);
    for (int i = 0; i < cfg->ntransform_props * 2; i++)
        free(cfg->transform_props[i]);
    free(cfg->transform_props);
    free(cfg->kafka_prop_roles);
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        if (is_string_type(k->type))
            clear_string(str_field(cfg, k), k->type == PGCDC_CFG_SECRET);
    }
    memset(cfg, 0, sizeof(*cfg));
}

int pgcdc_config_set(pgcdc_config *cfg, const char *key, const char *value, char *errstr,
                     size_t errstr_size)
{
    char body[512];
    int i = pgcdc_cfg_key_index(key);
    if (i < 0 && (!strncmp(key, "transforms.", 11) || pgcdc_config_passthrough_name(key, NULL))) {
        int r = !strncmp(key, "transforms.", 11)
                    ? pgcdc_config_transform_set(cfg, key, value, body, sizeof(body))
                    : pgcdc_config_passthrough_set(cfg, key, value, body, sizeof(body));
        if (r != 0)
            errf(errstr, errstr_size, "config: %s", body);
        return r;
    }
    if (i < 0) {
        pgcdc_cfg_unknown_key(key, body, sizeof(body));
        errf(errstr, errstr_size, "config: %s", body);
        return -1;
    }
    if (pgcdc_cfg_set_key(cfg, &pgcdc_cfg_keys[i], key, value, body, sizeof(body)) != 0) {
        errf(errstr, errstr_size, "config: %s", body);
        return -1;
    }
    return 0;
}

int pgcdc_config_list_next(const char **pos, pgcdc_buf *item)
{
    const char *p = *pos;

    for (;;) {
        pgcdc_buf_reset(item);
        while (*p && isspace((unsigned char)*p))
            p++;
        if (*p == 0) {
            *pos = p;
            return 0;
        }
        while (*p && *p != ',') {
            if (p[0] == '\\' && p[1] == ',') {
                pgcdc_buf_putc(item, ',');
                p += 2;
                continue;
            }
            pgcdc_buf_putc(item, *p++);
        }
        if (*p == ',')
            p++;
        while (item->len > 0 && isspace((unsigned char)item->data[item->len - 1]))
            item->data[--item->len] = 0;
        if (item->len > 0) {
            *pos = p;
            return 1;
        }
    }
}

/* Current value of key k as text (secrets in clear; callers mask). */
static void value_text(const pgcdc_config *cfg, const pgcdc_cfg_key *k, pgcdc_buf *out)
{
    pgcdc_config *c = (pgcdc_config *)cfg;
    char tmp[64];

    switch (k->type) {
    case PGCDC_CFG_STRING:
    case PGCDC_CFG_SECRET:
    case PGCDC_CFG_LIST:
        if (*str_field(c, k))
            pgcdc_buf_puts(out, *str_field(c, k));
        break;
    case PGCDC_CFG_INT:
        pgcdc_buf_printf(out, "%d", *int_field(c, k));
        break;
    case PGCDC_CFG_LONG:
        pgcdc_buf_printf(out, "%lld", *ll_field(c, k));
        break;
    case PGCDC_CFG_BOOL:
        pgcdc_buf_puts(out, *int_field(c, k) ? "true" : "false");
        break;
    case PGCDC_CFG_ENUM:
        choice_name(k->choices, *int_field(c, k), tmp, sizeof(tmp));
        pgcdc_buf_puts(out, tmp);
        break;
    case PGCDC_CFG_SKIPOPS:
        skipops_text(*int_field(c, k), tmp, sizeof(tmp));
        pgcdc_buf_puts(out, tmp);
        break;
    }
}

/*
 * Cross-key rules, plus a re-run of every per-key check and range on the
 * current values (a caller may have filled fields directly): topic.prefix
 * present and well-formed, include/exclude lists of one kind not both set,
 * every filter regex compiles.
 */
int pgcdc_config_validate(pgcdc_config *cfg, char *errstr, size_t errstr_size)
{
    static const struct {
        size_t inc, exc;
        const char *kind;
    } pairs[] = {
        {OFF(schema_include), OFF(schema_exclude), "schema"},
        {OFF(table_include), OFF(table_exclude), "table"},
        {OFF(column_include), OFF(column_exclude), "column"},
    };
    pgcdc_buf text = PGCDC_BUF_INIT;
    char detail[384];
    int rc = 0;

    if (pgcdc_config_has_sink(cfg, "lake") && (!cfg->lake_root || is_blank(cfg->lake_root))) {
        errf(errstr, errstr_size,
             "config: sink.type lake needs lake.root (the directory that holds the Delta "
             "tables)");
        rc = -1;
        goto cleanup;
    }
    if (cfg->source_type == PGCDC_SOURCE_KAFKA) {
        /* the database.* and event keys do not matter: nothing is read from PostgreSQL */
        if (!cfg->ksrc_topics || is_blank(cfg->ksrc_topics)) {
            errf(errstr, errstr_size,
                 "config: source.kafka.topics is required with source.type=kafka (the topics to "
                 "read: names, or ^regular expressions)");
            rc = -1;
            goto cleanup;
        }
        if (!cfg->kafka_bootstrap || is_blank(cfg->kafka_bootstrap)) {
            errf(errstr, errstr_size,
                 "config: bootstrap.servers is required with source.type=kafka (the brokers to "
                 "read from, host:port,...)");
            rc = -1;
            goto cleanup;
        }
        if (pgcdc_config_has_sink(cfg, "kafka") &&
            (!cfg->ksrc_topic_prefix || !*cfg->ksrc_topic_prefix)) {
            errf(errstr, errstr_size,
                 "config: sink.type kafka with source.type=kafka writes to the cluster it reads "
                 "from: set source.kafka.sink.topic.prefix (e.g. 'copy.') so records do not flow "
                 "back into the topics they came from");
            rc = -1;
            goto cleanup;
        }
    } else if (!cfg->topic_prefix || cfg->topic_prefix[0] == 0) {
        errf(errstr, errstr_size,
             "config: topic.prefix is required (Debezium 1.x name: database.server.name)");
        rc = -1;
        goto cleanup;
    }
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char *inc = *(char **)((char *)cfg + pairs[i].inc);
        char *exc = *(char **)((char *)cfg + pairs[i].exc);
        if (inc && exc && !is_blank(inc) && !is_blank(exc)) {
            errf(errstr, errstr_size,
                 "config: %s.include.list and %s.exclude.list cannot be used together (set only "
                 "one of them)",
                 pairs[i].kind, pairs[i].kind);
            rc = -1;
            goto cleanup;
        }
    }
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        if (is_string_type(k->type) && !*str_field(cfg, k))
            continue; /* unset */
        if (k->type == PGCDC_CFG_INT || k->type == PGCDC_CFG_LONG) {
            long long v = k->type == PGCDC_CFG_INT ? *int_field(cfg, k) : *ll_field(cfg, k);
            if (v < k->min || v > k->max) {
                char expect[128];
                describe_range(k, expect, sizeof(expect));
                errf(errstr, errstr_size, "config: %s: invalid value '%lld' (expected %s)", k->name,
                     v, expect);
                rc = -1;
                goto cleanup;
            }
        }
        if (!k->check)
            continue;
        pgcdc_buf_reset(&text);
        value_text(cfg, k, &text);
        if (k->check(k->name, text.data ? text.data : "", detail, sizeof(detail)) != 0) {
            errf(errstr, errstr_size, "config: %s: %s", k->name, detail);
            rc = -1;
            goto cleanup;
        }
    }
    {
        /* transforms are checked here, so load and `pgcdc check` report them */
        char terr[512];
        pgcdc_router *router = pgcdc_router_new(cfg, terr, sizeof(terr));
        pgcdc_router_free(router);
        if (!router && terr[0]) {
            errf(errstr, errstr_size, "config: %s", terr);
            rc = -1;
            goto cleanup;
        }
    }
cleanup:
    pgcdc_buf_free(&text);
    return rc;
}

/* Appends " kw='value'" (no leading space when first), escaping ' and \ as
 * libpq's conninfo parser expects. */
static void conninfo_pair(pgcdc_buf *out, int *first, const char *kw, const char *v)
{
    if (!*first)
        pgcdc_buf_putc(out, ' ');
    *first = 0;
    pgcdc_buf_puts(out, kw);
    pgcdc_buf_puts(out, "='");
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            pgcdc_buf_putc(out, '\\');
        pgcdc_buf_putc(out, *v);
    }
    pgcdc_buf_putc(out, '\'');
}

/*
 * Appends the conninfo. Every value is quoted; an empty password is left
 * out so libpq can use PGPASSWORD or ~/.pgpass.
 */
void pgcdc_config_conninfo(const pgcdc_config *cfg, int replication, pgcdc_buf *out)
{
    char port[16];
    int first = 1;
    snprintf(port, sizeof(port), "%d", cfg->db_port);
    conninfo_pair(out, &first, "host", cfg->db_hostname ? cfg->db_hostname : "localhost");
    conninfo_pair(out, &first, "port", port);
    conninfo_pair(out, &first, "user", cfg->db_user ? cfg->db_user : "postgres");
    if (cfg->db_password && cfg->db_password[0])
        conninfo_pair(out, &first, "password", cfg->db_password);
    conninfo_pair(out, &first, "dbname", cfg->db_dbname ? cfg->db_dbname : "postgres");
    if (cfg->db_sslmode)
        conninfo_pair(out, &first, "sslmode", cfg->db_sslmode);
    conninfo_pair(out, &first, "application_name", "pgcdc");
    conninfo_pair(out, &first, "fallback_application_name", "pgcdc");
    /* The text forms of values are parsed by src/format/pgtypes*.c: pin the
     * settings that shape them, whatever the server or role defaults are. */
    conninfo_pair(out, &first, "options",
                  "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 "
                  "-c lc_monetary=C -c timezone=UTC");
    if (replication)
        conninfo_pair(out, &first, "replication", "database");
}

void pgcdc_config_describe_conn(const pgcdc_config *cfg, pgcdc_buf *out)
{
    const char *host = cfg->db_hostname ? cfg->db_hostname : "localhost";
    int v6 = strchr(host, ':') != NULL && host[0] != '/';
    pgcdc_buf_printf(out, "%s@%s%s%s:%d/%s", cfg->db_user ? cfg->db_user : "postgres",
                     v6 ? "[" : "", host, v6 ? "]" : "", cfg->db_port,
                     cfg->db_dbname ? cfg->db_dbname : "postgres");
}

void pgcdc_config_dump(const pgcdc_config *cfg, pgcdc_buf *out)
{
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        pgcdc_buf_puts(out, k->name);
        pgcdc_buf_putc(out, '=');
        if (k->type == PGCDC_CFG_SECRET)
            pgcdc_buf_puts(out, "***");
        else
            value_text(cfg, k, out);
        pgcdc_buf_putc(out, '\n');
    }
    for (int i = 0; i < cfg->nkafka_props; i++) {
        int roles = cfg->kafka_prop_roles[i];
        const char *prefix = roles == PGCDC_KAFKA_PRODUCER   ? "producer."
                             : roles == PGCDC_KAFKA_CONSUMER ? "consumer."
                                                             : "kafka.";
        pgcdc_buf_printf(out, "%s%s=%s\n", prefix, cfg->kafka_props[2 * i],
                         pgcdc_config_passthrough_secret(cfg->kafka_props[2 * i])
                             ? "***"
                             : cfg->kafka_props[2 * i + 1]);
    }
}

const char *pgcdc_config_sink_types(const pgcdc_config *cfg)
{
    if (cfg->sink_types && *cfg->sink_types)
        return cfg->sink_types;
    /* bootstrap.servers of a Kafka source names where records come from, not
     * where they go: writing them back there by default would loop */
    if (cfg->source_type == PGCDC_SOURCE_KAFKA)
        return "file";
    return cfg->kafka_bootstrap && *cfg->kafka_bootstrap ? "kafka" : "file";
}

int pgcdc_config_has_sink(const pgcdc_config *cfg, const char *name)
{
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = pgcdc_config_sink_types(cfg);
    int found = 0;
    while (!found && pgcdc_config_list_next(&pos, &item))
        found = !strcmp(item.data, name);
    pgcdc_buf_free(&item);
    return found;
}

void pgcdc_config_kafka_group(const pgcdc_config *cfg, char *out, size_t out_size)
{
    if (cfg->ksrc_group && *cfg->ksrc_group)
        snprintf(out, out_size, "%s", cfg->ksrc_group);
    else
        snprintf(out, out_size, "pgcdc-%s", cfg->name && *cfg->name ? cfg->name : "pgcdc");
}

int pgcdc_config_passthrough_secret(const char *prop)
{
    return strstr(prop, "password") || strstr(prop, "secret") || strstr(prop, "jaas") ||
           strstr(prop, ".key") || strstr(prop, "token");
}

/* The prefixes under which librdkafka properties pass through as they are,
 * and the clients they reach: Kafka Connect's worker (producer., consumer.)
 * and connector (producer.override., consumer.override.) names, and kafka.
 * for both. */
static const struct {
    const char *prefix;
    int roles;
} passthrough_prefixes[] = {
    {"kafka.", PGCDC_KAFKA_PRODUCER | PGCDC_KAFKA_CONSUMER},
    {"producer.override.", PGCDC_KAFKA_PRODUCER},
    {"producer.", PGCDC_KAFKA_PRODUCER},
    {"consumer.override.", PGCDC_KAFKA_CONSUMER},
    {"consumer.", PGCDC_KAFKA_CONSUMER},
};

const char *pgcdc_config_passthrough_name(const char *key, int *roles)
{
    for (size_t i = 0; i < sizeof(passthrough_prefixes) / sizeof(passthrough_prefixes[0]); i++) {
        size_t n = strlen(passthrough_prefixes[i].prefix);
        if (!strncmp(key, passthrough_prefixes[i].prefix, n) && key[n]) {
            if (roles)
                *roles = passthrough_prefixes[i].roles;
            return key + n;
        }
    }
    return NULL;
}

int pgcdc_config_transform_set(pgcdc_config *cfg, const char *key, const char *value, char *errstr,
                               size_t errstr_size)
{
    const char *prop = key + strlen("transforms.");
    if (!strchr(prop, '.')) {
        errf(errstr, errstr_size, "%s: expected transforms.<name>.<property>", key);
        return -1;
    }
    for (int i = 0; i < cfg->ntransform_props; i++)
        if (!strcmp(cfg->transform_props[2 * i], prop)) {
            errf(errstr, errstr_size, "%s: given twice", key);
            return -1;
        }
    char **n =
        realloc(cfg->transform_props, (size_t)(cfg->ntransform_props + 1) * 2 * sizeof(char *));
    if (!n) {
        errf(errstr, errstr_size, "out of memory");
        return -1;
    }
    cfg->transform_props = n;
    n[2 * cfg->ntransform_props] = strdup(prop);
    n[2 * cfg->ntransform_props + 1] = strdup(value ? value : "");
    if (!n[2 * cfg->ntransform_props] || !n[2 * cfg->ntransform_props + 1]) {
        free(n[2 * cfg->ntransform_props]);
        free(n[2 * cfg->ntransform_props + 1]);
        errf(errstr, errstr_size, "out of memory");
        return -1;
    }
    cfg->ntransform_props++;
    return 0;
}

int pgcdc_config_passthrough_set(pgcdc_config *cfg, const char *key, const char *value,
                                 char *errstr, size_t errstr_size)
{
    int roles = 0;
    const char *prop = pgcdc_config_passthrough_name(key, &roles);
    if (!prop)
        return -1;
    /* the same property for two different clients (producer.x, consumer.x) is fine */
    for (int i = 0; i < cfg->nkafka_props; i++)
        if (!strcmp(cfg->kafka_props[2 * i], prop) && (cfg->kafka_prop_roles[i] & roles)) {
            errf(errstr, errstr_size, "%s: the Kafka property %s is given twice", key, prop);
            return -1;
        }
    int *r = realloc(cfg->kafka_prop_roles, (size_t)(cfg->nkafka_props + 1) * sizeof(int));
    if (!r) {
        errf(errstr, errstr_size, "out of memory");
        return -1;
    }
    cfg->kafka_prop_roles = r;
    r[cfg->nkafka_props] = roles;
    char **n = realloc(cfg->kafka_props, (size_t)(cfg->nkafka_props + 1) * 2 * sizeof(char *));
    if (!n) {
        errf(errstr, errstr_size, "out of memory");
        return -1;
    }
    cfg->kafka_props = n;
    n[2 * cfg->nkafka_props] = strdup(prop);
    n[2 * cfg->nkafka_props + 1] = strdup(value ? value : "");
    if (!n[2 * cfg->nkafka_props] || !n[2 * cfg->nkafka_props + 1]) {
        free(n[2 * cfg->nkafka_props]);
        free(n[2 * cfg->nkafka_props + 1]);
        errf(errstr, errstr_size, "out of memory");
        return -1;
    }
    cfg->nkafka_props++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* docs                                                                      */
/* ------------------------------------------------------------------------ */

static const char *type_name(const pgcdc_cfg_key *k)
{
    switch (k->type) {
    case PGCDC_CFG_STRING:
        return k->choices ? "enum" : "string";
    case PGCDC_CFG_SECRET:
        return "secret";
    case PGCDC_CFG_INT:
        return "int";
    case PGCDC_CFG_LONG:
        return "long";
    case PGCDC_CFG_BOOL:
        return "bool";
    case PGCDC_CFG_ENUM:
        return "enum";
    case PGCDC_CFG_SKIPOPS:
    case PGCDC_CFG_LIST:
        return "list";
    }
    return "?";
}

/* Markdown table cells must not contain '|' or newlines. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static const char docs_intro[] =
    "# Configuration\n"
    "\n"
    "<!-- Generated by `pgcdc config-docs` from the key table in src/core/config.c; "
    "do not edit by hand. -->\n"
    "\n"
    "pgcdc reads one configuration file, in either of two forms (detected by content: a file "
    "whose first non-blank character is `{` is JSON, anything else is YAML).\n"
    "\n"
    "**Native YAML.** Keys are the names below. Nested mappings are flattened with `.`, so "
    "`database: {hostname: db}` and `database.hostname: db` are the same key. List-valued keys "
    "(the filter lists, `skipped.operations`, `sink.type`) also accept a YAML sequence.\n"
    "\n"
    "```yaml\n"
    "topic.prefix: inventory\n"
    "database:\n"
    "  hostname: db.internal\n"
    "  port: 5432\n"
    "  user: cdc\n"
    "  password: s3cret\n"
    "  dbname: shop\n"
    "table.include.list:\n"
    "  - public\\.orders\n"
    "  - public\\.customers\n"
    "sink.type: file\n"
    "data.dir: /var/lib/pgcdc\n"
    "```\n"
    "\n"
    "**Debezium connector JSON**, exactly as posted to Kafka Connect (`POST /connectors`), or "
    "the bare `config` object (`PUT /connectors/<name>/config`). Values may be JSON strings, "
    "numbers or booleans. Settings pgcdc does not support are rejected with an explanation "
    "rather than silently ignored.\n"
    "\n"
    "```json\n"
    "{\n"
    "  \"name\": \"inventory-connector\",\n"
    "  \"config\": {\n"
    "    \"connector.class\": \"io.debezium.connector.postgresql.PostgresConnector\",\n"
    "    \"database.hostname\": \"postgres\",\n"
    "    \"database.port\": \"5432\",\n"
    "    \"database.user\": \"postgres\",\n"
    "    \"database.password\": \"postgres\",\n"
    "    \"database.dbname\": \"postgres\",\n"
    "    \"topic.prefix\": \"dbserver1\",\n"
    "    \"table.include.list\": \"public.links\",\n"
    "    \"plugin.name\": \"pgoutput\"\n"
    "  }\n"
    "}\n"
    "```\n"
    "\n"
    "Rules common to both forms:\n"
    "\n"
    "- An unknown key is an error (with a suggestion when a known key is close); so is a key "
    "given twice, including a key and its alias.\n"
    "- Booleans accept `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0` (any case); enum values "
    "are case-insensitive.\n"
    "- `transforms`: Kafka Connect's RegexRouter (topic routing) is applied; other single "
    "message transforms and `predicates*` are rejected; `database.history*` and "
    "`schema.history.internal*` (MySQL-only) are rejected.\n"
    "- Secret values are never logged and appear as `***` in error messages.\n"
    "- Descriptions starting with *pgcdc:* are keys that Debezium does not have.\n";

void pgcdc_config_write_docs(FILE *out)
{
    pgcdc_buf tmp = PGCDC_BUF_INIT;

    fputs(docs_intro, out);
    for (size_t g = 0; g < sizeof(group_order) / sizeof(group_order[0]); g++) {
        fprintf(out, "\n## %s\n\n", group_order[g]);
        fputs("| key | type | default | description |\n", out);
        fputs("|---|---|---|---|\n", out);
        for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
            const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
            if (strcmp(k->group, group_order[g]) != 0)
                continue;
            fprintf(out, "| `%s` | %s | ", k->name, type_name(k));
            if (!k->def)
                fputs("(unset)", out);
            else if (k->def[0] == 0)
                fputs("`\"\"`", out);
            else {
                fputc('`', out);
                md_cell(out, k->def);
                fputc('`', out);
            }
            fputs(" | ", out);
            md_cell(out, k->doc);
            if (k->choices) {
                pgcdc_buf_reset(&tmp);
                choice_list(k->choices, &tmp, "`", ", ");
                fputs(" One of: ", out);
                md_cell(out, tmp.data);
                fputc('.', out);
            }
            if (k->type == PGCDC_CFG_INT || k->type == PGCDC_CFG_LONG) {
                char expect[128];
                describe_range(k, expect, sizeof(expect));
                fprintf(out, " Accepted: %s.", expect);
            }
            if (k->alias)
                fprintf(out, " Alias: `%s` (Debezium's older or other-connector name).", k->alias);
            if (k->type == PGCDC_CFG_SECRET)
                fputs(" **Secret**: never logged, masked as `***`.", out);
            fputs(" |\n", out);
        }
    }
    pgcdc_buf_free(&tmp);
}
