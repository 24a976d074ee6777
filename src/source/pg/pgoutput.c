/*
 * pgoutput.c - decoder for PostgreSQL's pgoutput logical replication
 * messages, protocol versions 1 to 4 (see pgoutput.h for the contract).
 *
 * One call decodes one message: the payload of one XLogData ('w') copy
 * message, starting at the type byte. The walsender never packs two pgoutput
 * messages into one XLogData (Begin + Origin and Stream Start + Origin are
 * separate writes), so bytes left over after a complete message are an error.
 *
 * Layouts follow the "Logical Replication Message Formats" chapter of the
 * PostgreSQL protocol documentation. All integers are big-endian and are
 * assembled byte by byte, so the input needs no alignment. Strings and
 * column values are returned as pointers into the input; arrays whose length
 * comes from the wire live in scratch storage owned by the parser, grown
 * geometrically and reused, so steady-state decoding does not allocate.
 *
 * Every read is bounds-checked against the message length before it
 * happens; counts read from the wire are checked against the bytes that
 * remain before any scratch storage is grown for them, so a short message
 * with a huge count fails fast instead of allocating.
 */
#include "source/pg/pgoutput.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PGO_PROTO_MIN 1
#define PGO_PROTO_MAX 4
#define PGO_PROTO_STREAM 2   /* streaming of in-progress transactions */
#define PGO_PROTO_PARALLEL 4 /* Stream Abort may carry abort LSN and time */

/* Smallest wire size of one Relation column: flags, empty name (NUL),
 * type OID, typmod. */
#define PGO_RELCOL_MIN_WIRE 10
/* Abort LSN plus abort timestamp at the end of a parallel Stream Abort. */
#define PGO_ABORT_INFO_WIRE 16

struct pgcdc_pgo_parser {
    int proto;
    int in_stream;
    /* Scratch: [0] is the old tuple of Update/Delete or the new tuple of
     * Insert, [1] the new tuple of Update. */
    pgcdc_pgo_value *tup[2];
    size_t tupcap[2];
    pgcdc_pgo_relcol *relcols;
    size_t relcolcap;
    uint32_t *relids;
    size_t relidcap;
};

/* Cursor over one message; carries what the error messages need. */
typedef struct pgo_reader {
    const unsigned char *p;
    size_t len;
    size_t pos;
    const char *what; /* message name, e.g. "Update" */
    char *errstr;
    size_t errstr_size;
} pgo_reader;

const char *pgcdc_pgo_msg_name(char type)
{
    switch (type) {
    case PGCDC_PGO_BEGIN:
        return "Begin";
    case PGCDC_PGO_COMMIT:
        return "Commit";
    case PGCDC_PGO_ORIGIN:
        return "Origin";
    case PGCDC_PGO_RELATION:
        return "Relation";
    case PGCDC_PGO_TYPE:
        return "Type";
    case PGCDC_PGO_INSERT:
        return "Insert";
    case PGCDC_PGO_UPDATE:
        return "Update";
    case PGCDC_PGO_DELETE:
        return "Delete";
    case PGCDC_PGO_TRUNCATE:
        return "Truncate";
    case PGCDC_PGO_MESSAGE:
        return "Message";
    case PGCDC_PGO_STREAM_START:
        return "Stream Start";
    case PGCDC_PGO_STREAM_STOP:
        return "Stream Stop";
    case PGCDC_PGO_STREAM_COMMIT:
        return "Stream Commit";
    case PGCDC_PGO_STREAM_ABORT:
        return "Stream Abort";
    case 'b':
        return "Begin Prepare";
    case 'P':
        return "Prepare";
    case 'K':
        return "Commit Prepared";
    case 'r':
        return "Rollback Prepared";
    case 'p':
        return "Stream Prepare";
    default:
        return "unknown";
    }
}

static void pgo_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), cold, noinline));

static void pgo_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (!errstr || errstr_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

/* Formats a byte for error messages: "0x41 ('A')" or "0x07". */
static const char *pgo_byte_desc(unsigned char c, char *tmp, size_t tmpsize)
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(tmp, tmpsize, "0x%02x ('%c')", (unsigned)c, (char)c);
    else
        snprintf(tmp, tmpsize, "0x%02x", (unsigned)c);
    return tmp;
}

static int pgo_truncated(pgo_reader *r, uint64_t need) __attribute__((cold, noinline));

/* `need` is the number of bytes the next read wants from the cursor on;
 * 64 bits wide so that counts from the wire times element sizes cannot
 * overflow. */
static int pgo_truncated(pgo_reader *r, uint64_t need)
{
    pgo_err(r->errstr, r->errstr_size,
            "pgoutput: truncated %s message at byte %zu (need %llu more bytes)", r->what, r->pos,
            (unsigned long long)(need - (uint64_t)(r->len - r->pos)));
    return -1;
}

static inline size_t pgo_left(const pgo_reader *r)
{
    return r->len - r->pos;
}

static inline int pgo_need(pgo_reader *r, size_t n)
{
    if (pgo_left(r) < n)
        return pgo_truncated(r, n);
    return 0;
}

static inline int pgo_u8(pgo_reader *r, uint8_t *out)
{
    if (pgo_need(r, 1))
        return -1;
    *out = r->p[r->pos++];
    return 0;
}

static inline int pgo_u16(pgo_reader *r, uint16_t *out)
{
    if (pgo_need(r, 2))
        return -1;
    const unsigned char *b = r->p + r->pos;
    *out = (uint16_t)(((unsigned)b[0] << 8) | (unsigned)b[1]);
    r->pos += 2;
    return 0;
}

static inline int pgo_u32(pgo_reader *r, uint32_t *out)
{
    if (pgo_need(r, 4))
        return -1;
    const unsigned char *b = r->p + r->pos;
    *out = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
    r->pos += 4;
    return 0;
}

static inline int pgo_i32(pgo_reader *r, int32_t *out)
{
    uint32_t u;
    if (pgo_u32(r, &u))
        return -1;
    memcpy(out, &u, sizeof(*out)); /* two's complement reinterpretation, no UB */
    return 0;
}

static inline int pgo_u64(pgo_reader *r, uint64_t *out)
{
    if (pgo_need(r, 8))
        return -1;
    const unsigned char *b = r->p + r->pos;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (uint64_t)b[i];
    *out = v;
    r->pos += 8;
    return 0;
}

static inline int pgo_i64(pgo_reader *r, int64_t *out)
{
    uint64_t u;
    if (pgo_u64(r, &u))
        return -1;
    memcpy(out, &u, sizeof(*out));
    return 0;
}

/* Returns a pointer to the NUL-terminated string at the cursor and moves
 * past its NUL; fails if no NUL lies before the end of the message. */
static int pgo_str(pgo_reader *r, const char **out)
{
    const unsigned char *s = r->p + r->pos;
    const unsigned char *nul = pgo_left(r) ? memchr(s, 0, pgo_left(r)) : NULL;
    if (!nul) {
        pgo_err(r->errstr, r->errstr_size,
                "pgoutput: unterminated string in %s message at byte %zu (no NUL in the last "
                "%zu bytes)",
                r->what, r->pos, pgo_left(r));
        return -1;
    }
    *out = (const char *)s;
    r->pos += (size_t)(nul - s) + 1;
    return 0;
}

/* Namespace names: pgoutput sends "" for pg_catalog to save space. */
static int pgo_nspname(pgo_reader *r, const char **out)
{
    if (pgo_str(r, out))
        return -1;
    if ((*out)[0] == '\0')
        *out = "pg_catalog";
    return 0;
}

/* Grows a scratch array to hold at least `n` elements of `elsize` bytes.
 * Geometric growth keeps reallocations rare; contents need not survive. */
static int pgo_grow(void **arr, size_t *cap, size_t n, size_t elsize, pgo_reader *r)
{
    if (n <= *cap && *arr)
        return 0; /* steady state; the first call allocates even for n == 0, so
                     decoded arrays are never NULL */
    size_t ncap = *cap ? *cap : 16;
    while (ncap < n)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elsize);
    if (!p) {
        pgo_err(r->errstr, r->errstr_size,
                "pgoutput: out of memory growing scratch storage to %zu entries for %s message",
                ncap, r->what);
        return -1;
    }
    *arr = p;
    *cap = ncap;
    return 0;
}

/*
 * Decodes a TupleData (Int16 column count, then per column a kind byte and,
 * for 't' and 'b', an Int32 length and that many bytes) into scratch slot
 * `slot`. The count is checked against the remaining bytes (every column
 * takes at least its kind byte) before scratch is grown.
 */
static int pgo_tuple(pgcdc_pgo_parser *ps, pgo_reader *r, int slot, pgcdc_pgo_tuple *out)
{
    uint16_t ncols;
    if (pgo_u16(r, &ncols))
        return -1;
    if (pgo_need(r, ncols))
        return -1;
    if (pgo_grow((void **)&ps->tup[slot], &ps->tupcap[slot], ncols, sizeof(pgcdc_pgo_value), r))
        return -1;

    pgcdc_pgo_value *cols = ps->tup[slot];
    const unsigned char *p = r->p;
    size_t pos = r->pos, len = r->len;
    for (uint16_t i = 0; i < ncols; i++) {
        if (pos >= len) {
            r->pos = pos;
            return pgo_truncated(r, 1);
        }
        unsigned char kind = p[pos++];
        pgcdc_pgo_value *v = &cols[i];
        v->kind = (char)kind;
        switch (kind) {
        case 't':
        case 'b': {
            if (len - pos < 4) {
                r->pos = pos;
                return pgo_truncated(r, 4);
            }
            uint32_t vlen = ((uint32_t)p[pos] << 24) | ((uint32_t)p[pos + 1] << 16) |
                            ((uint32_t)p[pos + 2] << 8) | (uint32_t)p[pos + 3];
            pos += 4;
            if (len - pos < vlen) {
                r->pos = pos;
                return pgo_truncated(r, vlen);
            }
            v->len = vlen;
            v->data = (const char *)p + pos;
            pos += vlen;
            break;
        }
        case 'n':
        case 'u':
            v->len = 0;
            v->data = NULL;
            break;
        default: {
            char tmp[16];
            pgo_err(r->errstr, r->errstr_size,
                    "pgoutput: unknown tuple column kind %s in %s message at byte %zu (column "
                    "%u of %u)",
                    pgo_byte_desc(kind, tmp, sizeof(tmp)), r->what, pos - 1, (unsigned)i + 1u,
                    (unsigned)ncols);
            return -1;
        }
        }
    }
    r->pos = pos;
    out->ncols = ncols;
    out->cols = cols;
    return 0;
}

static int pgo_bad_tag(pgo_reader *r, unsigned char got, const char *expected)
    __attribute__((cold, noinline));

static int pgo_bad_tag(pgo_reader *r, unsigned char got, const char *expected)
{
    char tmp[16];
    pgo_err(r->errstr, r->errstr_size, "pgoutput: %s message at byte %zu: expected %s, got %s",
            r->what, r->pos - 1, expected, pgo_byte_desc(got, tmp, sizeof(tmp)));
    return -1;
}

static int pgo_begin(pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u64(r, &m->u.begin.final_lsn) || pgo_i64(r, &m->u.begin.commit_ts) ||
        pgo_u32(r, &m->u.begin.xid))
        return -1;
    return 0;
}

static int pgo_commit(pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u8(r, &m->u.commit.flags) || pgo_u64(r, &m->u.commit.commit_lsn) ||
        pgo_u64(r, &m->u.commit.end_lsn) || pgo_i64(r, &m->u.commit.commit_ts))
        return -1;
    return 0;
}

static int pgo_origin(pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u64(r, &m->u.origin.lsn) || pgo_str(r, &m->u.origin.name))
        return -1;
    return 0;
}

static int pgo_relation(pgcdc_pgo_parser *ps, pgo_reader *r, pgcdc_pgo_msg *m)
{
    uint8_t replident;
    uint16_t ncols;
    if (pgo_u32(r, &m->u.relation.relid) || pgo_nspname(r, &m->u.relation.nspname) ||
        pgo_str(r, &m->u.relation.relname) || pgo_u8(r, &replident) || pgo_u16(r, &ncols))
        return -1;
    m->u.relation.replident = (char)replident;
    if (pgo_need(r, (size_t)ncols * PGO_RELCOL_MIN_WIRE))
        return -1;
    if (pgo_grow((void **)&ps->relcols, &ps->relcolcap, ncols, sizeof(pgcdc_pgo_relcol), r))
        return -1;
    for (uint16_t i = 0; i < ncols; i++) {
        pgcdc_pgo_relcol *c = &ps->relcols[i];
        if (pgo_u8(r, &c->flags) || pgo_str(r, &c->name) || pgo_u32(r, &c->type_oid) ||
            pgo_i32(r, &c->typmod))
            return -1;
    }
    m->u.relation.ncols = ncols;
    m->u.relation.cols = ps->relcols;
    return 0;
}

static int pgo_type(pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u32(r, &m->u.type.oid) || pgo_nspname(r, &m->u.type.nspname) ||
        pgo_str(r, &m->u.type.typname))
        return -1;
    return 0;
}

static int pgo_insert(pgcdc_pgo_parser *ps, pgo_reader *r, pgcdc_pgo_msg *m)
{
    uint8_t tag;
    if (pgo_u32(r, &m->u.insert.relid) || pgo_u8(r, &tag))
        return -1;
    if (tag != 'N')
        return pgo_bad_tag(r, tag, "'N' (new tuple)");
    return pgo_tuple(ps, r, 0, &m->u.insert.newtup);
}

static int pgo_update(pgcdc_pgo_parser *ps, pgo_reader *r, pgcdc_pgo_msg *m)
{
    uint8_t tag;
    if (pgo_u32(r, &m->u.update.relid) || pgo_u8(r, &tag))
        return -1;
    if (tag == 'K' || tag == 'O') {
        m->u.update.oldkind = (char)tag;
        if (pgo_tuple(ps, r, 0, &m->u.update.oldtup) || pgo_u8(r, &tag))
            return -1;
        if (tag != 'N')
            return pgo_bad_tag(r, tag, "'N' (new tuple)");
    } else if (tag != 'N') {
        return pgo_bad_tag(r, tag, "'K', 'O' or 'N'");
    }
    return pgo_tuple(ps, r, 1, &m->u.update.newtup);
}

static int pgo_delete(pgcdc_pgo_parser *ps, pgo_reader *r, pgcdc_pgo_msg *m)
{
    uint8_t tag;
    if (pgo_u32(r, &m->u.del.relid) || pgo_u8(r, &tag))
        return -1;
    if (tag != 'K' && tag != 'O')
        return pgo_bad_tag(r, tag, "'K' (key) or 'O' (old tuple)");
    m->u.del.oldkind = (char)tag;
    return pgo_tuple(ps, r, 0, &m->u.del.oldtup);
}

static int pgo_truncate(pgcdc_pgo_parser *ps, pgo_reader *r, pgcdc_pgo_msg *m)
{
    uint32_t nrels;
    if (pgo_u32(r, &nrels) || pgo_u8(r, &m->u.truncate.options))
        return -1;
    /* Compare as a count, not nrels * 4, so a huge count cannot overflow. */
    if (nrels > pgo_left(r) / 4)
        return pgo_truncated(r, (uint64_t)nrels * 4);
    if (pgo_grow((void **)&ps->relids, &ps->relidcap, nrels, sizeof(uint32_t), r))
        return -1;
    for (uint32_t i = 0; i < nrels; i++)
        (void)pgo_u32(r, &ps->relids[i]); /* cannot fail: length checked above */
    m->u.truncate.nrels = nrels;
    m->u.truncate.relids = ps->relids;
    return 0;
}

static int pgo_message(pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u8(r, &m->u.message.flags) || pgo_u64(r, &m->u.message.lsn) ||
        pgo_str(r, &m->u.message.prefix) || pgo_u32(r, &m->u.message.len))
        return -1;
    if (pgo_need(r, m->u.message.len))
        return -1;
    m->u.message.content = (const char *)r->p + r->pos;
    r->pos += m->u.message.len;
    return 0;
}

static int pgo_stream_start(pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u32(r, &m->u.stream_start.xid) || pgo_u8(r, &m->u.stream_start.first_segment))
        return -1;
    return 0;
}

static int pgo_stream_commit(pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u32(r, &m->u.stream_commit.xid) || pgo_u8(r, &m->u.stream_commit.flags) ||
        pgo_u64(r, &m->u.stream_commit.commit_lsn) || pgo_u64(r, &m->u.stream_commit.end_lsn) ||
        pgo_i64(r, &m->u.stream_commit.commit_ts))
        return -1;
    return 0;
}

/*
 * Stream Abort: xid and subxid, then (protocol 4 with streaming = parallel
 * only) the abort LSN and abort timestamp. Nothing on the wire says which
 * form was sent, so the form is chosen from the remaining length: 0 bytes
 * left means no abort info, anything else must be exactly the 16-byte tail
 * and is only accepted from protocol 4 on.
 */
static int pgo_stream_abort(pgcdc_pgo_parser *ps, pgo_reader *r, pgcdc_pgo_msg *m)
{
    if (pgo_u32(r, &m->u.stream_abort.xid) || pgo_u32(r, &m->u.stream_abort.subxid))
        return -1;
    if (pgo_left(r) == 0 || ps->proto < PGO_PROTO_PARALLEL)
        return 0; /* protocol < 4: leftover bytes are reported as trailing garbage */
    if (pgo_u64(r, &m->u.stream_abort.abort_lsn) || pgo_i64(r, &m->u.stream_abort.abort_ts))
        return -1;
    m->u.stream_abort.has_abort_info = 1;
    return 0;
}

/* Checks the stream state and protocol version a message type needs. */
static int pgo_check_state(const pgcdc_pgo_parser *ps, pgo_reader *r, char type)
{
    int is_stream_ctl = type == PGCDC_PGO_STREAM_START || type == PGCDC_PGO_STREAM_STOP ||
                        type == PGCDC_PGO_STREAM_COMMIT || type == PGCDC_PGO_STREAM_ABORT;
    if (is_stream_ctl && ps->proto < PGO_PROTO_STREAM) {
        pgo_err(r->errstr, r->errstr_size,
                "pgoutput: %s message needs protocol version %d or later, parser is at version "
                "%d",
                r->what, PGO_PROTO_STREAM, ps->proto);
        return -1;
    }
    switch (type) {
    case PGCDC_PGO_STREAM_STOP:
        if (!ps->in_stream) {
            pgo_err(r->errstr, r->errstr_size,
                    "pgoutput: Stream Stop message outside a stream block");
            return -1;
        }
        return 0;
    case PGCDC_PGO_BEGIN:
    case PGCDC_PGO_COMMIT:
    case PGCDC_PGO_STREAM_START:
    case PGCDC_PGO_STREAM_COMMIT:
    case PGCDC_PGO_STREAM_ABORT:
        if (ps->in_stream) {
            pgo_err(r->errstr, r->errstr_size,
                    "pgoutput: %s message inside a stream block (missing Stream Stop)", r->what);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

pgcdc_pgo_parser *pgcdc_pgo_parser_new(int proto_version)
{
    pgcdc_pgo_parser *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return NULL;
    if (proto_version < PGO_PROTO_MIN)
        proto_version = PGO_PROTO_MIN;
    if (proto_version > PGO_PROTO_MAX)
        proto_version = PGO_PROTO_MAX;
    ps->proto = proto_version;
    return ps;
}

void pgcdc_pgo_parser_free(pgcdc_pgo_parser *parser)
{
    if (!parser)
        return;
    free(parser->tup[0]);
    free(parser->tup[1]);
    free(parser->relcols);
    free(parser->relids);
    free(parser);
}

int pgcdc_pgo_in_stream(const pgcdc_pgo_parser *parser)
{
    return parser->in_stream;
}

void pgcdc_pgo_set_in_stream(pgcdc_pgo_parser *parser, int in_stream)
{
    parser->in_stream = in_stream ? 1 : 0;
}

/*
 * Decodes one message. The stream state only changes when a Stream Start
 * or Stream Stop decodes completely; a failed call leaves the parser state
 * as it was (scratch contents excepted) and *msg partially filled.
 */
int pgcdc_pgo_parse(pgcdc_pgo_parser *parser, const char *buf, size_t len, pgcdc_pgo_msg *msg,
                    char *errstr, size_t errstr_size)
{
    memset(msg, 0, sizeof(*msg));
    if (errstr && errstr_size)
        errstr[0] = '\0';
    if (!buf || len == 0) {
        pgo_err(errstr, errstr_size, "pgoutput: empty message");
        return -1;
    }

    char type = buf[0];
    pgo_reader r = {(const unsigned char *)buf, len,    1,
                    pgcdc_pgo_msg_name(type),   errstr, errstr_size};
    msg->type = type;
    if (pgo_check_state(parser, &r, type))
        return -1;

    int rc;
    switch (type) {
    case PGCDC_PGO_BEGIN:
        rc = pgo_begin(&r, msg);
        break;
    case PGCDC_PGO_COMMIT:
        rc = pgo_commit(&r, msg);
        break;
    case PGCDC_PGO_ORIGIN:
        rc = pgo_origin(&r, msg);
        break;
    case PGCDC_PGO_RELATION:
    case PGCDC_PGO_TYPE:
    case PGCDC_PGO_INSERT:
    case PGCDC_PGO_UPDATE:
    case PGCDC_PGO_DELETE:
    case PGCDC_PGO_TRUNCATE:
    case PGCDC_PGO_MESSAGE:
        /* Inside a stream block these carry the (sub)transaction xid. */
        if (parser->in_stream && pgo_u32(&r, &msg->xid))
            return -1;
        switch (type) {
        case PGCDC_PGO_RELATION:
            rc = pgo_relation(parser, &r, msg);
            break;
        case PGCDC_PGO_TYPE:
            rc = pgo_type(&r, msg);
            break;
        case PGCDC_PGO_INSERT:
            rc = pgo_insert(parser, &r, msg);
            break;
        case PGCDC_PGO_UPDATE:
            rc = pgo_update(parser, &r, msg);
            break;
        case PGCDC_PGO_DELETE:
            rc = pgo_delete(parser, &r, msg);
            break;
        case PGCDC_PGO_TRUNCATE:
            rc = pgo_truncate(parser, &r, msg);
            break;
        default:
            rc = pgo_message(&r, msg);
            break;
        }
        break;
    case PGCDC_PGO_STREAM_START:
        rc = pgo_stream_start(&r, msg);
        break;
    case PGCDC_PGO_STREAM_STOP:
        rc = 0;
        break;
    case PGCDC_PGO_STREAM_COMMIT:
        rc = pgo_stream_commit(&r, msg);
        break;
    case PGCDC_PGO_STREAM_ABORT:
        rc = pgo_stream_abort(parser, &r, msg);
        break;
    case 'b':
    case 'P':
    case 'K':
    case 'r':
    case 'p':
        pgo_err(errstr, errstr_size,
                "pgoutput: two-phase message '%c' (%s) is not supported: pgcdc does not request "
                "two_phase",
                type, r.what);
        return -1;
    default: {
        char tmp[16];
        pgo_err(errstr, errstr_size, "pgoutput: unknown message type %s at byte 0",
                pgo_byte_desc((unsigned char)type, tmp, sizeof(tmp)));
        return -1;
    }
    }
    if (rc)
        return -1;

    if (r.pos != len) {
        pgo_err(errstr, errstr_size,
                "pgoutput: %zu trailing bytes after a complete %s message at byte %zu", len - r.pos,
                r.what, r.pos);
        return -1;
    }

    if (type == PGCDC_PGO_STREAM_START)
        parser->in_stream = 1;
    else if (type == PGCDC_PGO_STREAM_STOP)
        parser->in_stream = 0;
    msg->wire_len = len;
    return 0;
}
