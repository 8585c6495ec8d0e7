/*
 * The RESP2 request parser of xtio-server: bytes in through xtio_resp_parser_feed(), whole
 * requests out through xtio_resp_parser_next(). It does no I/O, so the server's read path and the
 * tests drive it the same way.
 *
 * Both request forms Redis accepts are parsed: multibulk (`*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n`, what
 * redis-cli and redis-benchmark send) and inline (`ECHO "hi there"\r\n`, what telnet sends). Each
 * limit Redis enforces is a named field of struct xtio_resp_limits, and each one that Redis answers
 * with a protocol error gives Redis's exact wording.
 *
 * Behaviour kept from Redis on purpose, so xtio-server answers as redis-server does:
 *   - `*0` and negative counts (`*-1`) are skipped without a request or an error;
 *   - empty and blank inline lines are skipped;
 *   - the byte after the `\r` of a `*N`/`$N` line, and the two bytes after a bulk's data, are
 *     taken as the `\r\n` without being checked;
 *   - an inline line ends at its first NUL byte;
 *   - an error is only reported once the bytes up to it have arrived: requests before it in the
 *     same feed are still returned first.
 */
#ifndef XTIO_RESP_PARSER_H
#define XTIO_RESP_PARSER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What feed, next and create return. Each value has one meaning only. */
enum xtio_resp_status {
    /* Done: next() produced a request, feed() took the bytes, create() made the parser. */
    XTIO_RESP_OK = 0,
    /* next(): no complete request is buffered; feed more bytes. */
    XTIO_RESP_NEED_MORE = 1,
    /* The input is not RESP, or broke a limit. Sticky: every later feed() and next() returns it
     * too, and xtio_resp_parser_error() says why. Redis replies and then closes the connection. */
    XTIO_RESP_PROTO_ERROR = 2,
    /* An allocation failed. Not sticky: nothing was consumed or appended, the call may be
     * retried. */
    XTIO_RESP_NOMEM = 3,
};

/* Defaults of struct xtio_resp_limits, Redis's own values: proto-max-bulk-len, the multibulk
 * count of Redis before 7.0 (now INT_MAX), PROTO_INLINE_MAX_SIZE and client-query-buffer-limit. */
#define XTIO_RESP_DEFAULT_MAX_BULK_LEN      ((size_t)512 * 1024 * 1024)
#define XTIO_RESP_DEFAULT_MAX_MULTIBULK_LEN ((size_t)1024 * 1024)
#define XTIO_RESP_DEFAULT_MAX_INLINE_LEN    ((size_t)64 * 1024)
#define XTIO_RESP_DEFAULT_MAX_QUERY_BUFFER  ((size_t)1024 * 1024 * 1024)

struct xtio_resp_limits {
    /* Largest `$N` accepted; above it: "Protocol error: invalid bulk length". */
    size_t max_bulk_len;
    /* Largest `*N` accepted; above it: "Protocol error: invalid multibulk length". */
    size_t max_multibulk_len;
    /* Longest inline line, and longest `*N`/`$N` line, in bytes before its terminator. Above it:
     * "Protocol error: too big inline request" (or "too big mbulk count string", "too big bulk
     * count string"). */
    size_t max_inline_len;
    /* Most bytes fed but not yet returned by next(), so at most one request plus what arrived
     * with it. Above it feed() fails with "Protocol error: query buffer limit exceeded"; Redis
     * closes the connection without a reply in that case, so the server may do the same. */
    size_t max_query_buffer;
};

/* Fills every field with its XTIO_RESP_DEFAULT_*, for callers that override only some. */
void xtio_resp_limits_init(struct xtio_resp_limits *limits);

/* One request, as returned by xtio_resp_parser_next(). The pointers are the parser's (weak for the
 * caller) and stay valid until the next call to xtio_resp_parser_feed() or _next(). */
struct xtio_resp_request {
    size_t argc; /* at least 1 */
    /* Arguments, binary-safe; each is also NUL-terminated (argv[i][argv_len[i]] == '\0'), which
     * helps command lookup but is no substitute for argv_len. */
    const char *const *argv;
    const size_t *argv_len;
};

typedef struct xtio_resp_parser xtio_resp_parser;

/* Makes a parser in *parser. `limits` is copied; NULL means xtio_resp_limits_init()'s defaults.
 * XTIO_RESP_OK or XTIO_RESP_NOMEM (then *parser is NULL). */
enum xtio_resp_status xtio_resp_parser_create(xtio_resp_parser **parser,
                                              const struct xtio_resp_limits *limits);
/* Frees the parser and everything it returned. NULL is allowed. */
void xtio_resp_parser_destroy(xtio_resp_parser *parser);

/* Appends `len` bytes (copied) for next() to parse. XTIO_RESP_OK; XTIO_RESP_PROTO_ERROR when the
 * parser already failed or max_query_buffer would be exceeded (nothing is appended); or
 * XTIO_RESP_NOMEM (nothing is appended). Invalidates the last request returned by next(). */
enum xtio_resp_status xtio_resp_parser_feed(xtio_resp_parser *parser, const void *data, size_t len);

/* Takes the next complete request from the fed bytes:
 *   - XTIO_RESP_OK: *request holds it;
 *   - XTIO_RESP_NEED_MORE: the buffered bytes hold no complete request (possibly none at all);
 *   - XTIO_RESP_PROTO_ERROR: the bytes at the current request are invalid (see error());
 *   - XTIO_RESP_NOMEM: the argument array could not grow; call again to retry.
 * Skipped input (empty inline lines, `*0`) is consumed along the way. Work is proportional to the
 * bytes newly fed, however the input is split across feeds. */
enum xtio_resp_status xtio_resp_parser_next(xtio_resp_parser *parser,
                                            struct xtio_resp_request *request);

/* After XTIO_RESP_PROTO_ERROR, the reason as Redis words it ("Protocol error: invalid bulk
 * length"); the server replies "-ERR " + it + "\r\n". Contains no CR or LF. NULL before an error.
 * Owned by the parser. */
const char *xtio_resp_parser_error(const xtio_resp_parser *parser);

#ifdef __cplusplus
}
#endif

#endif
