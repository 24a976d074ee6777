/*
 * test_route.c - RegexRouter topic routing: whole-topic matches, groups,
 * chained transforms, and the configuration errors.
 */
#include <string.h>

#include "core/config.h"
#include "format/route.h"
#include "test.h"

static char err[512];

static pgcdc_router *make(pgcdc_config *cfg, const char *yaml)
{
    pgcdc_config_init(cfg);
    err[0] = 0;
    if (pgcdc_config_load_string(cfg, yaml, strlen(yaml), err, sizeof(err)) != 0)
        return NULL;
    return pgcdc_router_new(cfg, err, sizeof(err));
}

static void expect_route(const pgcdc_router *r, const char *in, const char *want)
{
    pgcdc_buf out = PGCDC_BUF_INIT;
    int changed = pgcdc_router_apply(r, in, strlen(in), &out);
    pgcdc_buf_putc(&out, 0);
    CHECK_STR(out.data, want);
    CHECK_INT(changed, strcmp(in, want) != 0);
    pgcdc_buf_free(&out);
}

static void test_regex_router(void)
{
    pgcdc_config cfg;
    pgcdc_router *r =
        make(&cfg, "topic.prefix: p\n"
                   "transforms: route, second\n"
                   "transforms.route.type: org.apache.kafka.connect.transforms.RegexRouter\n"
                   "transforms.route.regex: \"([^.]+)\\\\.([^.]+)\\\\.([^.]+)\"\n"
                   "transforms.route.replacement: \"$1_$3\"\n"
                   "transforms.second.type: org.apache.kafka.connect.transforms.RegexRouter\n"
                   "transforms.second.regex: \"p_orders\"\n"
                   "transforms.second.replacement: \"orders\\\\$\"\n");
    CHECK(r != NULL);
    expect_route(r, "p.public.items", "p_items");
    expect_route(r, "p.public.orders", "orders$"); /* chained, escaped $ */
    expect_route(r, "p.message", "p.message");     /* not a whole match */
    pgcdc_router_free(r);
    pgcdc_config_free(&cfg);

    /* none configured */
    CHECK(make(&cfg, "topic.prefix: p\n") == NULL);
    CHECK_STR(err, "");
    expect_route(NULL, "a.b", "a.b");
    pgcdc_config_free(&cfg);
}

static void test_errors(void)
{
    pgcdc_config cfg;
    CHECK(make(&cfg, "topic.prefix: p\ntransforms: unwrap\ntransforms.unwrap.type: "
                     "io.debezium.transforms.ExtractNewRecordState\n") == NULL);
    CHECK(strstr(err, "transforms.unwrap.type: io.debezium.transforms.ExtractNewRecordState is "
                      "not supported") != NULL);
    pgcdc_config_free(&cfg);
    CHECK(make(&cfg,
               "topic.prefix: p\ntransforms: r\ntransforms.r.type: "
               "org.apache.kafka.connect.transforms.RegexRouter\ntransforms.r.regex: x\n") == NULL);
    CHECK(strstr(err, "transforms.r.replacement is required") != NULL);
    pgcdc_config_free(&cfg);
    CHECK(make(&cfg, "topic.prefix: p\ntransforms.r.regex: x\n") == NULL);
    CHECK(strstr(err, "no transform of that name is listed") != NULL);
    pgcdc_config_free(&cfg);
    CHECK(make(&cfg, "topic.prefix: p\ntransforms: r\ntransforms.r.type: "
                     "org.apache.kafka.connect.transforms.RegexRouter\ntransforms.r.regex: "
                     "\"(\"\ntransforms.r.replacement: y\n") == NULL);
    CHECK(strstr(err, "transforms.r.regex: invalid regular expression") != NULL);
    pgcdc_config_free(&cfg);
    CHECK(make(&cfg, "topic.prefix: p\ntransforms: r\ntransforms.r.type: "
                     "org.apache.kafka.connect.transforms.RegexRouter\ntransforms.r.predicate: "
                     "x\n") == NULL);
    CHECK(strstr(err, "transforms.r.predicate: unknown property") != NULL);
    pgcdc_config_free(&cfg);
}

int main(void)
{
    TEST_RUN(test_regex_router);
    TEST_RUN(test_errors);
    TEST_DONE();
}
