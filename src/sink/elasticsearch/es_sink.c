/*
 * es_sink.c - the Elasticsearch sink: each table's rows mirrored into an
 * index with the `_bulk` API, over libcurl's multi interface.
 *
 * Every row change becomes one bulk action (es_doc.c): create/read/update
 * index the row under its primary key, delete removes it, truncate clears
 * the index. Actions carry version_type=external with the change's LSN as
 * version, so Elasticsearch itself refuses to move a document back: a replay
 * after a crash, a duplicate from Kafka or two requests completing out of
 * order end in a 409 version conflict for the stale action, which counts as
 * done. That is also what lets several bulk requests be in flight at once.
 *
 * Acknowledgements: each batch has a tracker counting its actions not yet
 * confirmed by Elasticsearch; the sink acknowledges the longest prefix of
 * batches whose actions are all confirmed. A request that fails as a whole
 * (connection refused, timeout, HTTP 429 or 5xx) is sent again with
 * exponential backoff, and so are the items Elasticsearch answers 429/5xx
 * for; items it rejects for good (mapping conflicts, bad values) go to the
 * dead-letter file, fsynced before their batch is acknowledged, with the
 * reason, and the pipeline continues. Authentication failures, and requests
 * that keep failing past elasticsearch.retry.timeout.ms, stop the pipeline:
 * nothing after the last acknowledged batch is confirmed to the source.
 *
 * Memory: at most max.in.flight requests (each up to bulk.max.bytes) exist,
 * whether in flight or waiting for a retry; write_batch blocks while they
 * are all busy.
 *
 * Runs on the sink's worker thread only; the credentials are given to curl
 * and never logged (the URL is logged without any user:password@ part).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "format/json.h"
#include "sink/elasticsearch/es_doc.h"
#include "sink/elasticsearch/es_sink.h"
#include "sink/sink.h"

#define LOG "elasticsearch"
#define CONNECT_TIMEOUT_MS 10000

typedef struct tracker {
    uint64_t seq;
    uint64_t pending; /* actions not confirmed yet */
    int complete;     /* every action of the batch was queued */
    struct tracker *next;
} tracker;

/* One action of a request: its lines in the body and its batch. */
typedef struct es_item {
    tracker *t;
    size_t start, end;
} es_item;

typedef struct es_req {
    pgcdc_buf body;
    es_item *items;
    size_t nitems, cap;
    CURL *easy;
    pgcdc_buf resp;
    int attempts;
    int64_t retry_at_us;   /* waiting for a retry until then; 0: not waiting */
    int64_t failing_since; /* first failure of this request; 0: none */
    char last_error[256];
    struct es_req *next;
} es_req;

typedef struct es_index {
    char *name;
    int ready; /* exists (checked or created) */
} es_index;

typedef struct es_topic {
    char *topic;
    size_t topic_len;
    es_index *index;
    pgcdc_es_schema schema;
    int warned_no_version;
} es_topic;

typedef struct es_sink {
    pgcdc_sink *sink;
    const pgcdc_config *cfg;
    char *url;   /* without trailing '/' */
    char *shown; /* url without credentials, for messages */
    CURLM *multi;
    struct curl_slist *hdr_json, *hdr_ndjson;
    char *api_key_header;
    es_req *cur;    /* being filled */
    es_req *active; /* sent or waiting for a retry */
    size_t nactive;
    es_req *spare; /* recycled requests */
    tracker *head, *tail;
    es_topic *topics;
    size_t ntopics, last_topic;
    es_index **indexes;
    size_t nindexes;
    pgcdc_buf id, doc, tmp, name;
    char *dlq_path;
    int dlq_fd;
    uint64_t dlq_count;
    int dlq_dirty;
    char *mapping_body; /* elasticsearch.mapping.file's content */
    int failed;
    char fail_msg[1024];
} es_sink;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void fail(es_sink *es, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(es_sink *es, const char *fmt, ...)
{
    if (es->failed)
        return;
    es->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(es->fail_msg, sizeof(es->fail_msg), fmt, ap);
    va_end(ap);
}

/* ---------- HTTP plumbing ---------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    pgcdc_buf_append(ud, p, size * n);
    return size * n;
}

/* Options every handle gets: auth, TLS, timeouts. */
static void setup_handle(es_sink *es, CURL *h, long timeout_ms)
{
    const pgcdc_config *cfg = es->cfg;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (cfg->es_username && *cfg->es_username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg->es_username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->es_password ? cfg->es_password : "");
    }
    if (cfg->es_ca_file && *cfg->es_ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->es_ca_file);
}

/*
 * One synchronous request (index checks and creation, truncation, the
 * connection check). *status gets the HTTP status (0 when no response);
 * resp the body. Returns 0 when a response came, -1 with errstr otherwise.
 */
static int http_sync(es_sink *es, const char *method, const char *path, const char *body,
                     long *status, pgcdc_buf *resp, char *errstr, size_t errstr_size)
{
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        return -1;
    }
    pgcdc_buf url = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&url, "%s%s", es->url, path);
    setup_handle(es, h, es->cfg->es_request_timeout_ms);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, es->hdr_json);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    pgcdc_buf_reset(resp);
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    else
        snprintf(errstr, errstr_size, "%s %s%s: %s", method, es->shown, path,
                 curl_easy_strerror(rc));
    curl_easy_cleanup(h);
    pgcdc_buf_free(&url);
    return rc == CURLE_OK ? 0 : -1;
}

/*
 * http_sync for the calls made while running (index checks, creation,
 * clearing): connection failures, 429 and 5xx are retried with the bulk
 * requests' backoff until elasticsearch.retry.timeout.ms, so an outage that
 * begins just as a new table appears is waited out like any other.
 */
static int http_sync_retry(es_sink *es, const char *method, const char *path, const char *body,
                           long *status, pgcdc_buf *resp, char *errstr, size_t errstr_size)
{
    int64_t start = now_us();
    int64_t backoff = es->cfg->es_backoff_ms;
    for (;;) {
        int rc = http_sync(es, method, path, body, status, resp, errstr, errstr_size);
        if (rc == 0 && *status != 429 && *status < 500)
            return 0;
        long long limit = es->cfg->es_retry_timeout_ms;
        if ((limit > 0 && now_us() - start > limit * 1000) || pgcdc_sink_stopping(es->sink))
            return rc;
        if (rc == 0)
            snprintf(errstr, errstr_size, "HTTP %ld", *status);
        pgcdc_log_warn(LOG, "%s %s%s failed (%s); retrying in %lld ms", method, es->shown, path,
                       errstr, (long long)backoff);
        usleep((useconds_t)backoff * 1000);
        backoff =
            backoff * 2 > es->cfg->es_backoff_max_ms ? es->cfg->es_backoff_max_ms : backoff * 2;
    }
}

/* The error reason of an Elasticsearch error response, for messages. */
static void error_reason(const pgcdc_buf *resp, char *out, size_t n)
{
    json_t *j = json_loadb(resp->data ? resp->data : "", resp->len, 0, NULL);
    json_t *e = j ? json_object_get(j, "error") : NULL;
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *reason = json_string_value(json_object_get(e, "reason"));
    if (type || reason)
        snprintf(out, n, "%s: %s", type ? type : "error", reason ? reason : "");
    else if (json_is_string(e))
        snprintf(out, n, "%s", json_string_value(e));
    else
        snprintf(out, n, "%.*s", (int)(resp->len > 300 ? 300 : resp->len),
                 resp->data ? resp->data : "");
    json_decref(j);
}

static const char *auth_hint(long status)
{
    return status == 401 ? "the credentials were rejected: check elasticsearch.username and "
                           "elasticsearch.password, or elasticsearch.api.key"
                         : "the user lacks a privilege: it needs to create, write to and (for "
                           "truncates) delete the indices";
}

/* ---------- indices ---------- */

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Expands elasticsearch.index for one record into es->name. */
static void index_name(es_sink *es, const pgcdc_record *rec, const pgcdc_es_action *act)
{
    pgcdc_buf *out = &es->name;
    pgcdc_buf_reset(out);
    for (const char *p = es->cfg->es_index; *p;) {
        if (!strncmp(p, "${topic}", 8)) {
            pgcdc_buf_append(out, rec->topic, rec->topic_len);
            p += 8;
        } else if (!strncmp(p, "${schema}", 9) || !strncmp(p, "${table}", 8)) {
            int is_schema = p[2] == 's';
            pgcdc_es_span v = is_schema ? act->schema_name : act->table_name;
            if (v.p && v.p[0] == '"')
                pgcdc_es_json_unescape(out, v);
            p += is_schema ? 9 : 8;
        } else {
            pgcdc_buf_putc(out, *p++);
        }
    }
    lower(out->data);
}

/* Fields an index template maps for `name` (so the derived mapping leaves
 * them to it); NULL-terminated, owned by the caller; NULL when none. */
static char **template_fields(es_sink *es, const char *name)
{
    pgcdc_buf resp = PGCDC_BUF_INIT, path = PGCDC_BUF_INIT;
    char err[256];
    long status;
    char **out = NULL;
    pgcdc_buf_printf(&path, "/_index_template/_simulate_index/%s", name);
    if (http_sync(es, "POST", path.data, NULL, &status, &resp, err, sizeof(err)) == 0 &&
        status == 200) {
        json_t *j = json_loadb(resp.data, resp.len, 0, NULL);
        json_t *props = json_object_get(json_object_get(json_object_get(j, "template"), "mappings"),
                                        "properties");
        size_t n = json_object_size(props), i = 0;
        if (n && (out = calloc(n + 1, sizeof(char *)))) {
            const char *k;
            json_t *v;
            json_object_foreach(props, k, v) out[i++] = strdup(k);
        }
        json_decref(j);
    }
    pgcdc_buf_free(&resp);
    pgcdc_buf_free(&path);
    return out;
}

static int index_create(es_sink *es, es_topic *t, const char *name, char *errstr,
                        size_t errstr_size)
{
    pgcdc_buf body = PGCDC_BUF_INIT, resp = PGCDC_BUF_INIT, path = PGCDC_BUF_INIT;
    const char *how;
    if (es->mapping_body) {
        pgcdc_buf_puts(&body, es->mapping_body);
        how = "the body of elasticsearch.mapping.file";
    } else if (t->schema.present && t->schema.nfields) {
        char **skip = template_fields(es, name);
        PGCDC_BUF_LIT(&body, "{\"mappings\":");
        pgcdc_es_mapping(&t->schema, es->cfg->es_json_flattened ? "flattened" : "object",
                         (const char *const *)skip, &body);
        pgcdc_buf_putc(&body, '}');
        for (char **s = skip; s && *s; s++)
            free(*s);
        how = skip ? "a mapping derived from the table's columns, and the fields of a matching "
                     "index template"
                   : "a mapping derived from the table's columns";
        free(skip);
    } else {
        how = "dynamic mapping: the records carry no schema (value.converter.schemas.enable is "
              "false), so column types are unknown; give elasticsearch.mapping.file or create "
              "the index first for exact types";
    }
    pgcdc_buf_printf(&path, "/%s", name);
    long status;
    int rc = http_sync_retry(es, "PUT", path.data, body.len ? body.data : NULL, &status, &resp,
                             errstr, errstr_size);
    if (rc == 0 && status == 200) {
        pgcdc_log_info(LOG, "created index %s (%s)", name, how);
    } else if (rc == 0 && status == 400 && resp.data &&
               strstr(resp.data, "resource_already_exists")) {
        /* created by someone else meanwhile: use it */
    } else if (rc == 0) {
        char reason[512];
        error_reason(&resp, reason, sizeof(reason));
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: creating index %s failed (HTTP %ld): %s%s", name, status,
                 reason,
                 status == 401 || status == 403 ? auth_hint(status)
                 : es->mapping_body             ? " (check elasticsearch.mapping.file)"
                                    : " (check elasticsearch.index: index names are lower case "
                                      "without \\ / * ? \" < > | , # or spaces)");
        rc = -1;
    } else {
        char detail[512];
        snprintf(detail, sizeof(detail), "%s", errstr);
        snprintf(errstr, errstr_size, "elasticsearch sink: %s", detail);
    }
    pgcdc_buf_free(&body);
    pgcdc_buf_free(&resp);
    pgcdc_buf_free(&path);
    return rc;
}

/* Makes sure the topic's index exists (once per index and process). */
static int index_ensure(es_sink *es, es_topic *t, char *errstr, size_t errstr_size)
{
    es_index *ix = t->index;
    if (ix->ready)
        return 0;
    pgcdc_buf resp = PGCDC_BUF_INIT, path = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&path, "/%s", ix->name);
    long status;
    int rc = http_sync_retry(es, "HEAD", path.data, NULL, &status, &resp, errstr, errstr_size);
    if (rc == 0 && status == 404)
        rc = index_create(es, t, ix->name, errstr, errstr_size);
    else if (rc == 0 && status != 200) {
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: checking index %s at %s failed (HTTP %ld)%s%s", ix->name,
                 es->shown, status, status == 401 || status == 403 ? ": " : "",
                 status == 401 || status == 403 ? auth_hint(status) : "");
        rc = -1;
    } else if (rc != 0) {
        char detail[512];
        snprintf(detail, sizeof(detail), "%s", errstr);
        snprintf(errstr, errstr_size, "elasticsearch sink: %s", detail);
    }
    if (rc == 0)
        ix->ready = 1;
    pgcdc_buf_free(&resp);
    pgcdc_buf_free(&path);
    return rc;
}

static es_topic *topic_find(es_sink *es, const pgcdc_record *rec)
{
    if (es->ntopics && es->topics[es->last_topic].topic_len == rec->topic_len &&
        !memcmp(es->topics[es->last_topic].topic, rec->topic, rec->topic_len))
        return &es->topics[es->last_topic];
    for (size_t i = 0; i < es->ntopics; i++)
        if (es->topics[i].topic_len == rec->topic_len &&
            !memcmp(es->topics[i].topic, rec->topic, rec->topic_len)) {
            es->last_topic = i;
            return &es->topics[i];
        }
    return NULL;
}

/* A new topic entry, its index named from this record. NULL: out of memory. */
static es_topic *topic_add(es_sink *es, const pgcdc_record *rec, const pgcdc_es_action *act)
{
    es_topic *ts = realloc(es->topics, (es->ntopics + 1) * sizeof(*ts));
    if (!ts)
        return NULL;
    es->topics = ts;
    es_topic *t = &es->topics[es->ntopics];
    memset(t, 0, sizeof(*t));
    if (!(t->topic = strndup(rec->topic, rec->topic_len)))
        return NULL;
    t->topic_len = rec->topic_len;
    index_name(es, rec, act);
    for (size_t i = 0; i < es->nindexes && !t->index; i++)
        if (!strcmp(es->indexes[i]->name, es->name.data))
            t->index = es->indexes[i];
    if (!t->index) {
        es_index **ixs = realloc(es->indexes, (es->nindexes + 1) * sizeof(*ixs));
        if (!ixs) {
            free(t->topic);
            return NULL;
        }
        es->indexes = ixs;
        es_index *ix = calloc(1, sizeof(*ix));
        if (!ix || !(ix->name = strdup(es->name.data))) {
            free(ix);
            free(t->topic);
            return NULL;
        }
        es->indexes[es->nindexes++] = ix;
        t->index = ix;
    }
    es->last_topic = es->ntopics++;
    pgcdc_log_info(LOG, "topic %s -> index %s", t->topic, t->index->name);
    return t;
}

/* ---------- dead letters ---------- */

static int dlq_write(es_sink *es, const es_req *r, const es_item *it, long status, json_t *error)
{
    if (es->dlq_fd < 0) {
        es->dlq_fd = open(es->dlq_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (es->dlq_fd < 0) {
            fail(es, "elasticsearch sink: cannot open the dead-letter file %s: %s", es->dlq_path,
                 strerror(errno));
            return -1;
        }
    }
    /* the action line and the document, as sent */
    const char *line = r->body.data + it->start;
    const char *nl = memchr(line, '\n', it->end - it->start);
    size_t alen = nl ? (size_t)(nl - line) : it->end - it->start;
    pgcdc_buf out = PGCDC_BUF_INIT;
    char *err = json_dumps(error, JSON_COMPACT);
    time_t now = time(NULL);
    struct tm tm;
    char ts[32];
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    pgcdc_buf_printf(&out, "{\"time\":\"%s\",\"status\":%ld,\"error\":%s,\"action\":", ts, status,
                     err ? err : "null");
    pgcdc_buf_append(&out, line, alen);
    PGCDC_BUF_LIT(&out, ",\"document\":");
    if (nl && (size_t)(nl - line) + 1 < it->end - it->start)
        pgcdc_buf_append(&out, nl + 1, it->end - it->start - alen - 2);
    else
        PGCDC_BUF_LIT(&out, "null");
    PGCDC_BUF_LIT(&out, "}\n");
    free(err);
    ssize_t w = write(es->dlq_fd, out.data, out.len);
    int rc = 0;
    if (w != (ssize_t)out.len) {
        fail(es, "elasticsearch sink: writing the dead-letter file %s failed: %s", es->dlq_path,
             w < 0 ? strerror(errno) : "short write");
        rc = -1;
    }
    pgcdc_buf_free(&out);
    es->dlq_count++;
    es->dlq_dirty = 1;
    return rc;
}

/* ---------- requests ---------- */

static es_req *req_new(es_sink *es)
{
    es_req *r = es->spare;
    if (r) {
        es->spare = r->next;
    } else if (!(r = calloc(1, sizeof(*r)))) {
        return NULL;
    }
    pgcdc_buf_reset(&r->body);
    pgcdc_buf_reset(&r->resp);
    r->nitems = 0;
    r->attempts = 0;
    r->retry_at_us = 0;
    r->failing_since = 0;
    r->last_error[0] = 0;
    r->next = NULL;
    return r;
}

static void req_recycle(es_sink *es, es_req *r)
{
    if (r->body.cap > (size_t)es->cfg->es_bulk_max_bytes * 2) {
        pgcdc_buf_free(&r->body); /* one giant document: do not keep its memory */
    }
    r->next = es->spare;
    es->spare = r;
}

static void req_free(es_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    pgcdc_buf_free(&r->body);
    pgcdc_buf_free(&r->resp);
    free(r->items);
    free(r);
}

static int req_add_item(es_req *r, tracker *t, size_t start)
{
    if (r->nitems == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        es_item *it = realloc(r->items, cap * sizeof(*it));
        if (!it)
            return -1;
        r->items = it;
        r->cap = cap;
    }
    r->items[r->nitems++] = (es_item){t, start, r->body.len};
    t->pending++;
    return 0;
}

static void list_remove(es_sink *es, es_req *r)
{
    for (es_req **p = &es->active; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            es->nactive--;
            return;
        }
}

static int req_start(es_sink *es, es_req *r)
{
    if (!r->easy && !(r->easy = curl_easy_init()))
        return -1;
    CURL *h = r->easy;
    curl_easy_reset(h);
    setup_handle(es, h, es->cfg->es_request_timeout_ms);
    pgcdc_buf_reset(&es->tmp);
    pgcdc_buf_printf(&es->tmp, "%s/_bulk", es->url);
    curl_easy_setopt(h, CURLOPT_URL, es->tmp.data); /* curl copies it */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, es->hdr_ndjson);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->resp);
    curl_easy_setopt(h, CURLOPT_PRIVATE, r);
    pgcdc_buf_reset(&r->resp);
    r->retry_at_us = 0;
    r->attempts++;
    return curl_multi_add_handle(es->multi, h) == CURLM_OK ? 0 : -1;
}

/* Schedules a whole request again after the backoff; fails the pipeline
 * when it has been failing longer than elasticsearch.retry.timeout.ms. */
static void req_retry(es_sink *es, es_req *r, const char *why)
{
    int64_t now = now_us();
    snprintf(r->last_error, sizeof(r->last_error), "%s", why);
    if (!r->failing_since)
        r->failing_since = now;
    if (pgcdc_sink_stopping(es->sink)) {
        /* waiting out the outage would hold the stop up: give up instead,
         * nothing unacknowledged is lost */
        fail(es,
             "elasticsearch sink: stopping while %s does not accept bulk requests (%s); the "
             "changes not acknowledged yet are sent again at the next start",
             es->shown, why);
        return;
    }
    long long limit = es->cfg->es_retry_timeout_ms;
    if (limit > 0 && now - r->failing_since > limit * 1000) {
        fail(es,
             "elasticsearch sink: %s has not accepted a bulk request for %lld s (last error: "
             "%s); stopping: nothing after the last acknowledged change is confirmed, and the "
             "next start sends it again (elasticsearch.retry.timeout.ms)",
             es->shown, limit / 1000, why);
        return;
    }
    int64_t backoff = es->cfg->es_backoff_ms;
    for (int i = 1; i < r->attempts && backoff < es->cfg->es_backoff_max_ms; i++)
        backoff *= 2;
    if (backoff > es->cfg->es_backoff_max_ms)
        backoff = es->cfg->es_backoff_max_ms;
    r->retry_at_us = now + backoff * 1000;
    pgcdc_log_warn(LOG,
                   "bulk request of %zu actions to %s failed (%s); retrying in %lld ms "
                   "(attempt %d)",
                   r->nitems, es->shown, why, (long long)backoff, r->attempts + 1);
}

static void item_done(es_item *it)
{
    it->t->pending--;
}

/* Handles a 200 answer: per-item outcomes. Items to retry move into a new
 * request queued for a retry. */
static void bulk_items(es_sink *es, es_req *r)
{
    /* the common case without parsing: Elasticsearch says no item failed */
    const char *head = r->resp.data;
    size_t scan = r->resp.len < 64 ? r->resp.len : 64;
    if (head && memmem(head, scan, "\"errors\":false", 14)) {
        for (size_t i = 0; i < r->nitems; i++)
            item_done(&r->items[i]);
        return;
    }
    json_error_t jerr;
    json_t *j = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, &jerr);
    json_t *items = json_object_get(j, "items");
    if (json_array_size(items) != r->nitems) {
        fail(es,
             "elasticsearch sink: unexpected _bulk response from %s (%zu items for %zu actions): "
             "%.200s",
             es->shown, json_array_size(items), r->nitems, r->resp.data ? r->resp.data : "");
        json_decref(j);
        return;
    }
    es_req *again = NULL;
    char again_why[256] = "";
    for (size_t i = 0; i < r->nitems && !es->failed; i++) {
        es_item *it = &r->items[i];
        const char *k;
        json_t *v = NULL, *x;
        json_object_foreach(json_array_get(items, i), k, x) v = x; /* {"index": {...}} */
        long status = (long)json_integer_value(json_object_get(v, "status"));
        json_t *error = json_object_get(v, "error");
        const char *etype = json_string_value(json_object_get(error, "type"));
        if (status < 300 || (status == 404 && !error) || status == 409) {
            /* 404 without error: deleting what is not there; 409: the
             * document has this version or a newer one (replay, duplicate) */
            item_done(it);
        } else if (status == 429 || status >= 500) {
            if (!again && !(again = req_new(es))) {
                fail(es, "elasticsearch sink: out of memory");
                break;
            }
            size_t start = again->body.len;
            pgcdc_buf_append(&again->body, r->body.data + it->start, it->end - it->start);
            if (req_add_item(again, it->t, start) != 0) {
                fail(es, "elasticsearch sink: out of memory");
                break;
            }
            item_done(it); /* now counted in `again` */
            snprintf(again_why, sizeof(again_why), "HTTP %ld %s for some of its documents", status,
                     etype ? etype : "");
        } else if (status == 401 || status == 403) {
            fail(es, "elasticsearch sink: %s answered HTTP %ld for a document: %s", es->shown,
                 status, auth_hint(status));
        } else {
            const char *reason = json_string_value(json_object_get(error, "reason"));
            const char *line = r->body.data + it->start;
            const char *nl = memchr(line, '\n', it->end - it->start);
            pgcdc_log_warn(LOG,
                           "Elasticsearch rejected a document (HTTP %ld %s: %s); written to the "
                           "dead-letter file %s, the pipeline continues. Action: %.*s",
                           status, etype ? etype : "", reason ? reason : "", es->dlq_path,
                           (int)(nl ? nl - line : 0), line);
            if (dlq_write(es, r, it, status, error) == 0)
                item_done(it);
        }
    }
    json_decref(j);
    if (again) {
        /* the retried items keep their request's attempt count and age */
        again->attempts = r->attempts;
        again->failing_since = r->failing_since ? r->failing_since : now_us();
        again->next = es->active;
        es->active = again;
        es->nactive++;
        req_retry(es, again, again_why);
    }
}

/* A finished transfer: success, retry, or fatal. */
static void req_done(es_sink *es, es_req *r, CURLcode cc)
{
    curl_multi_remove_handle(es->multi, r->easy);
    long status = 0;
    if (cc == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    char why[256];
    if (cc != CURLE_OK) {
        snprintf(why, sizeof(why), "%s", curl_easy_strerror(cc));
        if (cc == CURLE_SSL_CACERT || cc == CURLE_PEER_FAILED_VERIFICATION ||
            cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_UNSUPPORTED_PROTOCOL ||
            cc == CURLE_URL_MALFORMAT) {
            fail(es,
                 "elasticsearch sink: %s: %s (check elasticsearch.url and elasticsearch.ca.file)",
                 es->shown, why);
            return;
        }
        req_retry(es, r, why);
        return;
    }
    if (status == 429 || status >= 500) {
        char reason[200];
        error_reason(&r->resp, reason, sizeof(reason));
        snprintf(why, sizeof(why), "HTTP %ld: %s", status, reason);
        req_retry(es, r, why);
        return;
    }
    if (status == 401 || status == 403) {
        fail(es, "elasticsearch sink: %s answered HTTP %ld to a bulk request: %s", es->shown,
             status, auth_hint(status));
        return;
    }
    if (status != 200) {
        char reason[400];
        error_reason(&r->resp, reason, sizeof(reason));
        fail(es, "elasticsearch sink: bulk request to %s failed with HTTP %ld: %s%s", es->shown,
             status, reason,
             status == 413 ? " (lower elasticsearch.bulk.max.bytes below the server's "
                             "http.max_content_length)"
                           : "");
        return;
    }
    bulk_items(es, r);
    list_remove(es, r);
    req_recycle(es, r);
}

/* Acknowledges the prefix of batches whose actions are all confirmed. */
static int advance(es_sink *es)
{
    if (!es->head || !es->head->complete || es->head->pending)
        return 0;
    if (es->dlq_dirty) { /* dead letters are durable before their batch is acknowledged */
        if (fdatasync(es->dlq_fd) != 0) {
            fail(es, "elasticsearch sink: fsync of the dead-letter file %s failed: %s",
                 es->dlq_path, strerror(errno));
            return -1;
        }
        es->dlq_dirty = 0;
    }
    while (es->head && es->head->complete && es->head->pending == 0) {
        tracker *t = es->head;
        es->head = t->next;
        if (!es->head)
            es->tail = NULL;
        pgcdc_sink_ack(es->sink, t->seq);
        free(t);
    }
    return 0;
}

/*
 * Drives the transfers: starts due retries, collects finished requests,
 * waits up to wait_ms for activity. Returns -1 (errstr) once the sink failed.
 */
static int serve(es_sink *es, int wait_ms, char *errstr, size_t errstr_size)
{
    int64_t now = now_us(), next_retry = 0;
    for (es_req *r = es->active; r && !es->failed; r = r->next) {
        if (!r->retry_at_us)
            continue;
        if (r->retry_at_us <= now) {
            if (req_start(es, r) != 0)
                fail(es, "elasticsearch sink: cannot start a request (out of memory)");
        } else if (!next_retry || r->retry_at_us < next_retry) {
            next_retry = r->retry_at_us;
        }
    }
    int running = 0;
    curl_multi_perform(es->multi, &running);
    if (wait_ms > 0 && running) {
        int w = wait_ms;
        if (next_retry && (next_retry - now) / 1000 < w)
            w = (int)((next_retry - now) / 1000) + 1;
        curl_multi_poll(es->multi, NULL, 0, w, NULL);
        curl_multi_perform(es->multi, &running);
    } else if (wait_ms > 0 && next_retry) {
        int64_t w = (next_retry - now) / 1000 + 1;
        usleep((useconds_t)(w < wait_ms ? w : wait_ms) * 1000);
    }
    CURLMsg *m;
    int left;
    while (!es->failed && (m = curl_multi_info_read(es->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        es_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        req_done(es, r, m->data.result);
    }
    if (!es->failed)
        advance(es);
    if (es->failed) {
        snprintf(errstr, errstr_size, "%s", es->fail_msg);
        return -1;
    }
    return 0;
}

/* Sends the request being filled, waiting for a free slot first. */
static int submit(es_sink *es, char *errstr, size_t errstr_size)
{
    es_req *r = es->cur;
    if (!r || r->nitems == 0)
        return 0;
    while (es->nactive >= (size_t)es->cfg->es_max_in_flight)
        if (serve(es, 100, errstr, errstr_size) != 0)
            return -1;
    es->cur = NULL;
    r->next = es->active;
    es->active = r;
    es->nactive++;
    if (req_start(es, r) != 0) {
        snprintf(errstr, errstr_size, "elasticsearch sink: cannot start a request");
        return -1;
    }
    return serve(es, 0, errstr, errstr_size);
}

/* Waits until nothing is in flight (before a truncate clears an index). */
static int drain(es_sink *es, char *errstr, size_t errstr_size)
{
    if (submit(es, errstr, errstr_size) != 0)
        return -1;
    while (es->nactive)
        if (serve(es, 100, errstr, errstr_size) != 0)
            return -1;
    return 0;
}

/* Empties an index: deleted and created again with its mappings and settings
 * (no delete-by-query: it needs the reindex module, absent from minimal
 * distributions, and is slow on big indices). */
static int index_clear(es_sink *es, es_index *ix, char *errstr, size_t errstr_size)
{
    pgcdc_buf resp = PGCDC_BUF_INIT, path = PGCDC_BUF_INIT, body = PGCDC_BUF_INIT;
    long status;
    int rc = -1;
    json_t *j = NULL, *create = NULL;
    pgcdc_buf_printf(&path, "/%s", ix->name);
    if (http_sync_retry(es, "GET", path.data, NULL, &status, &resp, errstr, errstr_size) != 0)
        goto done;
    if (status == 404) {
        rc = 0;
        goto done;
    }
    if (status != 200 || !(j = json_loadb(resp.data, resp.len, 0, NULL))) {
        snprintf(errstr, errstr_size, "elasticsearch sink: reading index %s to clear it: HTTP %ld",
                 ix->name, status);
        goto done;
    }
    json_t *def = json_object_get(j, ix->name);
    json_t *isettings = json_object_get(json_object_get(def, "settings"), "index");
    create = json_object();
    json_t *settings = json_object();
    static const char *const keep[] = {"number_of_shards", "number_of_replicas", "analysis",
                                       "refresh_interval", "similarity",         "mapping"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        json_t *v = json_object_get(isettings, keep[i]);
        if (v)
            json_object_set(settings, keep[i], v);
    }
    json_object_set_new(create, "settings", settings);
    if (json_object_get(def, "mappings"))
        json_object_set(create, "mappings", json_object_get(def, "mappings"));
    char *text = json_dumps(create, JSON_COMPACT);
    if (!text) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        goto done;
    }
    pgcdc_buf_puts(&body, text);
    free(text);
    if (http_sync_retry(es, "DELETE", path.data, NULL, &status, &resp, errstr, errstr_size) != 0)
        goto done;
    if (status != 200 && status != 404) {
        char reason[300];
        error_reason(&resp, reason, sizeof(reason));
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: deleting index %s (truncate) failed: HTTP %ld %s", ix->name,
                 status, reason);
        goto done;
    }
    if (http_sync_retry(es, "PUT", path.data, body.data, &status, &resp, errstr, errstr_size) != 0)
        goto done;
    if (status != 200) {
        char reason[300];
        error_reason(&resp, reason, sizeof(reason));
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: re-creating index %s (truncate) failed: HTTP %ld %s",
                 ix->name, status, reason);
        goto done;
    }
    pgcdc_log_info(LOG, "truncate: cleared index %s (re-created with its mappings and settings)",
                   ix->name);
    rc = 0;
done:
    json_decref(j);
    json_decref(create);
    pgcdc_buf_free(&resp);
    pgcdc_buf_free(&path);
    pgcdc_buf_free(&body);
    return rc;
}

/* ---------- the vtable ---------- */

static void es_close(pgcdc_sink *sink, void *state);

/* URL without "user:password@", for messages. */
static char *redact_url(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    if (!at || (slash && slash < at))
        return strdup(url);
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_append(&b, url, (size_t)(host - url));
    pgcdc_buf_puts(&b, at + 1);
    return b.data;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Reads a whole small file into a NUL-terminated string. */
static char *read_file(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: cannot read elasticsearch.mapping.file %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    pgcdc_buf b = PGCDC_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        pgcdc_buf_append(&b, chunk, n);
    fclose(f);
    json_error_t jerr;
    json_t *j = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
    if (!json_is_object(j)) {
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: elasticsearch.mapping.file %s is not a JSON object (line "
                 "%d: %s); it holds the body of the index creation request, e.g. "
                 "{\"mappings\":{\"properties\":{...}}}",
                 path, jerr.line, j ? "not an object" : jerr.text);
        json_decref(j);
        pgcdc_buf_free(&b);
        return NULL;
    }
    json_decref(j);
    return b.data;
}

/* URL, redacted URL and headers (with the API key) of a sink or a check. */
static int conn_init(es_sink *es, const pgcdc_config *cfg)
{
    es->cfg = cfg;
    es->url = strdup(cfg->es_url);
    es->shown = redact_url(cfg->es_url);
    es->hdr_json = curl_slist_append(NULL, "Content-Type: application/json");
    es->hdr_ndjson = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    if (!es->url || !es->shown || !es->hdr_json || !es->hdr_ndjson)
        return -1;
    size_t ul = strlen(es->url);
    while (ul && es->url[ul - 1] == '/')
        es->url[--ul] = 0;
    if (cfg->es_api_key && *cfg->es_api_key) {
        pgcdc_buf h = PGCDC_BUF_INIT;
        PGCDC_BUF_LIT(&h, "Authorization: ApiKey ");
        if (strchr(cfg->es_api_key, ':')) {
            /* id:api_key: the header wants it base64-encoded */
            pgcdc_buf enc = PGCDC_BUF_INIT;
            pgcdc_json_base64(&enc, (const unsigned char *)cfg->es_api_key,
                              strlen(cfg->es_api_key));
            pgcdc_buf_append(&h, enc.data + 1, enc.len - 2);
            explicit_bzero(enc.data, enc.len);
            pgcdc_buf_free(&enc);
        } else {
            pgcdc_buf_puts(&h, cfg->es_api_key);
        }
        es->hdr_json = curl_slist_append(es->hdr_json, h.data);
        es->hdr_ndjson = curl_slist_append(es->hdr_ndjson, h.data);
        explicit_bzero(h.data, h.len);
        pgcdc_buf_free(&h);
    }
    pthread_once(&curl_once, curl_init_once);
    return 0;
}

static void conn_free(es_sink *es)
{
    curl_slist_free_all(es->hdr_json);
    curl_slist_free_all(es->hdr_ndjson);
    free(es->url);
    free(es->shown);
}

/* GET /: reachable, credentials accepted, really Elasticsearch. */
static int conn_check(es_sink *es, char *info, size_t info_size, char *errstr, size_t errstr_size)
{
    pgcdc_buf resp = PGCDC_BUF_INIT;
    long status;
    char err[512];
    int rc = -1;
    if (http_sync(es, "GET", "/", NULL, &status, &resp, err, sizeof(err)) != 0) {
        const char *why = strstr(err, ": ");
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: cannot reach elasticsearch.url=%s: %s (check the address, "
                 "that Elasticsearch runs%s)",
                 es->shown, why ? why + 2 : err,
                 strncmp(es->url, "https", 5) ? ""
                                              : ", and that elasticsearch.ca.file holds the CA "
                                                "that signed its certificate");
    } else if (status == 401 || status == 403) {
        snprintf(errstr, errstr_size, "elasticsearch sink: %s answered HTTP %ld: %s", es->shown,
                 status, auth_hint(status));
    } else if (status != 200) {
        char reason[300];
        error_reason(&resp, reason, sizeof(reason));
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: %s answered HTTP %ld to GET / (%s): is elasticsearch.url "
                 "the Elasticsearch REST endpoint?",
                 es->shown, status, reason);
    } else {
        json_t *j = json_loadb(resp.data, resp.len, 0, NULL);
        json_t *ver = json_object_get(j, "version");
        const char *num = json_string_value(json_object_get(ver, "number"));
        const char *dist = json_string_value(json_object_get(ver, "distribution"));
        if (!num) {
            snprintf(errstr, errstr_size,
                     "elasticsearch sink: %s does not look like Elasticsearch (GET / has no "
                     "version.number)",
                     es->shown);
        } else {
            snprintf(info, info_size, "%s %s at %s",
                     dist && !strcmp(dist, "opensearch") ? "OpenSearch" : "Elasticsearch", num,
                     es->shown);
            rc = 0;
        }
        json_decref(j);
    }
    pgcdc_buf_free(&resp);
    return rc;
}

int pgcdc_es_connect_check(const pgcdc_config *cfg, char *info, size_t info_size, char *errstr,
                           size_t errstr_size)
{
    es_sink tmp;
    memset(&tmp, 0, sizeof(tmp));
    int rc = -1;
    if (conn_init(&tmp, cfg) != 0)
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
    else
        rc = conn_check(&tmp, info, info_size, errstr, errstr_size);
    conn_free(&tmp);
    return rc;
}

static int es_open(pgcdc_sink *sink, const pgcdc_config *cfg, void **state, char *errstr,
                   size_t errstr_size)
{
    char info[256];
    es_sink *es = calloc(1, sizeof(*es));
    if (!es) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        return -1;
    }
    es->sink = sink;
    es->dlq_fd = -1;
    pgcdc_buf dlq = PGCDC_BUF_INIT;
    if (cfg->es_dead_letter_file && *cfg->es_dead_letter_file)
        pgcdc_buf_puts(&dlq, cfg->es_dead_letter_file);
    else
        pgcdc_buf_printf(&dlq, "%s/elasticsearch.dead-letter.jsonl", cfg->data_dir);
    es->dlq_path = dlq.data;
    if (conn_init(es, cfg) != 0 || !(es->multi = curl_multi_init())) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        goto fail;
    }
    /* fail fast, before anything is read from the source, when the cluster
     * cannot be reached or refuses the credentials */
    if (conn_check(es, info, sizeof(info), errstr, errstr_size) != 0)
        goto fail;
    if (cfg->es_mapping_file && *cfg->es_mapping_file &&
        !(es->mapping_body = read_file(cfg->es_mapping_file, errstr, errstr_size)))
        goto fail;
    curl_multi_setopt(es->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg->es_max_in_flight);
    pgcdc_log_info(
        LOG, "writing to %s (bulk: %d actions / %lld bytes, %d in flight; dead letters: %s)", info,
        cfg->es_bulk_max_actions, cfg->es_bulk_max_bytes, cfg->es_max_in_flight, es->dlq_path);
    *state = es;
    return 0;
fail:
    es_close(sink, es);
    return -1;
}

/* Appends the action line for `act` (and the document) to the request being filled. */
static int add_action(es_sink *es, tracker *t, es_topic *tp, const pgcdc_es_action *act,
                      char *errstr, size_t errstr_size)
{
    if (!es->cur && !(es->cur = req_new(es))) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        return -1;
    }
    es_req *r = es->cur;
    size_t start = r->body.len;
    pgcdc_buf *b = &r->body;
    if (act->op == PGCDC_ES_INDEX)
        PGCDC_BUF_LIT(b, "{\"index\":{\"_index\":");
    else
        PGCDC_BUF_LIT(b, "{\"delete\":{\"_index\":");
    pgcdc_json_cstr(b, tp->index->name);
    PGCDC_BUF_LIT(b, ",\"_id\":");
    pgcdc_json_str(b, es->id.data, es->id.len);
    if (act->has_version) {
        PGCDC_BUF_LIT(b, ",\"version_type\":\"external\",\"version\":");
        pgcdc_buf_put_u64(b, act->version);
    } else if (!tp->warned_no_version) {
        tp->warned_no_version = 1;
        pgcdc_log_warn(LOG,
                       "records of topic %s carry no source.lsn: their documents are written "
                       "without version checks, so a replay can briefly show older rows",
                       tp->topic);
    }
    PGCDC_BUF_LIT(b, "}}\n");
    if (act->op == PGCDC_ES_INDEX) {
        pgcdc_buf_append(b, es->doc.data, es->doc.len);
        pgcdc_buf_putc(b, '\n');
    }
    if (req_add_item(r, t, start) != 0) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        return -1;
    }
    if (r->nitems >= (size_t)es->cfg->es_bulk_max_actions ||
        r->body.len >= (size_t)es->cfg->es_bulk_max_bytes)
        return submit(es, errstr, errstr_size);
    return 0;
}

static int es_write_batch(pgcdc_sink *sink, void *state, const pgcdc_batch *batch, char *errstr,
                          size_t errstr_size)
{
    (void)sink;
    es_sink *es = state;
    tracker *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        return -1;
    }
    t->seq = batch->seq;
    if (es->tail)
        es->tail->next = t;
    else
        es->head = t;
    es->tail = t;
    size_t off = 0;
    pgcdc_record rec;
    while (pgcdc_batch_next(batch, &off, &rec)) {
        pgcdc_es_action act;
        pgcdc_buf_reset(&es->id);
        pgcdc_buf_reset(&es->doc);
        es_topic *tp = topic_find(es, &rec);
        if (!tp) {
            /* a new topic: its index name may need source.schema/table, so
             * the record is read once before the topic (and its schema
             * cache) exists; topics without row events never get one */
            if (!rec.value)
                continue;
            pgcdc_es_schema scratch;
            memset(&scratch, 0, sizeof(scratch));
            int rc = pgcdc_es_doc_build(&rec, &scratch, &es->tmp, &es->id, &es->doc, &act, errstr,
                                        errstr_size);
            pgcdc_es_schema_free(&scratch);
            pgcdc_buf_reset(&es->id);
            pgcdc_buf_reset(&es->doc);
            if (rc != 0)
                return -1;
            if (act.op == PGCDC_ES_SKIP)
                continue;
            if (!(tp = topic_add(es, &rec, &act))) {
                snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
                return -1;
            }
        }
        if (pgcdc_es_doc_build(&rec, &tp->schema, &es->tmp, &es->id, &es->doc, &act, errstr,
                               errstr_size) != 0)
            return -1;
        if (act.op == PGCDC_ES_SKIP)
            continue;
        if (act.op == PGCDC_ES_TRUNCATE) {
            if (es->cfg->es_truncate_ignore)
                continue;
            if (drain(es, errstr, errstr_size) != 0 ||
                index_clear(es, tp->index, errstr, errstr_size) != 0)
                return -1;
            continue;
        }
        if (index_ensure(es, tp, errstr, errstr_size) != 0)
            return -1;
        if (add_action(es, t, tp, &act, errstr, errstr_size) != 0)
            return -1;
    }
    t->complete = 1;
    return serve(es, 0, errstr, errstr_size);
}

static int es_flush(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size)
{
    (void)sink;
    es_sink *es = state;
    if (submit(es, errstr, errstr_size) != 0)
        return -1;
    return serve(es, 0, errstr, errstr_size);
}

static int es_poll(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size)
{
    (void)sink;
    return serve(state, 50, errstr, errstr_size);
}

static void es_close(pgcdc_sink *sink, void *state)
{
    (void)sink;
    es_sink *es = state;
    /* whatever is not acknowledged is sent again by the next start */
    while (es->active) {
        es_req *r = es->active;
        es->active = r->next;
        if (r->easy)
            curl_multi_remove_handle(es->multi, r->easy);
        req_free(r);
    }
    if (es->cur)
        req_free(es->cur);
    while (es->spare) {
        es_req *r = es->spare;
        es->spare = r->next;
        req_free(r);
    }
    while (es->head) {
        tracker *t = es->head;
        es->head = t->next;
        free(t);
    }
    for (size_t i = 0; i < es->ntopics; i++) {
        free(es->topics[i].topic);
        pgcdc_es_schema_free(&es->topics[i].schema);
    }
    free(es->topics);
    for (size_t i = 0; i < es->nindexes; i++) {
        free(es->indexes[i]->name);
        free(es->indexes[i]);
    }
    free(es->indexes);
    if (es->multi)
        curl_multi_cleanup(es->multi);
    conn_free(es);
    if (es->dlq_fd >= 0)
        close(es->dlq_fd);
    if (es->dlq_count)
        pgcdc_log_warn(LOG, "%llu document(s) went to the dead-letter file %s",
                       (unsigned long long)es->dlq_count, es->dlq_path);
    pgcdc_buf_free(&es->id);
    pgcdc_buf_free(&es->doc);
    pgcdc_buf_free(&es->tmp);
    pgcdc_buf_free(&es->name);
    free(es->dlq_path);
    free(es->mapping_body);
    free(es);
}

const pgcdc_sink_type pgcdc_sink_elasticsearch = {
    .name = "elasticsearch",
    .open = es_open,
    .write_batch = es_write_batch,
    .flush = es_flush,
    .poll = es_poll,
    .close = es_close,
};
