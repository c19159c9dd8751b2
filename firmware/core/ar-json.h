/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ar-json.h: a strict RFC 8259 syntax check for untrusted JSON, run before
 * json-glib parses it. json-glib is lenient where it matters to us: it takes
 * 0x32 and 0050 as numbers, wraps -18446744073709551566 to 50, and keeps a
 * string only up to a \u0000 inside it. The check refuses those and
 * anything else RFC 8259 does not allow, without building anything:
 *   - numbers exactly per the grammar; integers (no fraction, no exponent)
 *     must fit in int64; other numbers must be finite doubles;
 *   - strings: valid escapes only, no control characters, no \u0000, no lone
 *     surrogate, UTF-8 only (no NUL byte anywhere);
 *   - one value, whitespace around it, nothing after it; no trailing commas,
 *     comments or single quotes;
 *   - containers nested at most @max_depth deep (checked on the way down,
 *     so deep input costs nothing).
 * In firmware/core: both the APIs (api/) and Janus signalling (janus/) use it.
 * Also the one JSON-builder helper every module shares.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AR_JSON_ERROR (ar_json_error_quark())
GQuark ar_json_error_quark(void);

typedef enum {
  AR_JSON_ERROR_SYNTAX,   /* not JSON at that byte */
  AR_JSON_ERROR_NUMBER,   /* a number JSON does not have, or out of range */
  AR_JSON_ERROR_STRING,   /* a bad escape, a control character, \u0000, a lone surrogate */
  AR_JSON_ERROR_ENCODING, /* not UTF-8 (or a NUL byte) */
  AR_JSON_ERROR_DEPTH,    /* nested deeper than allowed */
} ArJsonError;

/* The deepest @max_depth ar_json_check() takes; larger values are this. */
#define AR_JSON_MAX_DEPTH 256

/* TRUE if @data (@len bytes, no NUL needed) is one RFC 8259 JSON text that
 * json-glib will read as written; else an AR_JSON_ERROR whose message says
 * what and where ("byte 9: a number with a leading zero"). */
gboolean ar_json_check(const char *data, gsize len, guint max_depth,
                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Adds member @name: the string @value, or null when @value is NULL. */
void ar_json_add_string_or_null(JsonBuilder *b, const char *name, const char *value);

G_END_DECLS
