/*
 * kafka_conf.c - librdkafka configuration shared by the Kafka sink and the
 * Kafka source (see kafka_conf.h).
 */
#include "common/kafka_conf.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

#define LOG "kafka"

int pgcdc_kafka_conf_set(rd_kafka_conf_t *conf, const char *who, const char *key, const char *value,
                         const char *given, char *errstr, size_t errstr_size)
{
    char err[256];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(errstr, errstr_size, "%s: %s: %s", who, given ? given : key, err);
    return -1;
}

/* Takes username="..." and password="..." out of a JAAS line. */
static int jaas_value(const char *jaas, const char *name, char *out, size_t out_size)
{
    size_t n = strlen(name);
    for (const char *p = jaas; (p = strstr(p, name)); p += n) {
        const char *q = p + n;
        while (*q == ' ')
            q++;
        if (*q != '=' || (p > jaas && p[-1] != ' ' && p[-1] != '\t'))
            continue;
        q++;
        while (*q == ' ')
            q++;
        if (*q != '"')
            continue;
        const char *end = strchr(++q, '"');
        if (!end || (size_t)(end - q) >= out_size)
            return -1;
        memcpy(out, q, (size_t)(end - q));
        out[end - q] = 0;
        return 0;
    }
    return -1;
}

int pgcdc_kafka_conf_apply(rd_kafka_conf_t *conf, const pgcdc_config *cfg, int role,
                           const char *who, char *errstr, size_t errstr_size)
{
    char client_id[200];
    snprintf(client_id, sizeof(client_id), "pgcdc-%s", cfg->name ? cfg->name : "pgcdc");
    if (pgcdc_kafka_conf_set(conf, who, "bootstrap.servers", cfg->kafka_bootstrap,
                             "bootstrap.servers", errstr, errstr_size) ||
        pgcdc_kafka_conf_set(conf, who, "client.id", client_id, NULL, errstr, errstr_size))
        return -1;
    if (cfg->kafka_security_protocol &&
        pgcdc_kafka_conf_set(conf, who, "security.protocol", cfg->kafka_security_protocol,
                             "security.protocol", errstr, errstr_size))
        return -1;
    if (cfg->kafka_sasl_mechanism &&
        pgcdc_kafka_conf_set(conf, who, "sasl.mechanisms", cfg->kafka_sasl_mechanism,
                             "sasl.mechanism", errstr, errstr_size))
        return -1;
    if (cfg->kafka_sasl_jaas && *cfg->kafka_sasl_jaas) {
        char user[256], pass[256];
        if (jaas_value(cfg->kafka_sasl_jaas, "username", user, sizeof(user)) ||
            jaas_value(cfg->kafka_sasl_jaas, "password", pass, sizeof(pass))) {
            snprintf(errstr, errstr_size,
                     "%s: sasl.jaas.config: expected ... username=\"<user>\" "
                     "password=\"<password>\"; (or give kafka.sasl.username and "
                     "kafka.sasl.password)",
                     who);
            return -1;
        }
        int r = pgcdc_kafka_conf_set(conf, who, "sasl.username", user, "sasl.jaas.config", errstr,
                                     errstr_size) ||
                pgcdc_kafka_conf_set(conf, who, "sasl.password", pass, "sasl.jaas.config", errstr,
                                     errstr_size);
        explicit_bzero(pass, sizeof(pass));
        if (r)
            return -1;
    }
    for (int i = 0; i < cfg->nkafka_props; i++) {
        if (!(cfg->kafka_prop_roles[i] & role))
            continue;
        const char *k = cfg->kafka_props[2 * i], *v = cfg->kafka_props[2 * i + 1];
        char given[300];
        snprintf(given, sizeof(given), "kafka property %s", k);
        if (pgcdc_kafka_conf_set(conf, who, k, v, given, errstr, errstr_size))
            return -1;
    }
    return 0;
}

const char *pgcdc_kafka_conf_given(const pgcdc_config *cfg, int role, const char *prop)
{
    for (int i = 0; i < cfg->nkafka_props; i++)
        if ((cfg->kafka_prop_roles[i] & role) && !strcmp(cfg->kafka_props[2 * i], prop))
            return cfg->kafka_props[2 * i + 1];
    return NULL;
}

void pgcdc_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        pgcdc_log_error(LOG, "%s: %s", fac, buf);
    else if (level <= 4)
        pgcdc_log_warn(LOG, "%s: %s", fac, buf);
    else
        pgcdc_log_debug(LOG, "%s: %s", fac, buf);
}
