/*
 * cli_status.c - `pgcdc status`: what a pipeline is doing, running or not.
 *
 * Three sources, each optional: <data-dir>/status.json (the live progress a
 * running `pgcdc run` republishes every second), <data-dir>/offsets.json
 * (what the sinks acknowledged) and the database (the slot and its lag). The
 * data directory's lock tells whether a process is running. Only a bad
 * configuration is an error; anything missing or unreachable is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "core/offsets.h"
#include "core/status.h"
#include "source/pg/catalog.h"

static const char usage[] =
    "Usage: pgcdc status --config FILE [--data-dir DIR] [--json]\n"
    "\n"
    "Shows what the pipeline of FILE is doing, whether or not it is running:\n"
    "  - the process: running or not (the data directory's lock), its pid and uptime;\n"
    "  - its live progress from DIR/status.json: the phase (starting, snapshot,\n"
    "    streaming, stopped), per-table snapshot progress (rows done of the\n"
    "    estimate, rate, ETA) and overall, and the streaming figures;\n"
    "  - DIR/offsets.json: the acknowledged position, events, snapshot state;\n"
    "  - the database: the replication slot (active, wal_status, confirmed flush\n"
    "    LSN, lag in bytes behind the current WAL position).\n"
    "An unreachable database is reported and the rest is still shown. With\n"
    "source.type: kafka there is no slot and no offsets.json: the consumer group\n"
    "holding the position is named instead.\n"
    "\n"
    "  --config FILE     native YAML pipeline file or Debezium connector JSON\n"
    "  --data-dir DIR    the data directory of the pipeline (default: data.dir)\n"
    "  --json            one JSON object instead of text, for scripts\n"
    "\n"
    "Exits 0 unless the configuration is invalid (1) or the usage wrong (2).\n";

/* Whether a process holds <dir>/.lock: 1 yes, 0 no, -1 cannot tell. A
 * shared lock is probed and released at once; `pgcdc run` retries its own
 * lock briefly, so the probe never makes a starting process fail. */
static int lock_held(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/.lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int r;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
        r = 0;
    } else {
        r = errno == EWOULDBLOCK ? 1 : -1;
    }
    close(fd);
    return r;
}

static int pid_alive(json_int_t pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static const char *str_or(json_t *v, const char *def)
{
    const char *s = json_string_value(v);
    return s ? s : def;
}

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Reads a JSON file: NULL with *missing set when absent, NULL with errstr
 * when unreadable. */
static json_t *load_json(const char *dir, const char *name, int *missing, char *errstr,
                         size_t errstr_size)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    *missing = access(path, F_OK) != 0;
    if (*missing)
        return NULL;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        snprintf(errstr, errstr_size, "cannot read %s: %s", path, jerr.text);
    else if (!json_is_object(root)) {
        snprintf(errstr, errstr_size, "%s is not a JSON object", path);
        json_decref(root);
        root = NULL;
    }
    return root;
}

/* A progress record of status.json back as the struct the wording uses. */
static void progress_from_json(json_t *o, pgcdc_progress *p)
{
    memset(p, 0, sizeof(*p));
    json_t *est = json_object_get(o, "rows_estimate"), *pct = json_object_get(o, "percent"),
           *eta = json_object_get(o, "eta_s"), *state = json_object_get(o, "state");
    p->done = (uint64_t)json_integer_value(json_object_get(o, "rows_done"));
    p->estimate = json_is_integer(est) ? (int64_t)json_integer_value(est) : -1;
    p->percent = json_is_number(pct) ? json_number_value(pct) : -1;
    p->eta_s = json_is_number(eta) ? json_number_value(eta) : -1;
    p->rate = json_number_value(json_object_get(o, "rows_per_s"));
    p->elapsed_s = json_number_value(json_object_get(o, "elapsed_s"));
    p->finished = json_is_true(json_object_get(o, "done"));
    p->started = p->finished || p->done > 0 || p->elapsed_s > 0 ||
                 (json_is_string(state) && strcmp(json_string_value(state), "waiting") != 0);
}

static void print_status_file(json_t *st, int running, const char *status_err, int missing)
{
    if (!st) {
        if (missing)
            printf("progress: no status.json (pgcdc has not run with this data directory)\n");
        else
            printf("progress: %s\n", status_err);
        return;
    }
    const char *phase = json_string_value(json_object_get(st, "phase"));
    int64_t updated = json_integer_value(json_object_get(st, "updated_at_ms"));
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_duration_format((double)(now_ms() - updated) / 1000.0, &b);
    if (running)
        printf("phase: %s (reported %s ago)\n", phase ? phase : "?", b.data);
    else
        printf("phase: %s (last reported by pid %" JSON_INTEGER_FORMAT " at %s)\n",
               phase ? phase : "?", json_integer_value(json_object_get(st, "pid")),
               str_or(json_object_get(st, "updated_at"), "?"));
    const char *msg = json_string_value(json_object_get(st, "message"));
    if (msg)
        printf("message: %s\n", msg);

    const char *kind;
    json_t *agg;
    json_object_foreach(json_object_get(st, "overall"), kind, agg)
    {
        pgcdc_progress p;
        progress_from_json(agg, &p);
        pgcdc_buf_reset(&b);
        pgcdc_progress_format(&p, &b);
        printf("%s: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " tables done, %s%s\n", kind,
               json_integer_value(json_object_get(agg, "tables_done")),
               json_integer_value(json_object_get(agg, "tables_total")), b.data,
               !running && !p.finished ? " (interrupted)" : "");
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(st, "tables"), i, t)
        {
            const char *tk = json_string_value(json_object_get(t, "kind"));
            if (!tk || strcmp(tk, kind) != 0)
                continue;
            progress_from_json(t, &p);
            pgcdc_buf_reset(&b);
            pgcdc_progress_format(&p, &b);
            const char *state = json_string_value(json_object_get(t, "state"));
            if (!running && state && !strcmp(state, "copying"))
                state = "interrupted";
            /* the wording of a waiting table says so already */
            int say_state = !state || strcmp(state, "waiting") != 0;
            printf("  %s.%s: %s%s%s\n", str_or(json_object_get(t, "schema"), "?"),
                   str_or(json_object_get(t, "table"), "?"), say_state ? (state ? state : "?") : "",
                   say_state ? ", " : "", b.data);
        }
    }
    json_t *s = json_object_get(st, "streaming");
    if (s) {
        printf("events: %" JSON_INTEGER_FORMAT " acknowledged",
               json_integer_value(json_object_get(s, "events_acked")));
        if (running)
            printf(", %.0f/s", json_number_value(json_object_get(s, "events_per_s")));
        printf(", %" JSON_INTEGER_FORMAT " bytes queued",
               json_integer_value(json_object_get(s, "bytes_queued")));
        /* no slot: a source without LSNs (Kafka) */
        if (*str_or(json_object_get(st, "slot"), ""))
            printf(", confirmed LSN %s", str_or(json_object_get(s, "confirmed_lsn"), "?"));
        printf("\n");
    }
    pgcdc_buf_free(&b);
}

static const char *snapshot_state(int s, int running)
{
    if (s == PGCDC_SNAPSHOT_STATE_RUNNING)
        return running ? "running" : "interrupted (the next start copies the tables again)";
    return s == PGCDC_SNAPSHOT_STATE_DONE ? "done" : "none";
}

static json_t *offsets_json(const pgcdc_offsets *o)
{
    char done[32], partial[32];
    pgcdc_lsn_format(o->done_lsn, done, sizeof(done));
    pgcdc_lsn_format(o->partial_commit_lsn, partial, sizeof(partial));
    json_t *j = json_object();
    json_object_set_new(j, "slot", json_string(o->slot));
    json_object_set_new(j, "acknowledged_lsn", json_string(done));
    json_object_set_new(j, "partial_commit_lsn",
                        o->partial_commit_lsn ? json_string(partial) : json_null());
    json_object_set_new(j, "partial_index", json_integer((json_int_t)o->partial_index));
    json_object_set_new(j, "events", json_integer((json_int_t)o->events));
    json_object_set_new(j, "snapshot",
                        json_string(o->snapshot == PGCDC_SNAPSHOT_STATE_DONE      ? "done"
                                    : o->snapshot == PGCDC_SNAPSHOT_STATE_RUNNING ? "running"
                                                                                  : "none"));
    /* the incremental snapshot's stored progress, as pgcdc keeps it */
    json_t *incr = o->incremental ? json_loads(o->incremental, 0, NULL) : NULL;
    json_object_set_new(j, "incremental", incr ? incr : json_null());
    return j;
}

static json_t *slot_json(const char *name, const pgcdc_slot_info *si)
{
    char l[32];
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(name));
    json_object_set_new(j, "exists", json_boolean(si->exists));
    if (!si->exists)
        return j;
    pgcdc_lsn_format(si->confirmed_flush_lsn, l, sizeof(l));
    json_object_set_new(j, "plugin", json_string(si->plugin));
    json_object_set_new(j, "active", json_boolean(si->active));
    json_object_set_new(j, "active_pid", si->active ? json_integer(si->active_pid) : json_null());
    json_object_set_new(j, "wal_status",
                        si->wal_status[0] ? json_string(si->wal_status) : json_null());
    json_object_set_new(j, "confirmed_flush_lsn", json_string(l));
    json_object_set_new(j, "lag_bytes",
                        si->lag_bytes >= 0 ? json_integer(si->lag_bytes) : json_null());
    json_object_set_new(j, "failover",
                        si->failover >= 0 ? json_boolean(si->failover) : json_null());
    return j;
}

int pgcdc_cli_status(int argc, char **argv)
{
    pgcdc_config cfg;
    static const char *const flags[] = {"--json", NULL};
    int flag_vals[1] = {0};
    int rc = pgcdc_cli_parse(argc, argv, usage, &cfg, NULL, NULL, flags, flag_vals);
    if (rc)
        return rc == 3 ? 0 : rc;
    int as_json = flag_vals[0];
    const char *dir = cfg.data_dir;
    char err[1024], status_err[4400] = "", offsets_err[1024] = "", db_err[1024] = "";
    pgcdc_catalog cat;
    memset(&cat, 0, sizeof(cat));
    pgcdc_slot_info si;
    memset(&si, 0, sizeof(si));
    pgcdc_offsets off;
    memset(&off, 0, sizeof(off));

    int status_missing = 0;
    json_t *st = load_json(dir, "status.json", &status_missing, status_err, sizeof(status_err));
    int held = lock_held(dir);
    json_int_t pid = st ? json_integer_value(json_object_get(st, "pid")) : 0;
    /* the lock is the truth; the pid only helps when the lock cannot be read */
    int running = held == 1 || (held < 0 && pid_alive(pid));
    int pid_known = running && pid_alive(pid);

    int have_offsets = pgcdc_offsets_load(dir, &off, offsets_err, sizeof(offsets_err));

    /* a Kafka source has no slot: its position is the group's committed offsets */
    int kafka = cfg.source_type == PGCDC_SOURCE_KAFKA;
    char group[256];
    pgcdc_config_kafka_group(&cfg, group, sizeof(group));
    /* a hung network must not hang the command; an explicit setting wins */
    setenv("PGCONNECT_TIMEOUT", "5", 0);
    int reachable = !kafka && pgcdc_catalog_connect(&cat, &cfg, db_err, sizeof(db_err)) == 0;
    int slot_ok = 0;
    if (reachable) {
        slot_ok = pgcdc_catalog_slot_info(&cat, cfg.slot_name, &si, err, sizeof(err)) == 0;
        if (!slot_ok)
            snprintf(db_err, sizeof(db_err), "%s", err);
    }

    if (as_json) {
        json_t *root = json_object(), *proc = json_object(), *db = json_object();
        json_object_set_new(root, "data_dir", json_string(dir));
        json_object_set_new(proc, "running", json_boolean(running));
        json_object_set_new(proc, "pid", pid_known ? json_integer(pid) : json_null());
        json_object_set_new(root, "process", proc);
        json_object_set_new(root, "status", st ? json_incref(st) : json_null());
        if (status_err[0])
            json_object_set_new(root, "status_error", json_string(status_err));
        json_object_set_new(root, "offsets", have_offsets > 0 ? offsets_json(&off) : json_null());
        if (have_offsets < 0)
            json_object_set_new(root, "offsets_error", json_string(offsets_err));
        json_object_set_new(db, "reachable", json_boolean(reachable));
        json_object_set_new(db, "error", db_err[0] ? json_string(db_err) : json_null());
        if (reachable)
            json_object_set_new(db, "server_version", json_integer(cat.server_version));
        json_object_set_new(db, "slot", slot_ok ? slot_json(cfg.slot_name, &si) : json_null());
        if (kafka) {
            json_t *src = json_object();
            json_object_set_new(src, "type", json_string("kafka"));
            json_object_set_new(src, "topics", json_string(cfg.ksrc_topics));
            json_object_set_new(src, "group", json_string(group));
            json_object_set_new(root, "source", src);
            json_decref(db);
            db = json_null();
        }
        json_object_set_new(root, "database", db);
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(root);
        goto out;
    }

    printf("data dir: %s\n", dir);
    if (running) {
        pgcdc_buf up = PGCDC_BUF_INIT;
        int64_t started = st ? json_integer_value(json_object_get(st, "started_at_ms")) : 0;
        if (pid_known && started)
            pgcdc_duration_format((double)(now_ms() - started) / 1000.0, &up);
        if (pid_known)
            printf("process: running (pid %" JSON_INTEGER_FORMAT "%s%s)\n", pid,
                   up.len ? ", up " : "", up.len ? up.data : "");
        else
            printf("process: running (the data directory is locked; pid not known yet)\n");
        pgcdc_buf_free(&up);
    } else {
        printf("process: not running\n");
    }
    print_status_file(st, running, status_err, status_missing);

    if (kafka) {
        printf("source: kafka, topics %s; position: the committed offsets of consumer group %s "
               "(kafka-consumer-groups.sh --describe --group %s)\n",
               cfg.ksrc_topics, group, group);
        goto out;
    }
    if (have_offsets > 0) {
        char l[32];
        pgcdc_lsn_format(off.done_lsn, l, sizeof(l));
        printf("offsets: acknowledged position %s, %" PRIu64 " events, snapshot %s\n", l,
               off.events, snapshot_state(off.snapshot, running));
        if (off.partial_commit_lsn) {
            pgcdc_lsn_format(off.partial_commit_lsn, l, sizeof(l));
            printf("offsets: plus the first %" PRIu64 " events of the transaction committed at "
                   "%s\n",
                   off.partial_index, l);
        }
    } else if (have_offsets == 0) {
        printf("offsets: none yet (nothing acknowledged in this data directory)\n");
    } else {
        printf("offsets: %s\n", offsets_err);
    }

    pgcdc_buf who = PGCDC_BUF_INIT;
    pgcdc_config_describe_conn(&cfg, &who);
    if (!reachable) {
        printf("database: unreachable: %s\n", db_err);
    } else {
        printf("database: PostgreSQL %d.%d at %s\n", cat.server_version / 10000,
               cat.server_version % 10000, who.data);
        if (!slot_ok) {
            printf("slot %s: %s\n", cfg.slot_name, db_err);
        } else if (!si.exists) {
            printf("slot %s: does not exist\n", cfg.slot_name);
        } else {
            char l[32];
            pgcdc_lsn_format(si.confirmed_flush_lsn, l, sizeof(l));
            printf("slot %s: exists, ", cfg.slot_name);
            if (si.active)
                printf("active (pid %d)", si.active_pid);
            else
                printf("inactive");
            if (si.wal_status[0])
                printf(", wal_status %s", si.wal_status);
            printf(", confirmed flush %s", l);
            if (si.lag_bytes >= 0)
                printf(", lag %" PRId64 " bytes", si.lag_bytes);
            if (si.failover >= 0)
                printf(", failover %s", si.failover ? "on" : "off");
            printf("\n");
        }
    }
    pgcdc_buf_free(&who);
out:
    pgcdc_offsets_clear(&off);
    json_decref(st);
    if (cat.conn)
        pgcdc_catalog_close(&cat);
    pgcdc_config_free(&cfg);
    return 0;
}
