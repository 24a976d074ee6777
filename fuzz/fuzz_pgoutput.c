/*
 * fuzz_pgoutput.c - libFuzzer driver for the pgoutput message decoder.
 *
 * Input layout: one configuration byte, then payload.
 *   bits 0-1  protocol version - 1 (so versions 1..4)
 *   bit  2    start inside a stream block (pgcdc_pgo_set_in_stream)
 *   bit  3    also decode the payload as a sequence of frames
 *             ([UInt16 BE length][bytes] ...) through one parser, which
 *             exercises the Stream Start/Stop state machine and scratch reuse
 *
 * The payload is always decoded once as a single message. Every message is
 * copied into a heap buffer of exactly its size so AddressSanitizer catches
 * any read past the end. After a successful decode the driver walks every
 * returned pointer and checks it lies inside the input, trapping otherwise.
 *
 * Seeds live in fuzz/corpus/pgoutput/.
 */
#include "source/pg/pgoutput.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *g_base;
static size_t g_len;

static void check_span(const void *p, size_t n)
{
    const char *c = p;
    if (!c || c < g_base || n > g_len || (size_t)(c - g_base) > g_len - n)
        __builtin_trap();
}

/* A name must be a C string inside the message (or the "pg_catalog" literal
 * substituted for the empty namespace). */
static void check_name(const char *s, int may_be_literal)
{
    if (may_be_literal && s && strcmp(s, "pg_catalog") == 0 && (s < g_base || s >= g_base + g_len))
        return;
    check_span(s, 1);
    size_t n = strnlen(s, (size_t)(g_base + g_len - s));
    check_span(s, n + 1); /* the NUL itself is inside */
}

static void check_tuple(const pgcdc_pgo_tuple *t)
{
    for (uint16_t i = 0; i < t->ncols; i++) {
        const pgcdc_pgo_value *v = &t->cols[i];
        switch (v->kind) {
        case 't':
        case 'b':
            check_span(v->data, v->len);
            break;
        case 'n':
        case 'u':
            if (v->data || v->len)
                __builtin_trap();
            break;
        default:
            __builtin_trap();
        }
    }
}

static void check_msg(const pgcdc_pgo_msg *m, size_t len)
{
    if (m->wire_len != len)
        __builtin_trap();
    switch (m->type) {
    case PGCDC_PGO_ORIGIN:
        check_name(m->u.origin.name, 0);
        break;
    case PGCDC_PGO_RELATION:
        check_name(m->u.relation.nspname, 1);
        check_name(m->u.relation.relname, 0);
        for (uint16_t i = 0; i < m->u.relation.ncols; i++)
            check_name(m->u.relation.cols[i].name, 0);
        break;
    case PGCDC_PGO_TYPE:
        check_name(m->u.type.nspname, 1);
        check_name(m->u.type.typname, 0);
        break;
    case PGCDC_PGO_INSERT:
        check_tuple(&m->u.insert.newtup);
        break;
    case PGCDC_PGO_UPDATE:
        if (m->u.update.oldkind)
            check_tuple(&m->u.update.oldtup);
        check_tuple(&m->u.update.newtup);
        break;
    case PGCDC_PGO_DELETE:
        check_tuple(&m->u.del.oldtup);
        break;
    case PGCDC_PGO_TRUNCATE: {
        volatile uint32_t sum = 0;
        for (uint32_t i = 0; i < m->u.truncate.nrels; i++)
            sum += m->u.truncate.relids[i];
        (void)sum;
        break;
    }
    case PGCDC_PGO_MESSAGE:
        check_name(m->u.message.prefix, 0);
        if (m->u.message.len)
            check_span(m->u.message.content, m->u.message.len);
        break;
    default:
        break;
    }
}

static void decode_one(pgcdc_pgo_parser *ps, const uint8_t *p, size_t n)
{
    char *copy = malloc(n ? n : 1);
    if (!copy)
        return;
    if (n)
        memcpy(copy, p, n);
    g_base = copy;
    g_len = n;

    pgcdc_pgo_msg m;
    char err[256];
    int was_in_stream = pgcdc_pgo_in_stream(ps);
    if (pgcdc_pgo_parse(ps, copy, n, &m, err, sizeof(err)) == 0) {
        check_msg(&m, n);
    } else {
        if (err[0] == '\0')
            __builtin_trap(); /* every failure explains itself */
        if (pgcdc_pgo_in_stream(ps) != was_in_stream)
            __builtin_trap(); /* failures leave the stream state alone */
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    int proto = (cfg & 3) + 1;
    int in_stream = (cfg >> 2) & 1;
    data++;
    size--;

    pgcdc_pgo_parser *ps = pgcdc_pgo_parser_new(proto);
    if (!ps)
        return 0;
    pgcdc_pgo_set_in_stream(ps, in_stream);
    decode_one(ps, data, size);

    if (cfg & 8) {
        pgcdc_pgo_set_in_stream(ps, in_stream);
        size_t pos = 0;
        while (size - pos >= 2) {
            size_t n = ((size_t)data[pos] << 8) | data[pos + 1];
            pos += 2;
            if (n > size - pos)
                n = size - pos;
            decode_one(ps, data + pos, n);
            pos += n;
        }
    }
    pgcdc_pgo_parser_free(ps);
    return 0;
}
