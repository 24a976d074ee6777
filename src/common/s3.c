/*
 * s3.c - a small S3 client over libcurl with AWS Signature V4 (see s3.h).
 *
 * libcurl signs (CURLOPT_AWS_SIGV4). Debian 12's libcurl 7.88 signs the
 * path and the query exactly as they are sent and every header we add, so
 * this file sends them already canonical: keys URI-encoded the AWS way,
 * query parameters sorted and encoded, header names lower-case. Newer
 * libcurls normalise, which leaves canonical input unchanged. The payload
 * hash is always ours (x-amz-content-sha256), because 7.88 only hashes
 * POST fields by itself.
 */
#include "common/fsutil.h"
#include "common/s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define LOG "s3"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MIB ((size_t)1 << 20)
#define MIN_PART_SIZE (5 * MIB)
#define MAX_PARTS 10000
#define MAX_KEY_LEN 1024
/* Error bodies are short XML documents; anything longer is cut. */
#define ERROR_BODY_MAX (64 * 1024)
/* Control answers (list pages, upload ids, completion results). */
#define CONTROL_BODY_MAX (16 * MIB)
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

struct pgcdc_s3_client {
    CURL *curl;
    char *endpoint;    /* "http://host:port", for messages */
    char *bucket_url;  /* URL of the bucket, no trailing '/' */
    char *object_base; /* bucket_url + "/" for path style, else the same */
    char *bucket, *prefix, *region, *access_key, *secret_key;
    char *token_header; /* "x-amz-security-token: ..." or NULL */
    char *cred_source, *bucket_key, *url;
    char sigv4[128];
    long retry_max_ms, connect_timeout_ms, stall_timeout_ms;
    size_t part_size;
    int list_page_size;
    unsigned seed;
    unsigned char *io; /* hashing buffer, PART of a file at a time */
    pgcdc_buf urlbuf, keybuf, resp, tmp, op;
    char curl_err[CURL_ERROR_SIZE];
    /* Per request, filled by the callbacks. */
    long status;
    char etag[256];
    char last_modified[64];
    char hdr_code[100]; /* X-Minio-Error-Code: the code of a body-less (HEAD) error */
    uint64_t content_length;
    int have_length;
    pgcdc_buf *out; /* where a 2xx body goes (NULL: resp) */
    size_t out_max;
    int out_fd; /* GET to a file: -1 when not */
    uint64_t out_fd_len;
    int out_fd_errno;
    int too_large;
    /* Body being sent. */
    const char *src_mem;
    int src_fd;
    uint64_t src_off, src_len, src_pos;
    int src_errno;
    /* Whether an attempt of the current operation may have reached the
     * server without us seeing the answer. */
    int uncertain;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---------------------------------------------------------------- config */

static int set(const char *s)
{
    return s && *s;
}

void pgcdc_s3_config_from_env(pgcdc_s3_config *cfg)
{
    if (!set(cfg->endpoint))
        cfg->endpoint = set(getenv("AWS_ENDPOINT_URL_S3")) ? getenv("AWS_ENDPOINT_URL_S3")
                                                           : getenv("AWS_ENDPOINT_URL");
    if (!set(cfg->region))
        cfg->region =
            set(getenv("AWS_REGION")) ? getenv("AWS_REGION") : getenv("AWS_DEFAULT_REGION");
    if (!set(cfg->access_key) && !set(cfg->secret_key) && set(getenv("AWS_ACCESS_KEY_ID"))) {
        cfg->access_key = getenv("AWS_ACCESS_KEY_ID");
        cfg->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
        if (!set(cfg->session_token))
            cfg->session_token = getenv("AWS_SESSION_TOKEN");
        cfg->credential_source = set(cfg->session_token)
                                     ? "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
                                       "AWS_SESSION_TOKEN in the environment"
                                     : "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                                       "environment";
    }
}

int pgcdc_s3_is_url(const char *s)
{
    return s && (!strncmp(s, "s3://", 5) || !strncmp(s, "s3a://", 6));
}

/* S3's bucket naming rules; returns a reason or NULL. */
static const char *bucket_problem(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return "must be 3 to 63 characters long";
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '.' || ch == '-'))
            return "may contain only lower-case letters, digits, '.' and '-'";
    }
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return "must start and end with a letter or a digit";
    if (memmem(b, n, "..", 2))
        return "must not contain \"..\"";
    return NULL;
}

int pgcdc_s3_url_parse(const char *url, const char *what, char **bucket, char **prefix,
                       char *errstr, size_t errstr_size)
{
    *bucket = *prefix = NULL;
    if (!pgcdc_s3_is_url(url)) {
        snprintf(errstr, errstr_size, "%s: \"%s\" is not an S3 URL (expected s3://bucket/prefix)",
                 what, url ? url : "");
        return -1;
    }
    const char *b = strstr(url, "://") + 3;
    size_t blen = strcspn(b, "/");
    const char *why = bucket_problem(b, blen);
    if (why) {
        snprintf(errstr, errstr_size, "%s: bucket name \"%.*s\" in \"%s\" %s", what, (int)blen, b,
                 url, why);
        return -1;
    }
    const char *p = b + blen;
    while (*p == '/')
        p++;
    size_t plen = strlen(p);
    while (plen && p[plen - 1] == '/')
        plen--;
    if (plen > MAX_KEY_LEN / 2) {
        snprintf(errstr, errstr_size, "%s: prefix in \"%s\" is longer than %d bytes", what, url,
                 MAX_KEY_LEN / 2);
        return -1;
    }
    if (memmem(p, plen, "//", 2)) {
        snprintf(errstr, errstr_size, "%s: prefix in \"%s\" has an empty path segment (\"//\")",
                 what, url);
        return -1;
    }
    *bucket = strndup(b, blen);
    *prefix = malloc(plen + 2);
    if (!*bucket || !*prefix) {
        free(*bucket);
        free(*prefix);
        *bucket = *prefix = NULL;
        snprintf(errstr, errstr_size, "%s: out of memory", what);
        return -1;
    }
    memcpy(*prefix, p, plen);
    if (plen)
        (*prefix)[plen++] = '/';
    (*prefix)[plen] = 0;
    return 0;
}

/* ------------------------------------------------------------- encoding */

void pgcdc_s3_uri_encode(pgcdc_buf *out, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
            (ch == '/' && keep_slash)) {
            pgcdc_buf_putc(out, (char)ch);
        } else {
            char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            pgcdc_buf_append(out, esc, 3);
        }
    }
}

static void xml_escape(pgcdc_buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            PGCDC_BUF_LIT(out, "&amp;");
            break;
        case '<':
            PGCDC_BUF_LIT(out, "&lt;");
            break;
        case '>':
            PGCDC_BUF_LIT(out, "&gt;");
            break;
        case '"':
            PGCDC_BUF_LIT(out, "&quot;");
            break;
        default:
            pgcdc_buf_putc(out, *s);
        }
    }
}

static void put_utf8(pgcdc_buf *out, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    pgcdc_buf_append(out, u, n);
}

/* Decodes XML text (the five named entities and numeric references) into
 * out; -1 on a malformed or unknown reference. */
static int xml_unescape(pgcdc_buf *out, const char *s, size_t len)
{
    static const struct {
        const char *name;
        char ch;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    const char *end = s + len;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        if (!amp) {
            pgcdc_buf_append(out, s, (size_t)(end - s));
            break;
        }
        pgcdc_buf_append(out, s, (size_t)(amp - s));
        const char *semi = memchr(amp, ';', (size_t)(end - amp));
        if (!semi || semi - amp > 12)
            return -1;
        const char *ent = amp + 1;
        size_t elen = (size_t)(semi - ent);
        int done = 0;
        for (size_t i = 0; i < sizeof(named) / sizeof(named[0]) && !done; i++) {
            if (strlen(named[i].name) == elen && !memcmp(named[i].name, ent, elen)) {
                pgcdc_buf_putc(out, named[i].ch);
                done = 1;
            }
        }
        if (!done) {
            if (elen < 2 || ent[0] != '#')
                return -1;
            int base = 10;
            const char *d = ent + 1;
            if (*d == 'x' || *d == 'X') {
                base = 16;
                d++;
            }
            unsigned long cp = 0;
            if (d == semi)
                return -1;
            for (; d < semi; d++) {
                int v = isdigit((unsigned char)*d)                    ? *d - '0'
                        : (base == 16 && isxdigit((unsigned char)*d)) ? tolower(*d) - 'a' + 10
                                                                      : -1;
                if (v < 0)
                    return -1;
                cp = cp * (unsigned long)base + (unsigned long)v;
                if (cp > 0x10FFFF)
                    return -1;
            }
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
                return -1;
            put_utf8(out, cp);
        }
        s = semi + 1;
    }
    return 0;
}

/* Finds the first <tag>...</tag> in [xml, xml+len): *body and *body_len
 * are the raw text. 1 found, 0 absent, -1 unterminated. */
static int xml_find(const char *xml, size_t len, const char *tag, const char **body,
                    size_t *body_len)
{
    char open[80], close[80], empty[80];
    size_t tl = strlen(tag);
    if (tl + 4 > sizeof(open))
        return -1;
    int on = snprintf(open, sizeof(open), "<%s>", tag);
    int cn = snprintf(close, sizeof(close), "</%s>", tag);
    int en = snprintf(empty, sizeof(empty), "<%s/>", tag);
    const char *o = memmem(xml, len, open, (size_t)on);
    const char *e = memmem(xml, len, empty, (size_t)en);
    if (e && (!o || e < o)) {
        *body = e + en;
        *body_len = 0;
        return 1;
    }
    if (!o)
        return 0;
    const char *start = o + on;
    const char *c = memmem(start, (size_t)(xml + len - start), close, (size_t)cn);
    if (!c)
        return -1;
    *body = start;
    *body_len = (size_t)(c - start);
    return 1;
}

int pgcdc_s3_xml_text(const char *xml, size_t len, const char *tag, pgcdc_buf *out)
{
    const char *body;
    size_t blen;
    pgcdc_buf_reset(out);
    pgcdc_buf_append(out, "", 0); /* out->data is a string even when the text is empty */
    int r = xml_find(xml, len, tag, &body, &blen);
    if (r <= 0)
        return r;
    /* Text only: a nested element here is not what S3 sends. */
    if (memchr(body, '<', blen))
        return -1;
    return xml_unescape(out, body, blen) ? -1 : 1;
}

int pgcdc_s3_parse_list(const char *xml, size_t len, size_t strip_len, pgcdc_s3_list_cb cb,
                        void *ctx, int *truncated, pgcdc_buf *next_token, char *errstr,
                        size_t errstr_size)
{
    pgcdc_buf key = PGCDC_BUF_INIT, val = PGCDC_BUF_INIT, etag = PGCDC_BUF_INIT,
              mod = PGCDC_BUF_INIT;
    int rc = -1;
    *truncated = 0;
    pgcdc_buf_reset(next_token);
    if (!memmem(xml, len, "<ListBucketResult", 17)) {
        snprintf(errstr, errstr_size, "not a ListObjectsV2 answer (no <ListBucketResult>)");
        goto out;
    }
    const char *p = xml, *end = xml + len;
    for (;;) {
        const char *body;
        size_t blen;
        int r = xml_find(p, (size_t)(end - p), "Contents", &body, &blen);
        if (r == 0)
            break;
        if (r < 0) {
            snprintf(errstr, errstr_size, "unterminated <Contents> in a listing");
            goto out;
        }
        if (pgcdc_s3_xml_text(body, blen, "Key", &key) != 1 ||
            pgcdc_s3_xml_text(body, blen, "Size", &val) != 1) {
            snprintf(errstr, errstr_size, "a listed object without a readable <Key> or <Size>");
            goto out;
        }
        char *e = NULL;
        errno = 0;
        unsigned long long size = strtoull(val.data, &e, 10);
        if (!val.len || *e || errno || val.data[0] == '-') {
            snprintf(errstr, errstr_size, "listed object \"%.200s\": bad <Size> \"%.40s\"",
                     key.data, val.data);
            goto out;
        }
        if (key.len < strip_len || strlen(key.data) != key.len) {
            snprintf(errstr, errstr_size, "listed object \"%.200s\" is outside the prefix",
                     key.data);
            goto out;
        }
        if (pgcdc_s3_xml_text(body, blen, "ETag", &etag) < 0 ||
            pgcdc_s3_xml_text(body, blen, "LastModified", &mod) < 0) {
            snprintf(errstr, errstr_size, "listed object \"%.200s\": malformed <ETag>", key.data);
            goto out;
        }
        pgcdc_s3_object obj = {.key = key.data + strip_len,
                               .size = size,
                               .etag = etag.data ? etag.data : "",
                               .last_modified = mod.data ? mod.data : ""};
        int stop = cb(ctx, &obj);
        if (stop) {
            rc = stop;
            goto out;
        }
        p = body + blen;
    }
    if (pgcdc_s3_xml_text(xml, len, "IsTruncated", &val) < 0 ||
        pgcdc_s3_xml_text(xml, len, "NextContinuationToken", next_token) < 0) {
        snprintf(errstr, errstr_size, "malformed <IsTruncated> or <NextContinuationToken>");
        goto out;
    }
    *truncated = val.len && !strcmp(val.data, "true");
    if (*truncated && !next_token->len) {
        snprintf(errstr, errstr_size, "a truncated listing without <NextContinuationToken>");
        goto out;
    }
    rc = 0;
out:
    pgcdc_buf_free(&key);
    pgcdc_buf_free(&val);
    pgcdc_buf_free(&etag);
    pgcdc_buf_free(&mod);
    return rc;
}

/* ------------------------------------------------------- error mapping */

static int code_is(const char *code, const char *want)
{
    return code && !strcmp(code, want);
}

pgcdc_s3_disposition pgcdc_s3_classify(long status, const char *code, const char *message,
                                       const pgcdc_s3_errctx *ctx, char *errstr, size_t errstr_size)
{
    const char *src = set(ctx->credential_source) ? ctx->credential_source : "the credentials";
    const char *bkey = set(ctx->bucket_key) ? ctx->bucket_key : "bucket";
    char detail[400];
    snprintf(detail, sizeof(detail), "HTTP %ld%s%s%s%s", status, set(code) ? " " : "",
             set(code) ? code : "", set(message) ? ": " : "", set(message) ? message : "");

    if (code_is(code, "InvalidAccessKeyId")) {
        snprintf(errstr, errstr_size,
                 "%s: the server at %s does not know the access key (%s); check %s", ctx->op,
                 ctx->endpoint, detail, src);
        return PGCDC_S3_FAIL;
    }
    if (code_is(code, "SignatureDoesNotMatch")) {
        snprintf(errstr, errstr_size,
                 "%s: the secret key does not match the access key (%s); check %s", ctx->op, detail,
                 src);
        return PGCDC_S3_FAIL;
    }
    if (code_is(code, "ExpiredToken") || code_is(code, "InvalidToken") ||
        code_is(code, "InvalidTokenId") || code_is(code, "TokenRefreshRequired")) {
        snprintf(errstr, errstr_size, "%s: the session token was refused (%s); check %s", ctx->op,
                 detail, src);
        return PGCDC_S3_FAIL;
    }
    if (code_is(code, "NoSuchBucket")) {
        snprintf(errstr, errstr_size,
                 "%s: bucket \"%s\" does not exist at %s (%s); create it or fix %s", ctx->op,
                 ctx->bucket, ctx->endpoint, detail, bkey);
        return PGCDC_S3_FAIL;
    }
    if (code_is(code, "AuthorizationHeaderMalformed") || code_is(code, "PermanentRedirect") ||
        code_is(code, "IncorrectEndpoint") || status == 301 || status == 307) {
        snprintf(errstr, errstr_size,
                 "%s: bucket \"%s\" is not served by %s in this region (%s); set the region "
                 "(AWS_REGION) or the endpoint the bucket lives at",
                 ctx->op, ctx->bucket, ctx->endpoint, detail);
        return PGCDC_S3_FAIL;
    }
    if (code_is(code, "RequestTimeTooSkewed")) {
        snprintf(errstr, errstr_size,
                 "%s: this machine's clock is too far from the server's (%s); fix the clock",
                 ctx->op, detail);
        return PGCDC_S3_FAIL;
    }
    if (code_is(code, "AccessDenied") || (status == 403 && !set(code))) {
        snprintf(errstr, errstr_size,
                 "%s: access denied (%s); the credentials (%s) may be wrong or lack permission "
                 "on bucket \"%s\"",
                 ctx->op, detail, src, ctx->bucket);
        return PGCDC_S3_FAIL;
    }
    /* Throttling, server trouble and conflicts that a later attempt clears. */
    if (status >= 500 || status == 429 || code_is(code, "SlowDown") ||
        code_is(code, "RequestTimeout") || code_is(code, "InternalError") ||
        code_is(code, "ServiceUnavailable") || code_is(code, "ConditionalRequestConflict") ||
        code_is(code, "OperationAborted") || code_is(code, "XMinioServerNotInitialized")) {
        snprintf(errstr, errstr_size, "%s: server at %s answered %s", ctx->op, ctx->endpoint,
                 detail);
        return PGCDC_S3_RETRY;
    }
    snprintf(errstr, errstr_size, "%s: %s", ctx->op, detail);
    return PGCDC_S3_FAIL;
}

/* libcurl errors worth another attempt: the network or the server may come
 * back. Everything else (bad URL, TLS verification...) stays broken. */
static int curl_transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return 1;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------- client */

static char *dup_or_null(const char *s)
{
    return set(s) ? strdup(s) : NULL;
}

void pgcdc_s3_client_free(pgcdc_s3_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->endpoint);
    free(c->bucket_url);
    free(c->object_base);
    free(c->bucket);
    free(c->prefix);
    free(c->region);
    if (c->secret_key) /* not left behind in freed memory */
        memset(c->secret_key, 0, strlen(c->secret_key));
    free(c->access_key);
    free(c->secret_key);
    if (c->token_header)
        memset(c->token_header, 0, strlen(c->token_header));
    free(c->token_header);
    free(c->cred_source);
    free(c->bucket_key);
    free(c->url);
    free(c->io);
    pgcdc_buf_free(&c->urlbuf);
    pgcdc_buf_free(&c->keybuf);
    pgcdc_buf_free(&c->resp);
    pgcdc_buf_free(&c->tmp);
    pgcdc_buf_free(&c->op);
    free(c);
}

/* Checks "http(s)://host[:port][/]" and returns it without the trailing
 * slash and the position just after "://". */
static char *parse_endpoint(const char *ep, const char *what, size_t *host_at, char *errstr,
                            size_t errstr_size)
{
    size_t at;
    if (!strncasecmp(ep, "https://", 8))
        at = 8;
    else if (!strncasecmp(ep, "http://", 7))
        at = 7;
    else {
        snprintf(errstr, errstr_size,
                 "%s: \"%s\" is not an http:// or https:// URL (example: http://127.0.0.1:9000)",
                 what, ep);
        return NULL;
    }
    size_t len = strlen(ep);
    while (len > at && ep[len - 1] == '/')
        len--;
    size_t hostlen = strcspn(ep + at, "/?#");
    if (hostlen == 0 || at + hostlen < len) {
        snprintf(errstr, errstr_size,
                 "%s: \"%s\" must be scheme://host[:port] only, without a path (the bucket "
                 "and prefix are set separately)",
                 what, ep);
        return NULL;
    }
    if (strpbrk(ep, " \t\r\n@")) {
        snprintf(errstr, errstr_size, "%s: \"%s\" has spaces or user info", what, ep);
        return NULL;
    }
    *host_at = at;
    return strndup(ep, len);
}

pgcdc_s3_client *pgcdc_s3_client_new(const pgcdc_s3_config *cfg, char *errstr, size_t errstr_size)
{
    pgcdc_s3_client *c = NULL;
    const char *ep_key = set(cfg->endpoint_key) ? cfg->endpoint_key : "endpoint";
    const char *bkey = set(cfg->bucket_key) ? cfg->bucket_key : "bucket";
    const char *region = set(cfg->region) ? cfg->region : "us-east-1";
    char aws_ep[200];

    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        snprintf(errstr, errstr_size, "S3: libcurl initialisation failed: %s",
                 curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    if (!set(cfg->bucket)) {
        snprintf(errstr, errstr_size, "S3: no bucket given (%s)", bkey);
        return NULL;
    }
    const char *why = bucket_problem(cfg->bucket, strlen(cfg->bucket));
    if (why) {
        snprintf(errstr, errstr_size, "%s: bucket name \"%s\" %s", bkey, cfg->bucket, why);
        return NULL;
    }
    if (!set(cfg->access_key) || !set(cfg->secret_key)) {
        snprintf(errstr, errstr_size,
                 "S3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY%s%s%s",
                 set(cfg->credential_source) ? " (or " : "",
                 set(cfg->credential_source) ? cfg->credential_source : "",
                 set(cfg->credential_source) ? ")" : "");
        return NULL;
    }
    if (strlen(region) > 60 || strpbrk(region, ": /")) {
        snprintf(errstr, errstr_size, "S3: region \"%s\" is not a region name (example: us-east-1)",
                 region);
        return NULL;
    }
    if (set(cfg->session_token) && strpbrk(cfg->session_token, "\r\n")) {
        snprintf(errstr, errstr_size, "S3: the session token from %s has a line break",
                 set(cfg->credential_source) ? cfg->credential_source : "the configuration");
        return NULL;
    }
    if (strlen(cfg->access_key) > 128) {
        snprintf(errstr, errstr_size, "S3: the access key from %s is longer than 128 characters",
                 set(cfg->credential_source) ? cfg->credential_source : "the configuration");
        return NULL;
    }

    c = calloc(1, sizeof(*c));
    if (!c)
        goto oom;
    c->src_fd = -1;
    const char *ep = cfg->endpoint;
    int explicit_ep = set(ep);
    if (!explicit_ep) {
        snprintf(aws_ep, sizeof(aws_ep), "https://s3.%s.amazonaws.com", region);
        ep = aws_ep;
    }
    size_t host_at;
    c->endpoint = parse_endpoint(ep, ep_key, &host_at, errstr, errstr_size);
    if (!c->endpoint)
        goto fail;
    pgcdc_s3_style style = cfg->style;
    if (style == PGCDC_S3_STYLE_AUTO)
        style =
            (explicit_ep || strchr(cfg->bucket, '.')) ? PGCDC_S3_STYLE_PATH : PGCDC_S3_STYLE_VHOST;
    pgcdc_buf u = PGCDC_BUF_INIT;
    if (style == PGCDC_S3_STYLE_PATH) {
        pgcdc_buf_printf(&u, "%s/%s", c->endpoint, cfg->bucket);
        c->bucket_url = strdup(u.data);
        pgcdc_buf_putc(&u, '/');
        c->object_base = strdup(u.data);
    } else {
        pgcdc_buf_printf(&u, "%.*s%s.%s/", (int)host_at, c->endpoint, cfg->bucket,
                         c->endpoint + host_at);
        c->object_base = strdup(u.data);
        c->bucket_url = strdup(u.data); /* vhost: the bucket's path is "/" */
    }
    pgcdc_buf_free(&u);

    char *ubucket = NULL, *uprefix = NULL;
    if (set(cfg->prefix)) {
        pgcdc_buf url = PGCDC_BUF_INIT;
        pgcdc_buf_printf(&url, "s3://%s/%s", cfg->bucket, cfg->prefix);
        int r = pgcdc_s3_url_parse(url.data, "prefix", &ubucket, &uprefix, errstr, errstr_size);
        pgcdc_buf_free(&url);
        if (r)
            goto fail;
        free(ubucket);
        c->prefix = uprefix;
    } else {
        c->prefix = strdup("");
    }
    c->bucket = strdup(cfg->bucket);
    c->region = strdup(region);
    c->access_key = strdup(cfg->access_key);
    c->secret_key = strdup(cfg->secret_key);
    if (set(cfg->session_token)) {
        pgcdc_buf t = PGCDC_BUF_INIT;
        pgcdc_buf_printf(&t, "x-amz-security-token: %s", cfg->session_token);
        c->token_header = t.data;
    }
    c->cred_source = dup_or_null(cfg->credential_source);
    c->bucket_key = strdup(bkey);
    pgcdc_buf url = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&url, "s3://%s/%s", cfg->bucket, c->prefix);
    c->url = url.data;
    snprintf(c->sigv4, sizeof(c->sigv4), "aws:amz:%s:s3", region);
    c->retry_max_ms = cfg->retry_max_ms > 0 ? cfg->retry_max_ms : 120000;
    c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
    c->stall_timeout_ms = cfg->stall_timeout_ms > 0 ? cfg->stall_timeout_ms : 60000;
    c->part_size = cfg->part_size ? cfg->part_size : 8 * MIB;
    if (c->part_size < MIN_PART_SIZE)
        c->part_size = MIN_PART_SIZE;
    c->list_page_size = cfg->list_page_size > 0 && cfg->list_page_size < 1000
                            ? cfg->list_page_size
                            : 0; /* 0: the server's default, 1000 */
    c->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)c;
    c->io = malloc(MIB);
    c->curl = curl_easy_init();
    if (!c->bucket_url || !c->object_base || !c->prefix || !c->bucket || !c->region ||
        !c->access_key || !c->secret_key || !c->bucket_key || !c->url || !c->io || !c->curl ||
        (set(cfg->credential_source) && !c->cred_source))
        goto oom;
    return c;
oom:
    snprintf(errstr, errstr_size, "S3: out of memory");
fail:
    pgcdc_s3_client_free(c);
    return NULL;
}

const char *pgcdc_s3_client_url(const pgcdc_s3_client *c)
{
    return c->url;
}

/* ------------------------------------------------------------ requests */

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    pgcdc_s3_client *c = ud;
    size_t len = size * n;
    if (len > 5 && !strncmp(p, "HTTP/", 5)) {
        /* A new response (after "100 Continue", say): forget the last one's. */
        const char *sp = memchr(p, ' ', len);
        c->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        c->etag[0] = c->last_modified[0] = c->hdr_code[0] = 0;
        c->have_length = 0;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t name_len = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t vlen = (size_t)(end - v);
    if (name_len == 4 && !strncasecmp(p, "etag", 4) && vlen < sizeof(c->etag)) {
        memcpy(c->etag, v, vlen);
        c->etag[vlen] = 0;
    } else if (name_len == 18 && !strncasecmp(p, "x-minio-error-code", 18) &&
               vlen < sizeof(c->hdr_code)) {
        memcpy(c->hdr_code, v, vlen);
        c->hdr_code[vlen] = 0;
    } else if (name_len == 13 && !strncasecmp(p, "last-modified", 13) &&
               vlen < sizeof(c->last_modified)) {
        memcpy(c->last_modified, v, vlen);
        c->last_modified[vlen] = 0;
    } else if (name_len == 14 && !strncasecmp(p, "content-length", 14)) {
        char num[32];
        if (vlen && vlen < sizeof(num)) {
            memcpy(num, v, vlen);
            num[vlen] = 0;
            char *e;
            c->content_length = strtoull(num, &e, 10);
            c->have_length = !*e;
            if (c->have_length && c->out && c->status / 100 == 2 &&
                c->content_length > c->out_max) {
                c->too_large = 1;
                return 0; /* stop before downloading it */
            }
        }
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    pgcdc_s3_client *c = ud;
    size_t len = size * n;
    if (c->out_fd >= 0 && c->status / 100 == 2) {
        if (pgcdc_write_all(c->out_fd, p, len) != 0) {
            c->out_fd_errno = errno;
            return 0;
        }
        c->out_fd_len += len;
        return len;
    }
    if (c->out && c->status / 100 == 2) {
        if (c->out->len + len > c->out_max) {
            c->too_large = 1;
            return 0;
        }
        pgcdc_buf_append(c->out, p, len);
        return len;
    }
    size_t max = c->status / 100 == 2 ? CONTROL_BODY_MAX : ERROR_BODY_MAX;
    if (c->resp.len + len > max) {
        if (c->status / 100 == 2) {
            c->too_large = 1;
            return 0;
        }
        len = max > c->resp.len ? max - c->resp.len : 0; /* keep the start of an error */
    }
    pgcdc_buf_append(&c->resp, p, len);
    return size * n;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
    pgcdc_s3_client *c = ud;
    uint64_t left = c->src_len - c->src_pos;
    size_t want = size * n;
    if (want > left)
        want = (size_t)left;
    if (!want)
        return 0;
    if (c->src_mem) {
        memcpy(p, c->src_mem + c->src_pos, want);
    } else {
        ssize_t r = pread(c->src_fd, p, want, (off_t)(c->src_off + c->src_pos));
        if (r <= 0) {
            c->src_errno = r < 0 ? errno : EIO;
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)r;
    }
    c->src_pos += want;
    return want;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
    pgcdc_s3_client *c = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > c->src_len)
        return CURL_SEEKFUNC_FAIL;
    c->src_pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static void hex32(char out[65], const unsigned char md[32])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

/* SHA-256 of the body being sent, as hex. Reads the file range through
 * c->io; -1 with errstr if it cannot be read. */
static int body_sha256(pgcdc_s3_client *c, char out[65], char *errstr, size_t errstr_size)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    if (ok && c->src_mem) {
        ok = EVP_DigestUpdate(ctx, c->src_mem, (size_t)c->src_len);
    } else if (ok && c->src_fd >= 0) {
        for (uint64_t done = 0; ok && done < c->src_len;) {
            size_t want = c->src_len - done < MIB ? (size_t)(c->src_len - done) : MIB;
            ssize_t r = pread(c->src_fd, c->io, want, (off_t)(c->src_off + done));
            if (r <= 0) {
                snprintf(errstr, errstr_size,
                         "%s: reading the data to upload at offset %" PRIu64 ": %s", c->op.data,
                         c->src_off + done,
                         r < 0 ? strerror(errno) : "the file is shorter than expected");
                EVP_MD_CTX_free(ctx);
                return -1;
            }
            ok = EVP_DigestUpdate(ctx, c->io, (size_t)r);
            done += (uint64_t)r;
        }
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        snprintf(errstr, errstr_size, "%s: SHA-256 of the payload failed", c->op.data);
        return -1;
    }
    hex32(out, md);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* One request as perform() sends it. */
typedef struct s3_req {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *url;
    const char *content_type;
    unsigned flags; /* PGCDC_S3_IF_NONE_MATCH */
    int has_body;   /* PUT/POST: the body is c->src_* */
    int not_found_ok;
    pgcdc_buf *out; /* GET: where the object goes */
    size_t out_max;
    int out_fd; /* GET: or this file (truncated first), when > 0 */
} s3_req;

/* Sets up the handle for one attempt of req; 0 or a libcurl error. */
static CURLcode setup(pgcdc_s3_client *c, const s3_req *req, struct curl_slist **hdrs,
                      const char *sha)
{
    CURL *h = c->curl;
    char line[120];
    curl_easy_reset(h);
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", sha);
    struct curl_slist *l = curl_slist_append(NULL, line);
    if (l && c->token_header)
        l = curl_slist_append(l, c->token_header);
    if (l && (req->flags & PGCDC_S3_IF_NONE_MATCH))
        l = curl_slist_append(l, "if-none-match: *");
    if (l && req->content_type) {
        snprintf(line, sizeof(line), "content-type: %s", req->content_type);
        l = curl_slist_append(l, line);
    }
    *hdrs = l;
    if (!l)
        return CURLE_OUT_OF_MEMORY;
    CURLcode rc = CURLE_OK;
#define OPT(o, v)                                                                                  \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, o, v);                                                        \
    } while (0)
    OPT(CURLOPT_URL, req->url);
    OPT(CURLOPT_PROTOCOLS_STR, "http,https");
    OPT(CURLOPT_PATH_AS_IS, 1L); /* keys may have "./" segments: send them as they are */
    OPT(CURLOPT_NOSIGNAL, 1L);
    OPT(CURLOPT_HTTPHEADER, l);
    OPT(CURLOPT_AWS_SIGV4, c->sigv4);
    OPT(CURLOPT_USERNAME, c->access_key);
    OPT(CURLOPT_PASSWORD, c->secret_key);
    OPT(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    OPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
    OPT(CURLOPT_LOW_SPEED_TIME, (c->stall_timeout_ms + 999) / 1000);
    OPT(CURLOPT_ERRORBUFFER, c->curl_err);
    OPT(CURLOPT_HEADERFUNCTION, on_header);
    OPT(CURLOPT_HEADERDATA, c);
    OPT(CURLOPT_WRITEFUNCTION, on_body);
    OPT(CURLOPT_WRITEDATA, c);
    if (!strcmp(req->method, "HEAD")) {
        OPT(CURLOPT_NOBODY, 1L);
    } else if (!strcmp(req->method, "PUT")) {
        OPT(CURLOPT_UPLOAD, 1L);
        OPT(CURLOPT_READFUNCTION, on_read);
        OPT(CURLOPT_READDATA, c);
        OPT(CURLOPT_SEEKFUNCTION, on_seek);
        OPT(CURLOPT_SEEKDATA, c);
        OPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->src_len);
    } else if (!strcmp(req->method, "POST")) {
        OPT(CURLOPT_POST, 1L);
        OPT(CURLOPT_READFUNCTION, on_read);
        OPT(CURLOPT_READDATA, c);
        OPT(CURLOPT_SEEKFUNCTION, on_seek);
        OPT(CURLOPT_SEEKDATA, c);
        OPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->src_len);
    } else if (strcmp(req->method, "GET")) {
        OPT(CURLOPT_CUSTOMREQUEST, req->method);
    }
#undef OPT
    return rc;
}

/* The error code and message of an S3 error body, into code/msg. */
static void error_fields(pgcdc_s3_client *c, char *code, size_t code_size, char *msg,
                         size_t msg_size)
{
    code[0] = msg[0] = 0;
    if (pgcdc_s3_xml_text(c->resp.data ? c->resp.data : "", c->resp.len, "Code", &c->tmp) == 1)
        snprintf(code, code_size, "%s", c->tmp.data);
    else /* no body (HEAD): MinIO still names the error in a header */
        snprintf(code, code_size, "%s", c->hdr_code);
    if (pgcdc_s3_xml_text(c->resp.data ? c->resp.data : "", c->resp.len, "Message", &c->tmp) == 1)
        snprintf(msg, msg_size, "%.300s", c->tmp.data);
}

/*
 * Sends req until it gets a final answer: PGCDC_S3_OK (2xx; the body is in
 * c->resp or req->out), PGCDC_S3_NOT_FOUND (404 where req->not_found_ok),
 * PGCDC_S3_EXISTS (412 of a create), or PGCDC_S3_ERR with errstr. Transient
 * failures are retried with exponential backoff and jitter until
 * c->retry_max_ms has passed since the first attempt. The body to send is
 * c->src_*, set by the caller; c->op names the operation in messages.
 */
static int perform(pgcdc_s3_client *c, const s3_req *req, char *errstr, size_t errstr_size)
{
    char sha[65];
    if (req->has_body) {
        if (body_sha256(c, sha, errstr, errstr_size))
            return PGCDC_S3_ERR;
    } else {
        memcpy(sha, EMPTY_SHA256, sizeof(sha));
    }
    pgcdc_s3_errctx ectx = {.op = c->op.data,
                            .endpoint = c->endpoint,
                            .bucket = c->bucket,
                            .bucket_key = c->bucket_key,
                            .credential_source = c->cred_source};
    double start = now_ms();
    long delay = BACKOFF_FIRST_MS;
    char last[600] = "";
    c->uncertain = 0;
    for (int attempt = 1;; attempt++) {
        struct curl_slist *hdrs = NULL;
        c->status = 0;
        c->etag[0] = c->last_modified[0] = c->hdr_code[0] = 0;
        c->have_length = 0;
        c->too_large = 0;
        c->src_pos = 0;
        c->src_errno = 0;
        c->curl_err[0] = 0;
        c->out = req->out;
        c->out_max = req->out_max;
        if (req->out)
            pgcdc_buf_reset(req->out);
        c->out_fd = req->out_fd > 0 ? req->out_fd : -1;
        c->out_fd_len = 0;
        c->out_fd_errno = 0;
        if (c->out_fd >= 0 &&
            (ftruncate(c->out_fd, 0) != 0 || lseek(c->out_fd, 0, SEEK_SET) != 0)) {
            snprintf(errstr, errstr_size, "%s: cannot reset the download file: %s", c->op.data,
                     strerror(errno));
            return PGCDC_S3_ERR;
        }
        pgcdc_buf_reset(&c->resp);
        CURLcode rc = setup(c, req, &hdrs, sha);
        if (rc == CURLE_OK)
            rc = curl_easy_perform(c->curl);
        curl_slist_free_all(hdrs);
        long status = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (c->too_large) {
            snprintf(errstr, errstr_size, "%s: the object is larger than the limit of %zu bytes",
                     c->op.data, req->out ? req->out_max : (size_t)CONTROL_BODY_MAX);
            return PGCDC_S3_ERR;
        }
        if (c->out_fd_errno) {
            snprintf(errstr, errstr_size, "%s: writing the download: %s", c->op.data,
                     strerror(c->out_fd_errno));
            return PGCDC_S3_ERR;
        }
        if (c->src_errno) {
            snprintf(errstr, errstr_size, "%s: reading the data to upload: %s", c->op.data,
                     strerror(c->src_errno));
            return PGCDC_S3_ERR;
        }
        if (rc != CURLE_OK) {
            const char *why = c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc);
            if (!curl_transient(rc)) {
                snprintf(errstr, errstr_size, "%s: request to %s failed: %s", c->op.data,
                         c->endpoint, why);
                return PGCDC_S3_ERR;
            }
            if (rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST)
                c->uncertain = 1;
            snprintf(last, sizeof(last), "%s: cannot reach %s: %s", c->op.data, c->endpoint, why);
        } else if (status / 100 == 2) {
            return PGCDC_S3_OK;
        } else {
            char code[100], msg[320];
            error_fields(c, code, sizeof(code), msg, sizeof(msg));
            if (status == 404 && req->not_found_ok && !code_is(code, "NoSuchBucket"))
                return PGCDC_S3_NOT_FOUND;
            if (status == 412 && (req->flags & PGCDC_S3_IF_NONE_MATCH))
                return PGCDC_S3_EXISTS;
            if (pgcdc_s3_classify(status, code, msg, &ectx, last, sizeof(last)) == PGCDC_S3_FAIL) {
                snprintf(errstr, errstr_size, "%s", last);
                return PGCDC_S3_ERR;
            }
            if (status >= 500)
                c->uncertain = 1;
        }
        /* Transient: back off, unless the budget is spent. */
        double elapsed = now_ms() - start;
        long d = delay / 2 + (long)(rand_r(&c->seed) % (unsigned)(delay / 2 + 1));
        if (elapsed + (double)d > (double)c->retry_max_ms) {
            snprintf(errstr, errstr_size,
                     "%s; gave up after %d attempts over %.1f s (retry budget %.0f s)", last,
                     attempt, elapsed / 1e3, c->retry_max_ms / 1e3);
            return PGCDC_S3_ERR;
        }
        pgcdc_log_warn(LOG, "%s; retrying in %.1f s (attempt %d)", last, d / 1e3, attempt);
        sleep_ms(d);
        delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    }
}

/* c->urlbuf = URL of key (relative to the prefix) plus query; c->op =
 * "<method> s3://bucket/<prefix><key>". -1 with errstr for a bad key. */
static int object_url(pgcdc_s3_client *c, const char *method, const char *key, const char *query,
                      char *errstr, size_t errstr_size)
{
    pgcdc_buf_reset(&c->op);
    pgcdc_buf_printf(&c->op, "S3 %s s3://%s/%s%s", method, c->bucket, c->prefix, key);
    size_t klen = strlen(key);
    if (!klen || klen + strlen(c->prefix) > MAX_KEY_LEN) {
        snprintf(errstr, errstr_size, "%s: the key must be 1 to %d bytes long", c->op.data,
                 MAX_KEY_LEN);
        return -1;
    }
    pgcdc_buf_reset(&c->urlbuf);
    pgcdc_buf_puts(&c->urlbuf, c->object_base);
    pgcdc_s3_uri_encode(&c->urlbuf, c->prefix, strlen(c->prefix), 1);
    pgcdc_s3_uri_encode(&c->urlbuf, key, klen, 1);
    if (query) {
        pgcdc_buf_putc(&c->urlbuf, '?');
        pgcdc_buf_puts(&c->urlbuf, query);
    }
    return 0;
}

static int put_common(pgcdc_s3_client *c, const char *key, unsigned flags, char *errstr,
                      size_t errstr_size)
{
    if (object_url(c, "PUT", key, NULL, errstr, errstr_size))
        return PGCDC_S3_ERR;
    s3_req req = {.method = "PUT",
                  .url = c->urlbuf.data,
                  .content_type = "application/octet-stream",
                  .flags = flags,
                  .has_body = 1};
    return perform(c, &req, errstr, errstr_size);
}

int pgcdc_s3_put(pgcdc_s3_client *c, const char *key, const void *data, size_t len, unsigned flags,
                 char *errstr, size_t errstr_size)
{
    c->src_mem = data ? data : "";
    c->src_fd = -1;
    c->src_off = 0;
    c->src_len = len;
    int r = put_common(c, key, flags, errstr, errstr_size);
    c->src_mem = NULL;
    if (r == PGCDC_S3_EXISTS && c->uncertain) {
        /* Our own earlier attempt may have created it: same bytes, our write. */
        pgcdc_buf got = PGCDC_BUF_INIT;
        char gerr[300]; /* a failed comparison leaves EXISTS, and errstr alone */
        int g = pgcdc_s3_get(c, key, &got, len, gerr, sizeof(gerr));
        if (g == PGCDC_S3_OK && got.len == len && (!len || !memcmp(got.data, data, len))) {
            pgcdc_log_info(LOG, "S3 PUT s3://%s/%s%s: an earlier attempt had stored it", c->bucket,
                           c->prefix, key);
            r = PGCDC_S3_OK;
        }
        pgcdc_buf_free(&got);
    }
    return r;
}

int pgcdc_s3_put_fd(pgcdc_s3_client *c, const char *key, int fd, uint64_t offset, uint64_t len,
                    unsigned flags, char *errstr, size_t errstr_size)
{
    c->src_mem = NULL;
    c->src_fd = fd;
    c->src_off = offset;
    c->src_len = len;
    int r = put_common(c, key, flags, errstr, errstr_size);
    c->src_fd = -1;
    return r;
}

int pgcdc_s3_get(pgcdc_s3_client *c, const char *key, pgcdc_buf *out, size_t max_len, char *errstr,
                 size_t errstr_size)
{
    if (object_url(c, "GET", key, NULL, errstr, errstr_size))
        return PGCDC_S3_ERR;
    s3_req req = {
        .method = "GET", .url = c->urlbuf.data, .not_found_ok = 1, .out = out, .out_max = max_len};
    return perform(c, &req, errstr, errstr_size);
}

int pgcdc_s3_get_fd(pgcdc_s3_client *c, const char *key, int fd, uint64_t *len, char *errstr,
                    size_t errstr_size)
{
    if (object_url(c, "GET", key, NULL, errstr, errstr_size))
        return PGCDC_S3_ERR;
    s3_req req = {.method = "GET", .url = c->urlbuf.data, .not_found_ok = 1, .out_fd = fd};
    int r = perform(c, &req, errstr, errstr_size);
    if (r == PGCDC_S3_OK)
        *len = c->out_fd_len;
    return r;
}

int pgcdc_s3_head(pgcdc_s3_client *c, const char *key, pgcdc_s3_object *info, char *errstr,
                  size_t errstr_size)
{
    if (object_url(c, "HEAD", key, NULL, errstr, errstr_size))
        return PGCDC_S3_ERR;
    s3_req req = {.method = "HEAD", .url = c->urlbuf.data, .not_found_ok = 1};
    int r = perform(c, &req, errstr, errstr_size);
    if (r == PGCDC_S3_OK && info) {
        info->key = key;
        info->size = c->have_length ? c->content_length : 0;
        info->etag = c->etag;
        info->last_modified = c->last_modified;
    }
    return r;
}

int pgcdc_s3_delete(pgcdc_s3_client *c, const char *key, char *errstr, size_t errstr_size)
{
    if (object_url(c, "DELETE", key, NULL, errstr, errstr_size))
        return PGCDC_S3_ERR;
    s3_req req = {.method = "DELETE", .url = c->urlbuf.data, .not_found_ok = 1};
    int r = perform(c, &req, errstr, errstr_size);
    return r == PGCDC_S3_NOT_FOUND ? PGCDC_S3_OK : r;
}

int pgcdc_s3_list(pgcdc_s3_client *c, const char *prefix, pgcdc_s3_list_cb cb, void *ctx,
                  char *errstr, size_t errstr_size)
{
    pgcdc_buf token = PGCDC_BUF_INIT, full = PGCDC_BUF_INIT;
    int rc = PGCDC_S3_ERR;
    pgcdc_buf_printf(&full, "%s%s", c->prefix, prefix ? prefix : "");
    pgcdc_buf_reset(&c->op);
    pgcdc_buf_printf(&c->op, "S3 LIST s3://%s/%s", c->bucket, full.data);
    for (int page = 1;; page++) {
        /* Parameters sorted by name: the query is signed as sent. */
        pgcdc_buf_reset(&c->urlbuf);
        pgcdc_buf_puts(&c->urlbuf, c->bucket_url);
        pgcdc_buf_putc(&c->urlbuf, '?');
        if (token.len) {
            PGCDC_BUF_LIT(&c->urlbuf, "continuation-token=");
            pgcdc_s3_uri_encode(&c->urlbuf, token.data, token.len, 0);
            pgcdc_buf_putc(&c->urlbuf, '&');
        }
        PGCDC_BUF_LIT(&c->urlbuf, "list-type=2&");
        if (c->list_page_size)
            pgcdc_buf_printf(&c->urlbuf, "max-keys=%d&", c->list_page_size);
        PGCDC_BUF_LIT(&c->urlbuf, "prefix=");
        pgcdc_s3_uri_encode(&c->urlbuf, full.data, full.len, 0);
        s3_req req = {.method = "GET", .url = c->urlbuf.data};
        int r = perform(c, &req, errstr, errstr_size);
        if (r != PGCDC_S3_OK)
            goto out;
        int truncated = 0;
        char perr[300];
        r = pgcdc_s3_parse_list(c->resp.data ? c->resp.data : "", c->resp.len, strlen(c->prefix),
                                cb, ctx, &truncated, &token, perr, sizeof(perr));
        if (r < 0) {
            snprintf(errstr, errstr_size, "%s: %s", c->op.data, perr);
            goto out;
        }
        if (r > 0) {
            rc = r;
            goto out;
        }
        pgcdc_log_debug(LOG, "%s: page %d read%s", c->op.data, page,
                        truncated ? ", more to come" : ", the last");
        if (!truncated)
            break;
    }
    rc = PGCDC_S3_OK;
out:
    pgcdc_buf_free(&token);
    pgcdc_buf_free(&full);
    return rc;
}

/* ------------------------------------------------------------ multipart */

void pgcdc_s3_parts_free(pgcdc_s3_parts *parts)
{
    for (int i = 0; i < parts->n; i++)
        free(parts->etags[i]);
    free(parts->etags);
    memset(parts, 0, sizeof(*parts));
}

/* c->urlbuf = key's URL with "uploadId=<id>" (and partNumber first when
 * part > 0: the parameters must be in sorted order). */
static int upload_url(pgcdc_s3_client *c, const char *method, const char *key, const char *id,
                      int part, char *errstr, size_t errstr_size)
{
    pgcdc_buf q = PGCDC_BUF_INIT;
    if (part > 0)
        pgcdc_buf_printf(&q, "partNumber=%d&", part);
    PGCDC_BUF_LIT(&q, "uploadId=");
    pgcdc_s3_uri_encode(&q, id, strlen(id), 0);
    int r = object_url(c, method, key, q.data, errstr, errstr_size);
    pgcdc_buf_free(&q);
    return r;
}

int pgcdc_s3_multipart_begin(pgcdc_s3_client *c, const char *key, char **upload_id, char *errstr,
                             size_t errstr_size)
{
    *upload_id = NULL;
    if (object_url(c, "POST", key, "uploads=", errstr, errstr_size))
        return PGCDC_S3_ERR;
    c->src_mem = "";
    c->src_len = 0;
    s3_req req = {.method = "POST",
                  .url = c->urlbuf.data,
                  .content_type = "application/octet-stream",
                  .has_body = 1};
    int r = perform(c, &req, errstr, errstr_size);
    c->src_mem = NULL;
    if (r != PGCDC_S3_OK)
        return PGCDC_S3_ERR;
    if (pgcdc_s3_xml_text(c->resp.data ? c->resp.data : "", c->resp.len, "UploadId", &c->tmp) !=
            1 ||
        !c->tmp.len) {
        snprintf(errstr, errstr_size, "%s: no <UploadId> in the server's answer", c->op.data);
        return PGCDC_S3_ERR;
    }
    *upload_id = strdup(c->tmp.data);
    if (!*upload_id) {
        snprintf(errstr, errstr_size, "%s: out of memory", c->op.data);
        return PGCDC_S3_ERR;
    }
    return PGCDC_S3_OK;
}

int pgcdc_s3_multipart_part(pgcdc_s3_client *c, const char *key, const char *upload_id, int fd,
                            uint64_t offset, uint64_t len, pgcdc_s3_parts *parts, char *errstr,
                            size_t errstr_size)
{
    int part = parts->n + 1;
    if (part > MAX_PARTS) {
        snprintf(errstr, errstr_size, "S3 multipart upload of %s: more than %d parts", key,
                 MAX_PARTS);
        return PGCDC_S3_ERR;
    }
    if (upload_url(c, "PUT", key, upload_id, part, errstr, errstr_size))
        return PGCDC_S3_ERR;
    pgcdc_buf_printf(&c->op, " (part %d)", part);
    c->src_mem = NULL;
    c->src_fd = fd;
    c->src_off = offset;
    c->src_len = len;
    s3_req req = {.method = "PUT", .url = c->urlbuf.data, .has_body = 1};
    int r = perform(c, &req, errstr, errstr_size);
    c->src_fd = -1;
    if (r != PGCDC_S3_OK)
        return PGCDC_S3_ERR;
    if (!c->etag[0]) {
        snprintf(errstr, errstr_size, "%s: the server sent no ETag for the part", c->op.data);
        return PGCDC_S3_ERR;
    }
    if (parts->n == parts->cap) {
        int cap = parts->cap ? parts->cap * 2 : 16;
        char **e = realloc(parts->etags, (size_t)cap * sizeof(*e));
        if (!e)
            goto oom;
        parts->etags = e;
        parts->cap = cap;
    }
    parts->etags[parts->n] = strdup(c->etag);
    if (!parts->etags[parts->n])
        goto oom;
    parts->n++;
    return PGCDC_S3_OK;
oom:
    snprintf(errstr, errstr_size, "%s: out of memory", c->op.data);
    return PGCDC_S3_ERR;
}

int pgcdc_s3_multipart_complete(pgcdc_s3_client *c, const char *key, const char *upload_id,
                                const pgcdc_s3_parts *parts, char *errstr, size_t errstr_size)
{
    pgcdc_buf body = PGCDC_BUF_INIT;
    int rc = PGCDC_S3_ERR;
    PGCDC_BUF_LIT(&body, "<CompleteMultipartUpload>");
    for (int i = 0; i < parts->n; i++) {
        pgcdc_buf_printf(&body, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
        xml_escape(&body, parts->etags[i]);
        PGCDC_BUF_LIT(&body, "</ETag></Part>");
    }
    PGCDC_BUF_LIT(&body, "</CompleteMultipartUpload>");
    if (upload_url(c, "POST", key, upload_id, 0, errstr, errstr_size))
        goto out;
    pgcdc_buf_puts(&c->op, " (complete)");
    c->src_mem = body.data;
    c->src_len = body.len;
    s3_req req = {.method = "POST",
                  .url = c->urlbuf.data,
                  .content_type = "application/xml",
                  .has_body = 1,
                  .not_found_ok = 1};
    int r = perform(c, &req, errstr, errstr_size);
    c->src_mem = NULL;
    if (r == PGCDC_S3_NOT_FOUND && c->uncertain) {
        /* NoSuchUpload after an attempt whose answer was lost: that attempt
         * completed it. */
        r = PGCDC_S3_OK;
    } else if (r == PGCDC_S3_NOT_FOUND) {
        snprintf(errstr, errstr_size, "%s: the upload is gone (NoSuchUpload)", c->op.data);
        goto out;
    }
    if (r != PGCDC_S3_OK)
        goto out;
    /* A 200 answer may still carry an error (S3 reports late failures of a
     * completion in the body). */
    if (c->resp.len && memmem(c->resp.data, c->resp.len, "<Error>", 7)) {
        char code[100], msg[320];
        error_fields(c, code, sizeof(code), msg, sizeof(msg));
        snprintf(errstr, errstr_size, "%s: the server reported %s: %s", c->op.data, code, msg);
        goto out;
    }
    rc = PGCDC_S3_OK;
out:
    pgcdc_buf_free(&body);
    return rc;
}

int pgcdc_s3_multipart_abort(pgcdc_s3_client *c, const char *key, const char *upload_id,
                             char *errstr, size_t errstr_size)
{
    if (upload_url(c, "DELETE", key, upload_id, 0, errstr, errstr_size))
        return PGCDC_S3_ERR;
    pgcdc_buf_puts(&c->op, " (abort)");
    s3_req req = {.method = "DELETE", .url = c->urlbuf.data, .not_found_ok = 1};
    int r = perform(c, &req, errstr, errstr_size);
    return r == PGCDC_S3_NOT_FOUND ? PGCDC_S3_OK : r;
}

int pgcdc_s3_put_file(pgcdc_s3_client *c, const char *key, int fd, uint64_t len, char *errstr,
                      size_t errstr_size)
{
    uint64_t part = c->part_size;
    if (len <= part)
        return pgcdc_s3_put_fd(c, key, fd, 0, len, 0, errstr, errstr_size);
    if ((len + part - 1) / part > MAX_PARTS) /* round up to whole MiB */
        part = ((len / MAX_PARTS) / MIB + 1) * MIB;
    char *id = NULL;
    pgcdc_s3_parts parts = {0};
    int r = pgcdc_s3_multipart_begin(c, key, &id, errstr, errstr_size);
    for (uint64_t off = 0; r == PGCDC_S3_OK && off < len; off += part)
        r = pgcdc_s3_multipart_part(c, key, id, fd, off, len - off < part ? len - off : part,
                                    &parts, errstr, errstr_size);
    if (r == PGCDC_S3_OK)
        r = pgcdc_s3_multipart_complete(c, key, id, &parts, errstr, errstr_size);
    if (r != PGCDC_S3_OK && id) {
        char aerr[300];
        if (pgcdc_s3_multipart_abort(c, key, id, aerr, sizeof(aerr)) != PGCDC_S3_OK)
            pgcdc_log_warn(LOG,
                           "%s (its parts stay until the bucket's lifecycle rules remove "
                           "them)",
                           aerr);
    }
    pgcdc_s3_parts_free(&parts);
    free(id);
    return r == PGCDC_S3_OK ? PGCDC_S3_OK : PGCDC_S3_ERR;
}
