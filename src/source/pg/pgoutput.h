/*
 * pgoutput.h - decoder for PostgreSQL's pgoutput logical replication
 * messages (protocol versions 1 to 4).
 *
 * Zero-copy: every string and column value in a decoded message points into
 * the caller's input buffer, which must outlive the use of the message.
 * Strings that are NUL-terminated on the wire (names) are returned as C
 * strings after checking that the NUL lies inside the buffer; column values
 * are (pointer, length) pairs and are not terminated. Arrays whose count is
 * only known from the wire (tuple columns, relation columns, truncate relids)
 * live in scratch storage owned by the parser and stay valid until the next
 * call to pgcdc_pgo_parse on the same parser.
 *
 * Malformed input (truncated message, unknown message type, counts that run
 * past the end, missing NUL, unknown tuple kind) yields -1 and a message in
 * errstr naming the message type and byte offset; never a crash or read past
 * `len`. The parser is single-threaded; use one per replication stream.
 *
 * Namespace names of Relation and Type messages: pgoutput sends an empty
 * string for pg_catalog; the parser returns the literal "pg_catalog" then
 * (as PostgreSQL's own reader does). Every other string points into the
 * input buffer.
 *
 * Stream state: Stream Start enters a stream block and Stream Stop leaves
 * it. Begin, Commit, Stream Start, Stream Commit and Stream Abort inside a
 * block, and Stream Stop outside one, are rejected as a protocol desync.
 * Stream messages need protocol version 2 or later. Two-phase messages
 * ('b', 'P', 'K', 'r', 'p') are rejected: pgcdc never requests two_phase.
 */
#ifndef PGCDC_SOURCE_PG_PGOUTPUT_H
#define PGCDC_SOURCE_PG_PGOUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* Message type bytes, as on the wire. */
enum {
    PGCDC_PGO_BEGIN = 'B',
    PGCDC_PGO_COMMIT = 'C',
    PGCDC_PGO_ORIGIN = 'O',
    PGCDC_PGO_RELATION = 'R',
    PGCDC_PGO_TYPE = 'Y',
    PGCDC_PGO_INSERT = 'I',
    PGCDC_PGO_UPDATE = 'U',
    PGCDC_PGO_DELETE = 'D',
    PGCDC_PGO_TRUNCATE = 'T',
    PGCDC_PGO_MESSAGE = 'M',
    PGCDC_PGO_STREAM_START = 'S',
    PGCDC_PGO_STREAM_STOP = 'E',
    PGCDC_PGO_STREAM_COMMIT = 'c',
    PGCDC_PGO_STREAM_ABORT = 'A',
};

/* One column of a TupleData: kind is 'n' (null), 'u' (unchanged TOAST),
 * 't' (text) or 'b' (binary); data/len are set for 't' and 'b' only. It is
 * the event model's value type, so decoded rows feed the encoder as they
 * are. */
typedef pgcdc_value pgcdc_pgo_value;

typedef struct pgcdc_pgo_tuple {
    uint16_t ncols;
    const pgcdc_pgo_value *cols; /* parser scratch */
} pgcdc_pgo_tuple;

typedef struct pgcdc_pgo_relcol {
    uint8_t flags; /* 1 = part of the replica identity key */
    const char *name;
    uint32_t type_oid;
    int32_t typmod;
} pgcdc_pgo_relcol;

typedef struct pgcdc_pgo_msg {
    char type;       /* one of PGCDC_PGO_* */
    uint32_t xid;    /* xid prefix of messages inside a stream block, else 0; this is
                        the (sub)transaction that made the change, which may differ
                        from the top-level xid of Stream Start */
    size_t wire_len; /* bytes consumed (== input len on success) */
    union {
        struct {
            uint64_t final_lsn; /* LSN of the commit record */
            int64_t commit_ts;  /* microseconds since 2000-01-01 */
            uint32_t xid;
        } begin;
        struct {
            uint8_t flags;
            uint64_t commit_lsn;
            uint64_t end_lsn;
            int64_t commit_ts;
        } commit;
        struct {
            uint64_t lsn;
            const char *name;
        } origin;
        struct {
            uint32_t relid;
            const char *nspname;
            const char *relname;
            char replident; /* 'd', 'n', 'f', 'i' */
            uint16_t ncols;
            const pgcdc_pgo_relcol *cols; /* parser scratch */
        } relation;
        struct {
            uint32_t oid;
            const char *nspname;
            const char *typname;
        } type;
        struct {
            uint32_t relid;
            pgcdc_pgo_tuple newtup;
        } insert;
        struct {
            uint32_t relid;
            char oldkind; /* 'K' (key), 'O' (old full row) or 0 (none) */
            pgcdc_pgo_tuple oldtup;
            pgcdc_pgo_tuple newtup;
        } update;
        struct {
            uint32_t relid;
            char oldkind; /* 'K' or 'O' */
            pgcdc_pgo_tuple oldtup;
        } del;
        struct {
            uint32_t nrels;
            uint8_t options;        /* 1 = CASCADE, 2 = RESTART IDENTITY */
            const uint32_t *relids; /* parser scratch, host byte order */
        } truncate;
        struct {
            uint8_t flags; /* 1 = transactional */
            uint64_t lsn;
            const char *prefix;
            uint32_t len;
            const char *content;
        } message;
        struct {
            uint32_t xid;
            uint8_t first_segment;
        } stream_start;
        struct {
            uint32_t xid;
            uint8_t flags;
            uint64_t commit_lsn;
            uint64_t end_lsn;
            int64_t commit_ts;
        } stream_commit;
        struct {
            uint32_t xid;
            uint32_t subxid;
            uint64_t abort_lsn; /* 0 unless sent (protocol 4, parallel streaming) */
            int64_t abort_ts;
            uint8_t has_abort_info;
        } stream_abort;
    } u;
} pgcdc_pgo_msg;

typedef struct pgcdc_pgo_parser pgcdc_pgo_parser;

/* Human-readable name of a message type byte ("Update", "Stream Abort",
 * "Prepare", ...; "unknown" otherwise), for logs and errors. */
const char *pgcdc_pgo_msg_name(char type);

/* Creates a parser for the negotiated protocol version (1..4; values out of
 * range are clamped). Returns NULL only on allocation failure. */
pgcdc_pgo_parser *pgcdc_pgo_parser_new(int proto_version);
void pgcdc_pgo_parser_free(pgcdc_pgo_parser *parser);

/*
 * Decodes one pgoutput message (the payload of an XLogData 'w' message,
 * starting at the type byte). Tracks Stream Start/Stop to know whether DML,
 * Relation, Type and Message carry an xid prefix. Returns 0 on success, -1
 * on malformed input with errstr filled; after a failure *msg must not be
 * used and the stream state is unchanged. A protocol 4 Stream Abort is
 * decoded with abort LSN/time when 16 bytes follow xid and subxid (the
 * walsender sends them only with streaming = parallel), without otherwise.
 */
int pgcdc_pgo_parse(pgcdc_pgo_parser *parser, const char *buf, size_t len, pgcdc_pgo_msg *msg,
                    char *errstr, size_t errstr_size);

/* Whether the parser is between Stream Start and Stream Stop. */
int pgcdc_pgo_in_stream(const pgcdc_pgo_parser *parser);

/* Forces the in-stream state: a parser that replays spooled messages of a
 * streamed transaction (which all carry the xid prefix) sets it once. */
void pgcdc_pgo_set_in_stream(pgcdc_pgo_parser *parser, int in_stream);

#endif
