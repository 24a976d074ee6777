/*
 * test_s3.c - unit tests for the S3 client's pure parts: s3:// URL parsing,
 * AWS URI encoding, the minimal XML reader and ListObjectsV2 pages, error
 * classification and messages, environment credentials and the checks of
 * pgcdc_s3_client_new. Requests against a real server are in
 * tests/e2e/test_s3_client.py.
 */
#include <stdlib.h>
#include <string.h>

#include "common/s3.h"
#include "test.h"

static char err[1024];

static int has(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

static void test_url_parse(void)
{
    char *b, *p;
    CHECK_INT(pgcdc_s3_url_parse("s3://lake/cdc/events", "sink.root", &b, &p, err, sizeof(err)), 0);
    CHECK_STR(b, "lake");
    CHECK_STR(p, "cdc/events/");
    free(b);
    free(p);
    CHECK_INT(pgcdc_s3_url_parse("s3a://my-bucket.1/", "x", &b, &p, err, sizeof(err)), 0);
    CHECK_STR(b, "my-bucket.1");
    CHECK_STR(p, "");
    free(b);
    free(p);
    CHECK_INT(pgcdc_s3_url_parse("s3://abc", "x", &b, &p, err, sizeof(err)), 0);
    CHECK_STR(p, "");
    free(b);
    free(p);
    CHECK_INT(pgcdc_s3_url_parse("s3://abc//x//", "x", &b, &p, err, sizeof(err)), 0);
    CHECK_STR(p, "x/");
    free(b);
    free(p);

    CHECK_INT(pgcdc_s3_url_parse("/data/lake", "sink.root", &b, &p, err, sizeof(err)), -1);
    CHECK(has(err, "sink.root") && has(err, "s3://bucket/prefix"));
    CHECK(b == NULL && p == NULL);
    CHECK_INT(pgcdc_s3_url_parse("s3://Lake/x", "sink.root", &b, &p, err, sizeof(err)), -1);
    CHECK(has(err, "\"Lake\"") && has(err, "lower-case"));
    CHECK_INT(pgcdc_s3_url_parse("s3://ab/x", "r", &b, &p, err, sizeof(err)), -1);
    CHECK(has(err, "3 to 63"));
    CHECK_INT(pgcdc_s3_url_parse("s3://-ab/x", "r", &b, &p, err, sizeof(err)), -1);
    CHECK(has(err, "start and end"));
    CHECK_INT(pgcdc_s3_url_parse("s3://a..b/x", "r", &b, &p, err, sizeof(err)), -1);
    CHECK_INT(pgcdc_s3_url_parse("s3:///x", "r", &b, &p, err, sizeof(err)), -1);
    CHECK_INT(pgcdc_s3_url_parse("s3://abc/a//b", "r", &b, &p, err, sizeof(err)), -1);
    CHECK(has(err, "//"));
    CHECK_INT(pgcdc_s3_url_parse(NULL, "r", &b, &p, err, sizeof(err)), -1);

    CHECK(pgcdc_s3_is_url("s3://x"));
    CHECK(pgcdc_s3_is_url("s3a://x"));
    CHECK(!pgcdc_s3_is_url("/tmp/s3://x"));
    CHECK(!pgcdc_s3_is_url(NULL));
}

static void test_uri_encode(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    const char *k = "a b/\xc3\xbc~-_.+=&?%*";
    pgcdc_s3_uri_encode(&b, k, strlen(k), 1);
    CHECK_STR(b.data, "a%20b/%C3%BC~-_.%2B%3D%26%3F%25%2A");
    pgcdc_buf_reset(&b);
    pgcdc_s3_uri_encode(&b, "x/y", 3, 0);
    CHECK_STR(b.data, "x%2Fy");
    pgcdc_buf_free(&b);
}

static void test_xml_text(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    const char *x = "<Error><Code>NoSuchKey</Code><Message>a &lt;b&gt; &amp; &quot;c&quot; "
                    "&apos;d&apos; &#65;&#x42;&#xe9;</Message><Empty/><Bad>x &nope; y</Bad>"
                    "<Nested><In>1</In></Nested><Open>never closed</Error>";
    size_t n = strlen(x);
    CHECK_INT(pgcdc_s3_xml_text(x, n, "Code", &b), 1);
    CHECK_STR(b.data, "NoSuchKey");
    CHECK_INT(pgcdc_s3_xml_text(x, n, "Message", &b), 1);
    CHECK_STR(b.data, "a <b> & \"c\" 'd' AB\xc3\xa9");
    CHECK_INT(pgcdc_s3_xml_text(x, n, "Empty", &b), 1);
    CHECK_INT(b.len, 0);
    CHECK_INT(pgcdc_s3_xml_text(x, n, "Missing", &b), 0);
    CHECK_INT(pgcdc_s3_xml_text(x, n, "Bad", &b), -1);
    CHECK_INT(pgcdc_s3_xml_text(x, n, "Nested", &b), -1);
    CHECK_INT(pgcdc_s3_xml_text(x, n, "Open", &b), -1);
    /* Only the bytes given are read: a tag past len is not seen. */
    CHECK_INT(pgcdc_s3_xml_text(x, 20, "Code", &b), -1);
    CHECK_INT(pgcdc_s3_xml_text("<C>&#0;</C>", 11, "C", &b), -1);
    CHECK_INT(pgcdc_s3_xml_text("<C>&#xD800;</C>", 15, "C", &b), -1);
    CHECK_INT(pgcdc_s3_xml_text("<C>&#x110000;</C>", 17, "C", &b), -1);
    CHECK_INT(pgcdc_s3_xml_text("<C>&#;</C>", 10, "C", &b), -1);
    CHECK_INT(pgcdc_s3_xml_text("<C>&amp</C>", 11, "C", &b), -1);
    pgcdc_buf_free(&b);
}

typedef struct listed {
    char keys[8][64];
    unsigned long long sizes[8];
    char etags[8][64];
    int n, stop_at;
} listed;

static int collect(void *ctx, const pgcdc_s3_object *o)
{
    listed *l = ctx;
    if (l->n < 8) {
        snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", o->key);
        snprintf(l->etags[l->n], sizeof(l->etags[0]), "%s", o->etag);
        l->sizes[l->n] = o->size;
    }
    l->n++;
    return l->stop_at && l->n == l->stop_at ? 7 : 0;
}

static const char page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>lake</Name><Prefix>cdc/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>cdc/a&amp;b.parquet</Key><LastModified>2026-01-01T00:00:00.000Z"
    "</LastModified><ETag>&quot;abc&quot;</ETag><Size>12345678901</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>cdc/_delta_log/00000000000000000000.json</Key><ETag>\"d-2\"</ETag>"
    "<Size>0</Size></Contents>"
    "<NextContinuationToken>1x/Y+z&amp;=</NextContinuationToken></ListBucketResult>";

static void test_parse_list(void)
{
    pgcdc_buf tok = PGCDC_BUF_INIT;
    listed l = {0};
    int trunc = -1;
    CHECK_INT(
        pgcdc_s3_parse_list(page, strlen(page), 4, collect, &l, &trunc, &tok, err, sizeof(err)), 0);
    CHECK_INT(l.n, 2);
    CHECK_STR(l.keys[0], "a&b.parquet");
    CHECK(l.sizes[0] == 12345678901ULL);
    CHECK_STR(l.etags[0], "\"abc\"");
    CHECK_STR(l.keys[1], "_delta_log/00000000000000000000.json");
    CHECK(l.sizes[1] == 0);
    CHECK_INT(trunc, 1);
    CHECK_STR(tok.data, "1x/Y+z&=");

    /* The callback's non-zero answer stops the listing and is returned. */
    listed s = {.stop_at = 1};
    CHECK_INT(
        pgcdc_s3_parse_list(page, strlen(page), 4, collect, &s, &trunc, &tok, err, sizeof(err)), 7);
    CHECK_INT(s.n, 1);

    /* The last page: not truncated, no token. */
    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
                       "</ListBucketResult>";
    listed e = {0};
    CHECK_INT(
        pgcdc_s3_parse_list(last, strlen(last), 0, collect, &e, &trunc, &tok, err, sizeof(err)), 0);
    CHECK_INT(e.n, 0);
    CHECK_INT(trunc, 0);
    CHECK_INT(tok.len, 0);

    static const char *const bad[] = {
        "<Error><Code>AccessDenied</Code></Error>",
        "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size></Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&#1;&bogus;</Key><Size>1</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>99999999999999999999999</Size>"
        "</Contents></ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        listed x = {0};
        err[0] = 0;
        CHECK_INT(pgcdc_s3_parse_list(bad[i], strlen(bad[i]), 0, collect, &x, &trunc, &tok, err,
                                      sizeof(err)),
                  -1);
        CHECK(err[0] != 0);
    }
    /* A key shorter than the prefix to strip: the server answered for another prefix. */
    const char *outside =
        "<ListBucketResult><Contents><Key>ab</Key><Size>1</Size></Contents></ListBucketResult>";
    listed o = {0};
    CHECK_INT(pgcdc_s3_parse_list(outside, strlen(outside), 4, collect, &o, &trunc, &tok, err,
                                  sizeof(err)),
              -1);
    CHECK(has(err, "outside the prefix"));
    pgcdc_buf_free(&tok);
}

static void test_classify(void)
{
    pgcdc_s3_errctx ctx = {.op = "S3 PUT s3://lake/cdc/x",
                           .endpoint = "http://127.0.0.1:9000",
                           .bucket = "lake",
                           .bucket_key = "sink.lake.root",
                           .credential_source = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"};
    CHECK_INT(pgcdc_s3_classify(403, "InvalidAccessKeyId", "unknown key", &ctx, err, sizeof(err)),
              PGCDC_S3_FAIL);
    CHECK(has(err, "S3 PUT s3://lake/cdc/x") && has(err, "access key") &&
          has(err, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") && has(err, "127.0.0.1:9000"));
    CHECK_INT(pgcdc_s3_classify(403, "SignatureDoesNotMatch", NULL, &ctx, err, sizeof(err)),
              PGCDC_S3_FAIL);
    CHECK(has(err, "secret key") && has(err, "AWS_SECRET_ACCESS_KEY"));
    CHECK_INT(pgcdc_s3_classify(400, "ExpiredToken", "", &ctx, err, sizeof(err)), PGCDC_S3_FAIL);
    CHECK(has(err, "session token"));
    CHECK_INT(pgcdc_s3_classify(403, "InvalidTokenId", "", &ctx, err, sizeof(err)), PGCDC_S3_FAIL);
    CHECK(has(err, "session token"));
    CHECK_INT(pgcdc_s3_classify(404, "NoSuchBucket", "gone", &ctx, err, sizeof(err)),
              PGCDC_S3_FAIL);
    CHECK(has(err, "bucket \"lake\" does not exist") && has(err, "sink.lake.root"));
    CHECK_INT(pgcdc_s3_classify(403, "AccessDenied", "no", &ctx, err, sizeof(err)), PGCDC_S3_FAIL);
    CHECK(has(err, "access denied") && has(err, "\"lake\""));
    CHECK_INT(pgcdc_s3_classify(403, "", "", &ctx, err, sizeof(err)), PGCDC_S3_FAIL);
    CHECK(has(err, "access denied") && has(err, "HTTP 403"));
    CHECK_INT(pgcdc_s3_classify(400, "AuthorizationHeaderMalformed", "expecting 'eu-west-1'", &ctx,
                                err, sizeof(err)),
              PGCDC_S3_FAIL);
    CHECK(has(err, "region") && has(err, "eu-west-1"));
    CHECK_INT(pgcdc_s3_classify(403, "RequestTimeTooSkewed", NULL, &ctx, err, sizeof(err)),
              PGCDC_S3_FAIL);
    CHECK(has(err, "clock"));

    static const struct {
        long status;
        const char *code;
    } retry[] = {{503, "SlowDown"},
                 {500, "InternalError"},
                 {502, NULL},
                 {504, ""},
                 {429, NULL},
                 {400, "RequestTimeout"},
                 {409, "OperationAborted"},
                 {409, "ConditionalRequestConflict"},
                 {503, "XMinioServerNotInitialized"}};
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
        err[0] = 0;
        CHECK_INT(pgcdc_s3_classify(retry[i].status, retry[i].code, "m", &ctx, err, sizeof(err)),
                  PGCDC_S3_RETRY);
        CHECK(has(err, "127.0.0.1:9000"));
    }
    CHECK_INT(pgcdc_s3_classify(400, "InvalidArgument", "bad thing", &ctx, err, sizeof(err)),
              PGCDC_S3_FAIL);
    CHECK_STR(err, "S3 PUT s3://lake/cdc/x: HTTP 400 InvalidArgument: bad thing");
    /* No context names: generic wording, never a NULL printed. */
    pgcdc_s3_errctx bare = {.op = "op", .endpoint = "e", .bucket = "b"};
    CHECK_INT(pgcdc_s3_classify(404, "NoSuchBucket", NULL, &bare, err, sizeof(err)), PGCDC_S3_FAIL);
    CHECK(!has(err, "(null)") && has(err, "fix bucket"));
    CHECK_INT(pgcdc_s3_classify(403, "InvalidAccessKeyId", NULL, &bare, err, sizeof(err)),
              PGCDC_S3_FAIL);
    CHECK(!has(err, "(null)") && has(err, "check the credentials"));
}

static void test_config_from_env(void)
{
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1234", 1);
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_REGION");
    setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
    setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
    pgcdc_s3_config c = {0};
    pgcdc_s3_config_from_env(&c);
    CHECK_STR(c.endpoint, "http://127.0.0.1:1234");
    CHECK_STR(c.region, "eu-west-3");
    CHECK_STR(c.access_key, "AKID");
    CHECK_STR(c.secret_key, "SECRET");
    CHECK_STR(c.session_token, "TOKEN");
    CHECK(has(c.credential_source, "AWS_SESSION_TOKEN"));

    /* Set values win; the S3-specific endpoint and AWS_REGION come first. */
    setenv("AWS_ENDPOINT_URL_S3", "http://s3.example:9000", 1);
    setenv("AWS_REGION", "ap-south-1", 1);
    pgcdc_s3_config d = {.access_key = "mine", .secret_key = "my-secret", .credential_source = "x"};
    pgcdc_s3_config_from_env(&d);
    CHECK_STR(d.endpoint, "http://s3.example:9000");
    CHECK_STR(d.region, "ap-south-1");
    CHECK_STR(d.access_key, "mine");
    CHECK_STR(d.secret_key, "my-secret");
    CHECK(d.session_token == NULL);
    CHECK_STR(d.credential_source, "x");

    /* Half a pair in the config never takes the other half from the environment. */
    pgcdc_s3_config h = {.access_key = "mine"};
    pgcdc_s3_config_from_env(&h);
    CHECK(h.secret_key == NULL);
    for (const char *const *v =
             (const char *const[]){"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION",
                                   "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                                   "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", NULL};
         *v; v++)
        unsetenv(*v);
    pgcdc_s3_config none = {0};
    pgcdc_s3_config_from_env(&none);
    CHECK(none.access_key == NULL && none.endpoint == NULL && none.region == NULL);
}

static void test_client_new_checks(void)
{
    pgcdc_s3_config c = {.bucket = "lake", .access_key = "a", .secret_key = "s"};
    pgcdc_s3_client *cl = pgcdc_s3_client_new(&c, err, sizeof(err));
    CHECK(cl != NULL);
    if (cl)
        CHECK_STR(pgcdc_s3_client_url(cl), "s3://lake/");
    pgcdc_s3_client_free(cl);

    c.prefix = "/cdc/x/";
    c.endpoint = "http://127.0.0.1:9000/";
    cl = pgcdc_s3_client_new(&c, err, sizeof(err));
    CHECK(cl != NULL);
    if (cl)
        CHECK_STR(pgcdc_s3_client_url(cl), "s3://lake/cdc/x/");
    pgcdc_s3_client_free(cl);

    c.endpoint = "ftp://host";
    c.endpoint_key = "sink.lake.s3.endpoint";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "sink.lake.s3.endpoint") && has(err, "http://"));
    c.endpoint = "http://host:9000/bucket";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "without a path"));
    c.endpoint = "http://";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    c.endpoint = "http://user:pw@host";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(!has(err, "pw@") || has(err, "user info"));
    c.endpoint = NULL;

    c.region = "us east";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "region"));
    c.region = NULL;

    c.session_token = "tok\r\nx-evil: 1";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "session token") && !has(err, "evil"));
    c.session_token = NULL;

    c.secret_key = NULL;
    c.credential_source = "sink.lake.s3.access.key.id and sink.lake.s3.secret.access.key";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "no credentials") && has(err, "AWS_ACCESS_KEY_ID") &&
          has(err, "sink.lake.s3.secret.access.key"));
    c.secret_key = "s";

    c.bucket = "Lake_1";
    c.bucket_key = "sink.lake.root";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "sink.lake.root") && has(err, "Lake_1"));
    c.bucket = NULL;
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "no bucket"));
    c.bucket = "lake";
    c.prefix = "a//b";
    CHECK(pgcdc_s3_client_new(&c, err, sizeof(err)) == NULL);
    CHECK(has(err, "//"));
}

int main(void)
{
    TEST_RUN(test_url_parse);
    TEST_RUN(test_uri_encode);
    TEST_RUN(test_xml_text);
    TEST_RUN(test_parse_list);
    TEST_RUN(test_classify);
    TEST_RUN(test_config_from_env);
    TEST_RUN(test_client_new_checks);
    TEST_DONE();
}
