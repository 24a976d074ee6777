/*
 * json.h - the hot-path JSON writer.
 *
 * Appends JSON tokens to a pgcdc_buf without allocating per value. Output
 * matches what Kafka Connect's JsonConverter (Jackson) prints: compact, no
 * spaces, strings escaped with \" \\ \b \f \n \r \t and \u00XX for other
 * control characters; non-ASCII UTF-8 is copied as is.
 *
 * Invalid UTF-8 policy: PostgreSQL guarantees valid text in the database
 * encoding, but names and logical-message payloads can carry arbitrary
 * bytes. Every byte sequence that is not valid UTF-8 is replaced by U+FFFD,
 * one replacement per offending byte, so the output is always valid JSON
 * and valid UTF-8 and nothing is dropped silently.
 */
#ifndef PGCDC_FORMAT_JSON_H
#define PGCDC_FORMAT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Appends a quoted, escaped JSON string of `len` bytes. */
void pgcdc_json_str(pgcdc_buf *buf, const char *s, size_t len);

/* Appends a quoted, escaped NUL-terminated string. */
static inline void pgcdc_json_cstr(pgcdc_buf *buf, const char *s)
{
    pgcdc_json_str(buf, s, strlen(s));
}

/* Appends "key": (the key must not need escaping: a literal). */
#define PGCDC_JSON_KEY(buf, lit) PGCDC_BUF_LIT((buf), "\"" lit "\":")

/*
 * Appends a double the way Jackson prints a Java double: shortest
 * representation that round-trips, with ".0" on integral values and
 * exponent form "1.0E10" outside [1e-3, 1e7). NaN and infinities, which JSON
 * cannot carry, are written as the strings "NaN", "Infinity", "-Infinity".
 */
void pgcdc_json_double(pgcdc_buf *buf, double v);
/* Same for a Java float (shortest float32 representation). */
void pgcdc_json_float(pgcdc_buf *buf, float v);

/* Standard base64 (RFC 4648, with padding) of `len` bytes, quoted. `p` may
 * point into `buf` when the caller reserved room for the output first. */
void pgcdc_json_base64(pgcdc_buf *buf, const unsigned char *p, size_t len);
/* The same in the URL-safe alphabet (- and _), as Java's Base64.getUrlEncoder(). */
void pgcdc_json_base64_url(pgcdc_buf *buf, const unsigned char *p, size_t len);

/* Decodes base64 of either alphabet (standard or URL-safe, padding
 * optional), appending the bytes to out. Returns 0, or -1 on a character
 * outside the alphabet (out then holds a prefix). */
int pgcdc_base64_decode(pgcdc_buf *out, const char *s, size_t len);

/* Returns 1 if [s, s+len) is valid UTF-8, 0 otherwise. */
int pgcdc_utf8_valid(const char *s, size_t len);

#endif
