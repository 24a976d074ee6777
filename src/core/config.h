/*
 * config.h - pipeline configuration: one declarative table of every key.
 *
 * Each key has a name (Debezium's name where one exists), a type, a
 * default, a doc string, and the offset of its field in pgcdc_config. The
 * same table drives parsing of both input forms, validation (unknown key or
 * bad value -> error naming the key), `pgcdc config-docs` (which generates
 * docs/CONFIG.md) and masking of secrets in logs.
 *
 * Input forms, detected by content:
 *  - native YAML: a mapping whose keys, flattened with '.', are table names.
 *    `database: {hostname: db}` and `database.hostname: db` are the same key.
 *  - Debezium connector JSON exactly as posted to Kafka Connect:
 *    {"name": ..., "config": {"connector.class":
 *    "io.debezium.connector.postgresql.PostgresConnector", ...}}; a bare
 *    {"connector.class": ...} object (PUT /connectors/x/config form) too.
 *    Values may be strings or JSON scalars.
 */
#ifndef PGCDC_CORE_CONFIG_H
#define PGCDC_CORE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "common/buf.h"
#include "format/pgtypes.h"

typedef enum {
    PGCDC_SNAPSHOT_UNSET = 0, /* key absent: Debezium's default would be initial */
    PGCDC_SNAPSHOT_INITIAL,
    PGCDC_SNAPSHOT_NO_DATA, /* also "never" */
    PGCDC_SNAPSHOT_INITIAL_ONLY,
    PGCDC_SNAPSHOT_ALWAYS,
    PGCDC_SNAPSHOT_WHEN_NEEDED,
} pgcdc_snapshot_mode;

typedef enum {
    PGCDC_PUBLICATION_ALL_TABLES = 0,
    PGCDC_PUBLICATION_DISABLED,
    PGCDC_PUBLICATION_FILTERED,
    PGCDC_PUBLICATION_NO_TABLES,
} pgcdc_publication_mode;

/* skipped.operations bits */
enum {
    PGCDC_SKIP_CREATE = 1,
    PGCDC_SKIP_UPDATE = 2,
    PGCDC_SKIP_DELETE = 4,
    PGCDC_SKIP_TRUNCATE = 8,
};

#define PGCDC_MAX_SINKS 8

/* source.type */
typedef enum {
    PGCDC_SOURCE_POSTGRES = 0,
    PGCDC_SOURCE_KAFKA,
} pgcdc_source_kind;

/* Which librdkafka clients a passed-through property applies to (bits). */
enum {
    PGCDC_KAFKA_PRODUCER = 1,
    PGCDC_KAFKA_CONSUMER = 2,
};

typedef struct pgcdc_config {
    /* connector identity */
    char *name;            /* connector name ("name" in the JSON) */
    char *connector_class; /* must be Debezium's PostgresConnector if set */
    int tasks_max;         /* must be 1 */
    char *topic_prefix;    /* required; alias database.server.name */

    /* connection */
    char *db_hostname;
    int db_port;
    char *db_user;
    char *db_password; /* secret: never logged */
    char *db_dbname;
    char *db_sslmode;

    /* replication */
    char *slot_name;
    char *publication_name;
    pgcdc_publication_mode publication_mode;
    char *plugin_name;             /* only "pgoutput" */
    int proto_version;             /* 0 = from server version */
    int streaming;                 /* stream large in-progress transactions (proto >= 2) */
    long long spill_bytes;         /* streamed-transaction bytes kept in memory before spilling */
    int status_interval_ms;        /* standby status update interval */
    int heartbeat_interval_ms;     /* 0 = no heartbeat records */
    char *heartbeat_action_query;  /* run on each heartbeat; NULL = none */
    char *heartbeat_topics_prefix; /* heartbeat topic = <prefix>.<topic.prefix> */
    int slot_drop_on_stop;
    int slot_failover;             /* create the slot as a failover slot (PostgreSQL 17+) */
    long long slot_lag_warn_bytes; /* warn when the slot retains more WAL; 0 = never */

    /* filters: comma-separated regular expressions (POSIX ERE, full match) */
    char *schema_include;
    char *schema_exclude;
    char *table_include;
    char *table_exclude;
    char *column_include;
    char *column_exclude;
    char *message_key_columns; /* Debezium's table-regex:col,...;... key override */

    /* events */
    pgcdc_snapshot_mode snapshot_mode;
    int snapshot_max_threads; /* parallel copy workers */
    int tombstones_on_delete;
    int skipped_ops; /* PGCDC_SKIP_* bits */
    pgcdc_type_opts types;
    int key_schemas;   /* key.converter.schemas.enable */
    int value_schemas; /* value.converter.schemas.enable */
    /* value.converter.replace.null.with.default */
    int replace_null_with_default;
    char *key_converter;
    char *value_converter;
    int schema_changes;      /* DDL events through pgcdc's event trigger */
    int provide_txn;         /* provide.transaction.metadata */
    char *topic_transaction; /* suffix of the transaction topic */

    /* signals and incremental snapshots */
    char *signal_data_collection; /* schema.table; NULL = signals off */
    int incr_chunk_size;
    int incr_watermark_delete; /* incremental.snapshot.watermarking.strategy insert_delete */

    /* pipeline */
    long long queue_max_bytes; /* bound on encoded bytes waiting for sinks */
    int batch_max_events;

    /* sinks */
    char *sink_types; /* comma-separated: file, stdout */
    int file_fsync;   /* sink.file.fsync */
    /* lake sink */
    char *lake_root;                   /* lake.root: directory or s3://bucket/prefix */
    long long lake_flush_bytes;        /* lake.flush.bytes */
    long long lake_flush_interval_ms;  /* lake.flush.interval.ms */
    int lake_compression;              /* lake.parquet.compression: PGCDC_LAKE_CODEC_* */
    int lake_format;                   /* lake.format: PGCDC_LAKE_FORMAT_* */
    long long lake_silver_interval_ms; /* lake.silver.interval.ms; 0: not while running */
    int lake_silver_buckets;           /* lake.silver.buckets */
    long long lake_silver_memory;      /* lake.silver.memory.bytes */
    char *lake_s3_endpoint;            /* lake.s3.endpoint */
    char *lake_s3_region;              /* lake.s3.region */
    int lake_s3_path_style;            /* lake.s3.path.style: 0 auto, 1 true, 2 false */
    char *lake_s3_access_key;          /* lake.s3.access.key.id */
    char *lake_s3_secret_key;          /* lake.s3.secret.access.key */
    char *lake_s3_session_token;       /* lake.s3.session.token */

    /* kafka sink */
    char *kafka_bootstrap;
    char *kafka_security_protocol;
    char *kafka_sasl_mechanism;
    char *kafka_sasl_jaas; /* secret */
    int kafka_topic_create;
    int kafka_partitions;  /* -1: broker default */
    int kafka_replication; /* -1: broker default */
    char *kafka_headers;   /* record headers to add: op, lsn, txId */
    char **kafka_props;    /* librdkafka properties given through kafka.* / producer.* /
                              consumer.*: name, value pairs */
    int *kafka_prop_roles; /* per property: the PGCDC_KAFKA_* clients it applies to */
    int nkafka_props;

    /* elasticsearch sink */
    char *es_url;
    char *es_index; /* name template: ${topic}, ${schema}, ${table} */
    char *es_username;
    char *es_password; /* secret */
    char *es_api_key;  /* secret */
    char *es_ca_file;
    long long es_bulk_max_bytes;
    int es_bulk_max_actions;
    int es_max_in_flight;
    int es_backoff_ms;
    int es_backoff_max_ms;
    int es_request_timeout_ms;
    long long es_retry_timeout_ms; /* 0: retry for ever */
    char *es_dead_letter_file;     /* NULL: <data.dir>/elasticsearch.dead-letter.jsonl */
    int es_truncate_ignore;        /* elasticsearch.truncate: 0 clear, 1 ignore */
    char *es_mapping_file;
    int es_json_flattened; /* elasticsearch.json.type: 0 object, 1 flattened */

    /* source */
    pgcdc_source_kind source_type;
    char *ksrc_topics;       /* source.kafka.topics: names and ^regexes */
    char *ksrc_group;        /* source.kafka.group.id; NULL: pgcdc-<name> */
    int ksrc_offset_latest;  /* source.kafka.auto.offset.reset: 0 earliest, 1 latest */
    char *ksrc_topic_prefix; /* source.kafka.sink.topic.prefix; NULL: none */

    /* Kafka Connect transforms (topic routing) */
    char *transforms;       /* names, comma-separated */
    char **transform_props; /* "<name>.<prop>", value pairs from transforms.<name>.<prop> */
    int ntransform_props;

    /* process */
    char *data_dir;
    char *log_level;
} pgcdc_config;

enum { PGCDC_LAKE_CODEC_SNAPPY, PGCDC_LAKE_CODEC_ZSTD, PGCDC_LAKE_CODEC_NONE };
enum { PGCDC_LAKE_FORMAT_DELTA, PGCDC_LAKE_FORMAT_JSONL };

typedef enum {
    PGCDC_CFG_STRING,
    PGCDC_CFG_SECRET, /* string, masked when printed */
    PGCDC_CFG_INT,
    PGCDC_CFG_LONG,
    PGCDC_CFG_BOOL,
    PGCDC_CFG_ENUM, /* string in `choices` ("a|b|c"), stored as int index */
    PGCDC_CFG_SKIPOPS,
    PGCDC_CFG_LIST, /* comma-separated string (YAML/JSON sequences are joined) */
} pgcdc_cfg_type;

/* Extra per-key check run after the value parsed; writes the message body
 * (without the "config: " prefix) and returns -1 to reject. */
typedef int (*pgcdc_cfg_check_fn)(const char *key, const char *value, char *errstr,
                                  size_t errstr_size);

typedef struct pgcdc_cfg_key {
    const char *name;
    pgcdc_cfg_type type;
    const char *def;     /* default as text; NULL = unset */
    const char *choices; /* ENUM: "a|b|c"; index = stored value. aliases as "a=b" */
    size_t offset;       /* offsetof(pgcdc_config, field) */
    const char *doc;
    const char *alias;        /* accepted legacy name (e.g. database.server.name) */
    const char *group;        /* docs section: Connection, Replication, Filters, ... */
    long long min, max;       /* INT/LONG: accepted range (inclusive) */
    pgcdc_cfg_check_fn check; /* optional extra validation, NULL if none */
} pgcdc_cfg_key;

extern const pgcdc_cfg_key pgcdc_cfg_keys[];
extern const size_t pgcdc_cfg_nkeys;

/* Finds a key by name or alias; NULL if unknown. */
const pgcdc_cfg_key *pgcdc_config_find_key(const char *name);

/* Fills every field with its default. Call pgcdc_config_free() after. */
void pgcdc_config_init(pgcdc_config *cfg);
void pgcdc_config_free(pgcdc_config *cfg);

/* Sets one key from text. Returns 0, or -1 with errstr naming the key, the
 * bad value (secrets masked) and the accepted values. */
int pgcdc_config_set(pgcdc_config *cfg, const char *key, const char *value, char *errstr,
                     size_t errstr_size);

/* Loads a YAML or Debezium JSON file over the current values (call
 * pgcdc_config_init() first), then validates (required keys, cross-key
 * rules). Returns 0 or -1 with errstr; on error *cfg may be partly updated
 * and must still be freed. */
int pgcdc_config_load(pgcdc_config *cfg, const char *path, char *errstr, size_t errstr_size);

/* Same from a string already in memory (used by the REST API and tests). */
int pgcdc_config_load_string(pgcdc_config *cfg, const char *text, size_t len, char *errstr,
                             size_t errstr_size);

/* Cross-key validation; pgcdc_config_load calls it. */
int pgcdc_config_validate(pgcdc_config *cfg, char *errstr, size_t errstr_size);

/* Appends a libpq conninfo (keyword='value', ' and \ escaped); replication
 * adds replication=database. Contains the password: never log it, and
 * explicit_bzero the buffer when done. */
void pgcdc_config_conninfo(const pgcdc_config *cfg, int replication, pgcdc_buf *out);

/* Appends "user@host:port/db" for logs (never the password). */
void pgcdc_config_describe_conn(const pgcdc_config *cfg, pgcdc_buf *out);

/* The sinks in effect: sink.type, or by default kafka when bootstrap.servers
 * is set (and the source is PostgreSQL) and file otherwise. */
const char *pgcdc_config_sink_types(const pgcdc_config *cfg);

/* 1 when sink.type (as in effect) lists `name`. */
int pgcdc_config_has_sink(const pgcdc_config *cfg, const char *name);

/* The consumer group of the Kafka source: source.kafka.group.id, or
 * pgcdc-<name>. Writes into out (always NUL-terminated). */
void pgcdc_config_kafka_group(const pgcdc_config *cfg, char *out, size_t out_size);

/* Keys under kafka. (every client), producer.override. / producer. (the
 * Kafka sink's producer) and consumer.override. / consumer. (the Kafka
 * source's consumer) are librdkafka properties passed through as they are:
 * returns the property name, or NULL when key has none of these prefixes.
 * *roles (if not NULL) gets the PGCDC_KAFKA_* bits of the clients. */
const char *pgcdc_config_passthrough_name(const char *key, int *roles);
/* Records a passed-through property. Returns 0, or -1 with errstr (given
 * twice, out of memory). */
int pgcdc_config_passthrough_set(pgcdc_config *cfg, const char *key, const char *value,
                                 char *errstr, size_t errstr_size);
/* Records transforms.<name>.<prop> (key with its "transforms." prefix).
 * Returns 0, or -1 with errstr. */
int pgcdc_config_transform_set(pgcdc_config *cfg, const char *key, const char *value, char *errstr,
                               size_t errstr_size);

/* Whether a passed-through property holds a secret (masked in dumps). */
int pgcdc_config_passthrough_secret(const char *prop);

/* Writes docs/CONFIG.md (Markdown) from the table. */
void pgcdc_config_write_docs(FILE *out);

/* Appends every key as "key=value\n" in table order, secrets as "***". */
void pgcdc_config_dump(const pgcdc_config *cfg, pgcdc_buf *out);

/* Iterates a comma-separated list value (filters, sink.type): copies the
 * next item, trimmed, with "\," unescaped to ",", into *item (reset first)
 * and advances *pos. Empty items are skipped. Returns 1 if an item was
 * produced, 0 at the end of the list. */
int pgcdc_config_list_next(const char **pos, pgcdc_buf *item);

#endif
