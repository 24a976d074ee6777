/*
 * config_internal.h - helpers shared by config.c (table, values, docs) and
 * config_load.c (YAML / JSON parsing). Not part of the public contract.
 *
 * Error strings written by these helpers are message bodies without the
 * "config: " prefix and without a location, e.g.
 * "database.port: invalid value 'x' (expected an integer from 1 to 65535)";
 * the caller adds the prefix and, when it knows one, the file and line.
 */
#ifndef PGCDC_CORE_CONFIG_INTERNAL_H
#define PGCDC_CORE_CONFIG_INTERNAL_H

#include <stddef.h>

#include "core/config.h"

/* Index of a key in pgcdc_cfg_keys[] by name or alias, or -1. */
int pgcdc_cfg_key_index(const char *name);

/* Sets key k (given by the user as `given`, which may be the alias) from
 * text; value NULL resets the key to its default. 0 or -1 with a body. */
int pgcdc_cfg_set_key(pgcdc_config *cfg, const pgcdc_cfg_key *k, const char *given,
                      const char *value, char *errstr, size_t errstr_size);

/* Body for a key that is not in the table: rejected families (transforms,
 * MySQL history) get an explanation, others a did-you-mean suggestion. */
void pgcdc_cfg_unknown_key(const char *name, char *errstr, size_t errstr_size);

/* 1 if the key takes a list (a YAML / JSON sequence is joined with ','). */
int pgcdc_cfg_list_valued(const pgcdc_cfg_key *k);

/* Printable form of user text for error messages: "***" for secrets (k may
 * be NULL), control bytes as '?', long values cut with "...". */
void pgcdc_cfg_show(const pgcdc_cfg_key *k, const char *v, size_t vlen, char *out, size_t outsz);

#endif
