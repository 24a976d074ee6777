/*
 * cli_check.c - `pgcdc check` and `pgcdc slots`: read-only diagnosis of the
 * configuration and the server (slots --drop is the one write).
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "core/filter.h"
#include "core/offsets.h"
#include "source/pg/catalog.h"
#include "sink/elasticsearch/es_sink.h"
#include "source/kafka/kafka_source.h"
#include "source/pg/ddl.h"
#include "source/pg/pg_source.h"

static const char check_usage[] =
    "Usage: pgcdc check --config FILE\n"
    "\n"
    "Validates FILE, connects to PostgreSQL and reports: server version and the\n"
    "pgoutput protocol pgcdc would use, wal_level, the user's privileges, free\n"
    "replication slots and WAL senders, the publication and slot, the DDL event\n"
    "trigger (schema.changes), the tables that would be captured and those\n"
    "without a primary key or replica identity. With source.type: kafka it\n"
    "connects to bootstrap.servers instead and reports the consumer group and\n"
    "the topics (partitions, or what a ^regex matches now).\n"
    "Exits 0 when pgcdc can run, 1 otherwise.\n";

static const char slots_usage[] =
    "Usage: pgcdc slots --config FILE [--drop NAME]\n"
    "\n"
    "Lists the logical replication slots of the configured database with their\n"
    "plugin, activity, confirmed flush LSN, lag in bytes behind the current WAL\n"
    "position and WAL status. --drop NAME drops an inactive slot (its retained WAL\n"
    "is released; a pipeline reading it loses its position).\n";

static int query_print(PGconn *conn, const char *sql, PGresult **out)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "pgcdc: %s", PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    *out = res;
    return 0;
}

/* The schema.changes line(s); returns the number of problems found. */
static int check_schema_changes(const pgcdc_config *cfg, pgcdc_catalog *cat)
{
    pgcdc_ddl_status st;
    char err[512];
    int installed;

    if (cfg->schema_changes && cat->server_version < PGCDC_DDL_MIN_SERVER) {
        printf("schema changes: PROBLEM: schema.changes=true needs PostgreSQL 14 or newer "
               "(pgoutput passes logical decoding messages on from 14)\n");
        return 1;
    }
    if (pgcdc_ddl_status_read(cat->conn, &st, err, sizeof(err)) != 0) {
        printf("schema changes: %s: %s\n", cfg->schema_changes ? "PROBLEM" : "cannot check", err);
        return cfg->schema_changes ? 1 : 0;
    }
    installed = st.function_exists || st.on_command_end || st.on_sql_drop;
    if (!cfg->schema_changes) {
        if (installed)
            printf("schema changes: off, but pgcdc's DDL event trigger is installed in %s: its "
                   "messages arrive as op m events on %s.message (set schema.changes=true for "
                   "schema change events; pgcdc ddl-sql --drop prints the SQL that removes it)\n",
                   cat->dbname, cfg->topic_prefix);
        else
            printf("schema changes: off (schema.changes=false)\n");
        return 0;
    }
    if (pgcdc_ddl_status_ready(&st)) {
        printf("schema changes: ok (event triggers " PGCDC_DDL_TRIGGER
               " and " PGCDC_DDL_DROP_TRIGGER " installed in %s)\n",
               cat->dbname);
        return 0;
    }
    if (st.disabled[0]) {
        printf("schema changes: PROBLEM: event trigger %s is disabled: ALTER EVENT TRIGGER ... "
               "ENABLE (as a superuser)\n",
               st.disabled);
        return 1;
    }
    if (st.superuser) {
        printf("schema changes: the DDL event trigger is %s in %s; pgcdc run will install it "
               "(see pgcdc ddl-sql for the SQL)\n",
               installed ? "incomplete or outdated" : "not installed", cat->dbname);
        return 0;
    }
    printf("schema changes: PROBLEM: the DDL event trigger is %s in %s and user %s may not "
           "install it (event triggers need superuser): have a superuser run pgcdc ddl-sql | "
           "psql -d %s, or set schema.changes=false\n",
           installed ? "incomplete or outdated" : "not installed", cat->dbname, cfg->db_user,
           cat->dbname);
    return 1;
}

/* The sinks that talk to a server: reachable, credentials accepted.
 * Returns the number of problems (printed). */
static int check_sink_servers(const pgcdc_config *cfg)
{
    if (!pgcdc_config_has_sink(cfg, "elasticsearch"))
        return 0;
    char info[256], err[1024];
    if (pgcdc_es_connect_check(cfg, info, sizeof(info), err, sizeof(err)) != 0) {
        printf("elasticsearch: FAILED: %s\n", err);
        return 1;
    }
    printf("elasticsearch: ok (%s)\n", info);
    return 0;
}

/* `pgcdc check` of a Kafka source: the brokers and the topics. */
static int check_kafka_source(const pgcdc_config *cfg)
{
    char err[1024];
    pgcdc_buf report = PGCDC_BUF_INIT;
    printf("config: ok (source.type kafka, topics %s)\n", cfg->ksrc_topics);
    int problems = pgcdc_kafka_source_check(cfg, &report, err, sizeof(err));
    if (report.len)
        fputs(report.data, stdout);
    if (problems < 0)
        printf("connection: FAILED: %s\n", err);
    pgcdc_buf_free(&report);
    if (problems < 0)
        problems = 1;
    problems += check_sink_servers(cfg);
    printf(problems ? "result: %d problem(s)\n" : "result: ok\n", problems);
    return problems == 0 ? 0 : 1;
}

int pgcdc_cli_check(int argc, char **argv)
{
    pgcdc_config cfg;
    int rc = pgcdc_cli_parse(argc, argv, check_usage, &cfg, NULL, NULL, NULL, NULL);
    if (rc)
        return rc == 3 ? 0 : rc;
    if (cfg.source_type == PGCDC_SOURCE_KAFKA) {
        rc = check_kafka_source(&cfg);
        pgcdc_config_free(&cfg);
        return rc;
    }
    char err[1024];
    int problems = 0;
    pgcdc_catalog cat;
    memset(&cat, 0, sizeof(cat));
    pgcdc_filter *filter = NULL;
    PGresult *res = NULL;
    pgcdc_buf who = PGCDC_BUF_INIT, tables = PGCDC_BUF_INIT, warnings = PGCDC_BUF_INIT;

    printf("config: ok (topic.prefix %s, slot %s, publication %s)\n", cfg.topic_prefix,
           cfg.slot_name, cfg.publication_name);
    filter = pgcdc_filter_new(&cfg, err, sizeof(err));
    if (!filter) {
        printf("config: %s\n", err);
        rc = 1;
        goto out;
    }
    pgcdc_config_describe_conn(&cfg, &who);
    if (pgcdc_catalog_connect(&cat, &cfg, err, sizeof(err)) != 0) {
        printf("connection: FAILED: %s\n", err);
        rc = 1;
        goto out;
    }
    printf("connection: ok (%s)\n", who.data);
    printf("server: PostgreSQL %d.%d; pgoutput protocol %d\n", cat.server_version / 10000,
           cat.server_version % 10000, pgcdc_pg_proto_for_server(&cfg, cat.server_version));
    if (pgcdc_catalog_check_wal_level(&cat, err, sizeof(err)) != 0) {
        printf("wal_level: PROBLEM: %s\n", err);
        problems++;
    } else {
        printf("wal_level: logical\n");
    }

    if (query_print(cat.conn,
                    "SELECT r.rolsuper, r.rolreplication, "
                    "has_database_privilege(current_database(), 'CREATE'), "
                    "current_setting('max_replication_slots')::int, "
                    "(SELECT count(*) FROM pg_replication_slots), "
                    "current_setting('max_wal_senders')::int, "
                    "(SELECT count(*) FROM pg_stat_replication) "
                    "FROM pg_roles r WHERE r.rolname = current_user",
                    &res) != 0) {
        rc = 1;
        goto out;
    }
    int super = PQgetvalue(res, 0, 0)[0] == 't', repl = PQgetvalue(res, 0, 1)[0] == 't';
    int create = PQgetvalue(res, 0, 2)[0] == 't';
    int max_slots = atoi(PQgetvalue(res, 0, 3)), used_slots = atoi(PQgetvalue(res, 0, 4));
    int max_senders = atoi(PQgetvalue(res, 0, 5)), used_senders = atoi(PQgetvalue(res, 0, 6));
    PQclear(res);
    res = NULL;
    if (super || repl) {
        printf("privileges: ok (%s)\n", super ? "superuser" : "REPLICATION");
    } else {
        printf("privileges: PROBLEM: user %s lacks the REPLICATION attribute: ALTER ROLE %s "
               "REPLICATION\n",
               cfg.db_user, cfg.db_user);
        problems++;
    }
    if (!super && !create && cfg.publication_mode != PGCDC_PUBLICATION_DISABLED)
        printf("privileges: note: creating publication %s needs CREATE on the database (or "
               "create it yourself and set publication.autocreate.mode=disabled)\n",
               cfg.publication_name);
    printf("replication slots: %d of %d used; WAL senders: %d of %d used\n", used_slots, max_slots,
           used_senders, max_senders);
    problems += check_schema_changes(&cfg, &cat);

    pgcdc_slot_info si;
    if (pgcdc_catalog_slot_info(&cat, cfg.slot_name, &si, err, sizeof(err)) == 0) {
        if (!si.exists) {
            printf("slot %s: does not exist yet (created on first run)\n", cfg.slot_name);
            if (used_slots >= max_slots) {
                printf("slot %s: PROBLEM: no free replication slot (max_replication_slots = "
                       "%d)\n",
                       cfg.slot_name, max_slots);
                problems++;
            }
        } else {
            char l[32];
            pgcdc_lsn_format(si.confirmed_flush_lsn, l, sizeof(l));
            printf("slot %s: plugin %s, %s, confirmed flush %s%s%s%s\n", cfg.slot_name, si.plugin,
                   si.active ? "active" : "inactive", l, si.wal_status[0] ? ", wal_status " : "",
                   si.wal_status,
                   si.failover < 0 ? ""
                   : si.failover   ? ", failover"
                                   : ", no failover");
            if (strcmp(si.plugin, "pgoutput") != 0) {
                printf("slot %s: PROBLEM: plugin is %s, pgcdc needs pgoutput\n", cfg.slot_name,
                       si.plugin);
                problems++;
            }
            if (!strcmp(si.wal_status, "lost")) {
                printf("slot %s: PROBLEM: invalidated (WAL removed)\n", cfg.slot_name);
                problems++;
            }
        }
    }

    if (cfg.slot_failover && cat.server_version < 170000)
        printf("slot.failover: note: PostgreSQL %d.%d has no failover slots (17 or newer): the "
               "slot is an ordinary one that a promoted standby will not have\n",
               cat.server_version / 10000, cat.server_version % 10000);

    int ncaptured = 0;
    if (pgcdc_catalog_describe_capture(&cat, filter, &tables, &warnings, &ncaptured, err,
                                       sizeof(err)) != 0) {
        printf("tables: %s\n", err);
        rc = 1;
        goto out;
    }
    printf("tables captured: %d\n%s", ncaptured, tables.len ? tables.data : "");
    if (warnings.len)
        printf("table warnings:\n%s", warnings.data);
    if (ncaptured == 0) {
        printf("tables: PROBLEM: no table matches the include/exclude lists\n");
        problems++;
    }
    problems += check_sink_servers(&cfg);
    printf(problems ? "result: %d problem(s)\n" : "result: ok\n", problems);
    rc = problems ? 1 : 0;
out:
    PQclear(res);
    pgcdc_buf_free(&who);
    pgcdc_buf_free(&tables);
    pgcdc_buf_free(&warnings);
    pgcdc_filter_free(filter);
    if (cat.conn)
        pgcdc_catalog_close(&cat);
    pgcdc_config_free(&cfg);
    return rc;
}

int pgcdc_cli_slots(int argc, char **argv)
{
    pgcdc_config cfg;
    static const char *const extra[] = {"--drop", NULL};
    const char *vals[1] = {NULL};
    int rc = pgcdc_cli_parse(argc, argv, slots_usage, &cfg, extra, vals, NULL, NULL);
    if (rc)
        return rc == 3 ? 0 : rc;
    if (cfg.source_type == PGCDC_SOURCE_KAFKA) {
        fprintf(stderr, "pgcdc: source.type is kafka: this pipeline reads no replication slot "
                        "(its position is the consumer group's committed offsets)\n");
        pgcdc_config_free(&cfg);
        return 1;
    }
    char err[1024];
    pgcdc_catalog cat;
    memset(&cat, 0, sizeof(cat));
    PGresult *res = NULL;
    if (pgcdc_catalog_connect(&cat, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "pgcdc: %s\n", err);
        rc = 1;
        goto out;
    }
    if (vals[0]) {
        const char *params[1] = {vals[0]};
        res = PQexecParams(cat.conn, "SELECT pg_drop_replication_slot($1)", 1, NULL, params, NULL,
                           NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(stderr, "pgcdc: cannot drop slot %s: %s", vals[0], PQresultErrorMessage(res));
            rc = 1;
            goto out;
        }
        printf("dropped slot %s\n", vals[0]);
        rc = 0;
        goto out;
    }
    if (query_print(cat.conn,
                    "SELECT slot_name, coalesce(plugin, ''), slot_type, coalesce(database, ''), "
                    "active, coalesce(confirmed_flush_lsn::text, ''), "
                    "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), "
                    "coalesce(confirmed_flush_lsn, restart_lsn))::bigint::text, ''), "
                    "coalesce(wal_status, '') FROM pg_replication_slots ORDER BY 1",
                    &res) != 0) {
        rc = 1;
        goto out;
    }
    printf("%-32s %-10s %-9s %-16s %-6s %-14s %14s %s\n", "slot", "plugin", "type", "database",
           "active", "confirmed", "lag_bytes", "wal_status");
    for (int r = 0; r < PQntuples(res); r++)
        printf("%-32s %-10s %-9s %-16s %-6s %-14s %14s %s\n", PQgetvalue(res, r, 0),
               PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), PQgetvalue(res, r, 3),
               PQgetvalue(res, r, 4)[0] == 't' ? "yes" : "no", PQgetvalue(res, r, 5),
               PQgetvalue(res, r, 6), PQgetvalue(res, r, 7));
    rc = 0;
out:
    PQclear(res);
    if (cat.conn)
        pgcdc_catalog_close(&cat);
    pgcdc_config_free(&cfg);
    return rc;
}
