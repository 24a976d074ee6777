/*
 * s3.h - a small client for S3-compatible object stores (AWS S3, MinIO, ...).
 *
 * What the data-lake sink needs and nothing more: PUT (from memory or
 * streamed from a file descriptor, optionally "only if absent"), bounded GET,
 * HEAD, DELETE, a flat LIST, and multipart uploads for large files. HTTP and
 * TLS are libcurl's, requests are signed with AWS Signature V4 by libcurl
 * (CURLOPT_AWS_SIGV4) and every payload is hashed (x-amz-content-sha256), so
 * a body corrupted in transit is rejected by the server.
 *
 * Errors: every call returns PGCDC_S3_OK, PGCDC_S3_ERR with a message in
 * errstr, or one of the expected outcomes below. Transient failures
 * (connection errors, timeouts, HTTP 5xx, 429, SlowDown) are retried with
 * exponential backoff until the operation's retry budget
 * (pgcdc_s3_config.retry_max_ms) is spent; then the message names the
 * endpoint and how long it was tried. Bad credentials, a missing bucket and
 * denied access are not retried: their messages name the credential source
 * or the bucket. Credentials never appear in messages or logs.
 *
 * Threads: a client holds one libcurl handle (its connections are reused)
 * and scratch buffers, so it must be used by one thread at a time; give
 * each sink thread its own client. Clients on different threads are
 * independent (libcurl's global init happens once, under pthread_once).
 */
#ifndef PGCDC_COMMON_S3_H
#define PGCDC_COMMON_S3_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Return codes. The positive ones are answers, not failures: errstr is
 * left alone. */
enum {
    PGCDC_S3_ERR = -1,
    PGCDC_S3_OK = 0,
    PGCDC_S3_NOT_FOUND = 1, /* GET/HEAD: no such key */
    PGCDC_S3_EXISTS = 2,    /* conditional PUT: the key exists already */
};

/* PUT flags. */
#define PGCDC_S3_IF_NONE_MATCH 1u /* create only: fail with PGCDC_S3_EXISTS if present */

/* Addressing: path style puts the bucket in the path (endpoint/bucket/key,
 * what MinIO and most S3-compatible servers want); virtual-host style in the
 * host name (bucket.endpoint/key, AWS's default). AUTO: virtual host for
 * AWS's own endpoint, path style for any endpoint given explicitly and for
 * bucket names with dots (they break TLS wildcard certificates). */
typedef enum {
    PGCDC_S3_STYLE_AUTO = 0,
    PGCDC_S3_STYLE_PATH,
    PGCDC_S3_STYLE_VHOST,
} pgcdc_s3_style;

/*
 * What a client connects to and with which credentials. Strings are
 * borrowed: pgcdc_s3_client_new copies what it needs, so the config may be
 * freed afterwards. NULL or "" means "not set".
 */
typedef struct pgcdc_s3_config {
    const char *endpoint; /* "http(s)://host[:port]"; unset: https://s3.<region>.amazonaws.com */
    const char *region;   /* unset: us-east-1 */
    const char *bucket;   /* required */
    const char *prefix;   /* prepended to every key ("lake/" -> "lake/<key>"); may be unset */
    pgcdc_s3_style style;
    const char *access_key; /* required */
    const char *secret_key; /* required */
    const char *session_token;
    /* Where the credentials came from, named in authentication errors so the
     * user knows what to fix ("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
     * "sink.lake.s3.access.key.id"...). */
    const char *credential_source;
    /* Names of the settings for endpoint and bucket, for messages (unset:
     * "endpoint", "bucket"). */
    const char *endpoint_key;
    const char *bucket_key;
    long retry_max_ms;       /* total retry budget of one operation; <= 0: 120000 */
    long connect_timeout_ms; /* <= 0: 10000 */
    /* A transfer making no progress for this long is aborted (and retried);
     * <= 0: 60000. */
    long stall_timeout_ms;
    size_t part_size;   /* multipart part size of pgcdc_s3_put_file; 0: 8 MiB, min 5 MiB */
    int list_page_size; /* objects per LIST request; 0: the server's default (1000) */
} pgcdc_s3_config;

/*
 * Fills the unset endpoint, region, access_key, secret_key, session_token
 * (and credential_source) of cfg from the environment: AWS_ENDPOINT_URL_S3
 * or AWS_ENDPOINT_URL, AWS_REGION or AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. The strings point into the
 * environment (valid until it changes). Credentials are taken as a pair
 * only: an access key set in cfg is never matched with a secret from the
 * environment.
 */
void pgcdc_s3_config_from_env(pgcdc_s3_config *cfg);

/*
 * Splits "s3://bucket/prefix" (also s3a://) into a bucket and a prefix
 * (no leading '/', ending in '/' unless empty). *bucket and *prefix are
 * malloc'd, the caller frees them. Bucket names are checked against S3's
 * rules (3-63 characters of a-z 0-9 . -, starting and ending with a letter
 * or digit). Returns 0, or -1 with errstr (naming `what`, the setting the
 * URL came from).
 */
int pgcdc_s3_url_parse(const char *url, const char *what, char **bucket, char **prefix,
                       char *errstr, size_t errstr_size);

/* Whether s is an s3:// or s3a:// URL (as opposed to a local path). */
int pgcdc_s3_is_url(const char *s);

typedef struct pgcdc_s3_client pgcdc_s3_client;

/* Creates a client; checks the config (endpoint URL, bucket name,
 * credentials present) but does not connect. NULL with errstr on error. */
pgcdc_s3_client *pgcdc_s3_client_new(const pgcdc_s3_config *cfg, char *errstr, size_t errstr_size);
void pgcdc_s3_client_free(pgcdc_s3_client *c);

/* "s3://bucket/prefix" of the client, for messages. */
const char *pgcdc_s3_client_url(const pgcdc_s3_client *c);

/*
 * PUT of len bytes from data at key (relative to the prefix). flags:
 * PGCDC_S3_IF_NONE_MATCH makes it a create: PGCDC_S3_EXISTS if the key is
 * there (HTTP 412). A create that is retried after an attempt whose outcome
 * was unknown (connection lost after sending) and then finds the key
 * compares the stored object with data: equal means it was our own write,
 * and the result is PGCDC_S3_OK. Returns PGCDC_S3_OK once the server
 * confirmed the object is stored.
 */
int pgcdc_s3_put(pgcdc_s3_client *c, const char *key, const void *data, size_t len, unsigned flags,
                 char *errstr, size_t errstr_size);

/*
 * PUT of len bytes of file descriptor fd starting at offset, read with
 * pread (the fd's position is not used or changed; a retry reads again),
 * so the object need not fit in memory. The bytes must not change during
 * the call. Same flags and results as pgcdc_s3_put, except that a create
 * finding the key after an unknown outcome reports PGCDC_S3_EXISTS.
 * Objects above 5 GiB need pgcdc_s3_put_file.
 */
int pgcdc_s3_put_fd(pgcdc_s3_client *c, const char *key, int fd, uint64_t offset, uint64_t len,
                    unsigned flags, char *errstr, size_t errstr_size);

/*
 * Uploads the first len bytes of fd at key: one PUT up to the part size,
 * else a multipart upload of part_size parts (aborted on failure, so no
 * parts are left behind to be billed, as far as the server is reachable).
 */
int pgcdc_s3_put_file(pgcdc_s3_client *c, const char *key, int fd, uint64_t len, char *errstr,
                      size_t errstr_size);

/* GET of key into out (reset first). An object larger than max_len is an
 * error, checked before it is downloaded. PGCDC_S3_NOT_FOUND if absent. */
int pgcdc_s3_get(pgcdc_s3_client *c, const char *key, pgcdc_buf *out, size_t max_len, char *errstr,
                 size_t errstr_size);

/* GET of key streamed into file descriptor fd (truncated first, also
 * before a retry), so an object of any size costs no memory; *len is its
 * size. fd must be > 0. PGCDC_S3_NOT_FOUND if absent. */
int pgcdc_s3_get_fd(pgcdc_s3_client *c, const char *key, int fd, uint64_t *len, char *errstr,
                    size_t errstr_size);

typedef struct pgcdc_s3_object {
    const char *key; /* relative to the client's prefix */
    uint64_t size;
    const char *etag; /* as the server sent it, quotes included */
    const char *last_modified;
} pgcdc_s3_object;

/* HEAD of key: size and ETag into *info (strings valid until the next call
 * on c). PGCDC_S3_NOT_FOUND if absent. */
int pgcdc_s3_head(pgcdc_s3_client *c, const char *key, pgcdc_s3_object *info, char *errstr,
                  size_t errstr_size);

/* DELETE of key; deleting a missing key succeeds (S3 semantics). */
int pgcdc_s3_delete(pgcdc_s3_client *c, const char *key, char *errstr, size_t errstr_size);

/* Called once per object of a listing; a non-zero return stops it (and
 * pgcdc_s3_list returns that value). The object's strings are valid during
 * the call only. */
typedef int (*pgcdc_s3_list_cb)(void *ctx, const pgcdc_s3_object *obj);

/*
 * Lists every object whose key starts with prefix (relative to the
 * client's prefix; "" lists all), in key order, page by page
 * (ListObjectsV2 with continuation tokens), so memory stays bounded.
 */
int pgcdc_s3_list(pgcdc_s3_client *c, const char *prefix, pgcdc_s3_list_cb cb, void *ctx,
                  char *errstr, size_t errstr_size);

/* Multipart upload, step by step (pgcdc_s3_put_file does all of it). The
 * upload id is malloc'd (caller frees); part numbers run from 1 to 10000;
 * etags collects each part's ETag for the completion. */
typedef struct pgcdc_s3_parts {
    char **etags; /* etags[i] is part i+1's */
    int n, cap;
} pgcdc_s3_parts;

void pgcdc_s3_parts_free(pgcdc_s3_parts *parts);
int pgcdc_s3_multipart_begin(pgcdc_s3_client *c, const char *key, char **upload_id, char *errstr,
                             size_t errstr_size);
/* Uploads part number parts->n + 1 from fd [offset, offset + len) and
 * appends its ETag to parts. */
int pgcdc_s3_multipart_part(pgcdc_s3_client *c, const char *key, const char *upload_id, int fd,
                            uint64_t offset, uint64_t len, pgcdc_s3_parts *parts, char *errstr,
                            size_t errstr_size);
int pgcdc_s3_multipart_complete(pgcdc_s3_client *c, const char *key, const char *upload_id,
                                const pgcdc_s3_parts *parts, char *errstr, size_t errstr_size);
int pgcdc_s3_multipart_abort(pgcdc_s3_client *c, const char *key, const char *upload_id,
                             char *errstr, size_t errstr_size);

/* ---- pure helpers, exposed for the unit tests ---- */

/* Appends s URI-encoded the AWS way (unreserved A-Z a-z 0-9 - . _ ~ kept,
 * everything else %XX); '/' is kept when keep_slash. */
void pgcdc_s3_uri_encode(pgcdc_buf *out, const char *s, size_t len, int keep_slash);

/*
 * Text of the first <tag>...</tag> element inside xml[0, len), entities
 * decoded, into out (reset first). Returns 1 if found, 0 if not, -1 if the
 * element is malformed (unterminated). Not a general XML parser: S3's
 * responses are flat and escaped, which is all this reads.
 */
int pgcdc_s3_xml_text(const char *xml, size_t len, const char *tag, pgcdc_buf *out);

/*
 * Parses one ListObjectsV2 page: calls cb for each <Contents> (keys with
 * strip_len leading bytes removed, the client prefix), sets *truncated and
 * next_token (reset first) from IsTruncated and NextContinuationToken.
 * Returns 0, the callback's non-zero value, or -1 with errstr for a page
 * that cannot be read.
 */
int pgcdc_s3_parse_list(const char *xml, size_t len, size_t strip_len, pgcdc_s3_list_cb cb,
                        void *ctx, int *truncated, pgcdc_buf *next_token, char *errstr,
                        size_t errstr_size);

/* How an HTTP answer is handled. */
typedef enum {
    PGCDC_S3_FAIL = 0, /* permanent: report */
    PGCDC_S3_RETRY,    /* transient: back off and try again */
} pgcdc_s3_disposition;

/* What an error message names besides the HTTP answer. */
typedef struct pgcdc_s3_errctx {
    const char *op;                /* "PUT s3://bucket/key" */
    const char *endpoint;          /* "http://127.0.0.1:9000" */
    const char *bucket;            /* "lake" */
    const char *bucket_key;        /* the setting naming the bucket */
    const char *credential_source; /* where the credentials came from */
} pgcdc_s3_errctx;

/*
 * Classifies a failed request from its HTTP status and S3 error code (code
 * and message may be NULL or "") and writes the user's message into errstr.
 * Pure: the unit tests call it directly.
 */
pgcdc_s3_disposition pgcdc_s3_classify(long status, const char *code, const char *message,
                                       const pgcdc_s3_errctx *ctx, char *errstr,
                                       size_t errstr_size);

#endif
