/*
 * route.c - RegexRouter topic routing (see route.h).
 */
#include "format/route.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGEX_ROUTER "org.apache.kafka.connect.transforms.RegexRouter"

typedef struct route {
    regex_t re;
    char *replacement;
} route;

struct pgcdc_router {
    route *routes;
    int n;
};

void pgcdc_router_free(pgcdc_router *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        regfree(&r->routes[i].re);
        free(r->routes[i].replacement);
    }
    free(r->routes);
    free(r);
}

/* The value of transforms.<name>.<prop>, or NULL. */
static const char *prop(const pgcdc_config *cfg, const char *name, const char *p)
{
    size_t nl = strlen(name);
    for (int i = 0; i < cfg->ntransform_props; i++) {
        const char *k = cfg->transform_props[2 * i];
        if (!strncmp(k, name, nl) && k[nl] == '.' && !strcmp(k + nl + 1, p))
            return cfg->transform_props[2 * i + 1];
    }
    return NULL;
}

/* Whether every transforms.<name>.<prop> belongs to a listed transform and
 * is one RegexRouter knows. */
static int check_props(const pgcdc_config *cfg, char *errstr, size_t errstr_size)
{
    for (int i = 0; i < cfg->ntransform_props; i++) {
        const char *k = cfg->transform_props[2 * i];
        const char *dot = strrchr(k, '.');
        int listed = 0;
        pgcdc_buf item = PGCDC_BUF_INIT;
        const char *pos = cfg->transforms ? cfg->transforms : "";
        while (dot && pgcdc_config_list_next(&pos, &item))
            listed |= item.len == (size_t)(dot - k) && !memcmp(item.data, k, item.len);
        pgcdc_buf_free(&item);
        if (!listed) {
            snprintf(errstr, errstr_size,
                     "transforms.%s: no transform of that name is listed in transforms", k);
            return -1;
        }
        if (strcmp(dot + 1, "type") && strcmp(dot + 1, "regex") && strcmp(dot + 1, "replacement")) {
            snprintf(errstr, errstr_size,
                     "transforms.%s: unknown property (RegexRouter takes type, regex and "
                     "replacement)",
                     k);
            return -1;
        }
    }
    return 0;
}

pgcdc_router *pgcdc_router_new(const pgcdc_config *cfg, char *errstr, size_t errstr_size)
{
    errstr[0] = 0;
    if ((!cfg->transforms || !*cfg->transforms) && cfg->ntransform_props == 0)
        return NULL;
    if (check_props(cfg, errstr, errstr_size) != 0)
        return NULL;
    pgcdc_router *r = calloc(1, sizeof(*r));
    pgcdc_buf name = PGCDC_BUF_INIT, anchored = PGCDC_BUF_INIT;
    if (!r)
        goto oom;
    const char *pos = cfg->transforms ? cfg->transforms : "";
    while (pgcdc_config_list_next(&pos, &name)) {
        const char *type = prop(cfg, name.data, "type");
        const char *regex = prop(cfg, name.data, "regex");
        const char *repl = prop(cfg, name.data, "replacement");
        if (!type || strcmp(type, REGEX_ROUTER) != 0) {
            snprintf(errstr, errstr_size,
                     "transforms.%s.type: %s%s; pgcdc applies " REGEX_ROUTER
                     " (topic routing) only: remove the transform or do it downstream",
                     name.data, type ? type : "missing", type ? " is not supported" : "");
            goto fail;
        }
        if (!regex || !repl) {
            snprintf(errstr, errstr_size, "transforms.%s.%s is required for RegexRouter", name.data,
                     !regex ? "regex" : "replacement");
            goto fail;
        }
        route *nr = realloc(r->routes, (size_t)(r->n + 1) * sizeof(*nr));
        if (!nr)
            goto oom;
        r->routes = nr;
        /* a whole-topic match, like Java's Matcher.matches(); the outer group
         * shifts the user's groups by one */
        pgcdc_buf_reset(&anchored);
        pgcdc_buf_printf(&anchored, "^(%s)$", regex);
        int rc = regcomp(&r->routes[r->n].re, anchored.data, REG_EXTENDED);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &r->routes[r->n].re, msg, sizeof(msg));
            snprintf(errstr, errstr_size,
                     "transforms.%s.regex: invalid regular expression '%s': %s (POSIX extended "
                     "syntax)",
                     name.data, regex, msg);
            goto fail;
        }
        if (!(r->routes[r->n].replacement = strdup(repl))) {
            regfree(&r->routes[r->n].re);
            goto oom;
        }
        r->n++;
    }
    pgcdc_buf_free(&name);
    pgcdc_buf_free(&anchored);
    return r;
oom:
    snprintf(errstr, errstr_size, "transforms: out of memory");
fail:
    pgcdc_buf_free(&name);
    pgcdc_buf_free(&anchored);
    pgcdc_router_free(r);
    return NULL;
}

/* Applies one route to in (NUL-terminated); 1 if it matched. */
static int route_one(const route *rt, const char *in, pgcdc_buf *out)
{
    regmatch_t m[11];
    if (regexec(&rt->re, in, 11, m, 0) != 0)
        return 0;
    pgcdc_buf_reset(out);
    for (const char *p = rt->replacement; *p; p++) {
        if (*p == '\\' && p[1]) {
            pgcdc_buf_putc(out, *++p);
        } else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int g = p[1] - '0' + 1; /* group 1 is the whole-match wrapper */
            p++;
            if (g < 11 && m[g].rm_so >= 0)
                pgcdc_buf_append(out, in + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
        } else {
            pgcdc_buf_putc(out, *p);
        }
    }
    return 1;
}

int pgcdc_router_apply(const pgcdc_router *r, const char *topic, size_t len, pgcdc_buf *out)
{
    pgcdc_buf_reset(out);
    pgcdc_buf_append(out, topic, len);
    if (!r)
        return 0;
    int changed = 0;
    pgcdc_buf cur = PGCDC_BUF_INIT, next = PGCDC_BUF_INIT;
    pgcdc_buf_append(&cur, topic, len);
    pgcdc_buf_putc(&cur, 0);
    for (int i = 0; i < r->n; i++) {
        if (route_one(&r->routes[i], cur.data, &next)) {
            changed = 1;
            pgcdc_buf_reset(&cur);
            pgcdc_buf_append(&cur, next.data, next.len);
            pgcdc_buf_putc(&cur, 0);
        }
    }
    if (changed) {
        pgcdc_buf_reset(out);
        pgcdc_buf_append(out, cur.data, cur.len - 1);
    }
    pgcdc_buf_free(&cur);
    pgcdc_buf_free(&next);
    return changed;
}
