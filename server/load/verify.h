/*
 * What xtio-load expects the server to answer: the populated key set in byte order, the values
 * DEBUG POPULATE writes, and the checks of RANGE, KEYS, GET and status replies (hiredis replies,
 * and a streaming RANGE checker for the raw sockets that read replies partially or slowly).
 */
#ifndef XTIO_LOAD_VERIFY_H
#define XTIO_LOAD_VERIFY_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key prefix accepted, so every key fits a fixed buffer. */
#define XTIO_LOAD_MAX_PREFIX 128
/* Room for "<prefix>:<n>" plus a NUL. */
#define XTIO_LOAD_KEY_MAX    (XTIO_LOAD_MAX_PREFIX + 1 + 20 + 1)
/* Most keys the client tracks: order[] is 4 bytes a key. */
#define XTIO_LOAD_MAX_KEYS   100000000u
/* Room for a mismatch description. */
#define XTIO_LOAD_MSG_MAX    512

/* The keys "<prefix>:<n>" for n in [0, count) that DEBUG POPULATE wrote, sorted as the server
 * sorts them (memcmp, then shorter first). */
struct xtio_load_keyset {
    char prefix[XTIO_LOAD_MAX_PREFIX + 1];
    size_t plen;
    uint32_t *order; /* owned: order[i] is n of the i-th key in byte order */
    size_t count;
    size_t value_size; /* 0: values are "value:<n>" as is */
};

/* Fills out[0..count) with 0..count-1 in the byte order of their decimal strings, in O(count):
 * with one prefix for all keys that is the order of the keys themselves. */
void xtio_load_lex_order(uint32_t *out, size_t count);

/* 0, -EINVAL (prefix too long, count too large) or -ENOMEM. */
int xtio_load_keyset_init(struct xtio_load_keyset *ks, const char *prefix, size_t count,
                          size_t value_size);
void xtio_load_keyset_fini(struct xtio_load_keyset *ks);

/* Writes "<prefix>:<n>" NUL-terminated into buf (XTIO_LOAD_KEY_MAX bytes); returns its length. */
size_t xtio_load_key(const struct xtio_load_keyset *ks, uint64_t n, char *buf);
/* Decimal digits of n into buf (21 bytes), NUL-terminated; returns their count. */
size_t xtio_load_digits(uint64_t n, char *buf);

/* True when data is `natural` truncated or zero-padded to `size` bytes (size 0: natural as is),
 * which is how DEBUG POPULATE and xtio-load's SETs build values. */
bool xtio_load_padded_equals(const char *natural, size_t nlen, size_t size, const void *data,
                             size_t len);
/* The populated value of key n: "value:<n>" truncated or zero-padded to the value size. */
bool xtio_load_value_equals(const struct xtio_load_keyset *ks, uint64_t n, const void *data,
                            size_t len);
/* Writes `natural` truncated or zero-padded to size (0: as is) into out (cap bytes at least that
 * long); returns the length. */
size_t xtio_load_padded(const char *natural, size_t nlen, size_t size, char *out, size_t cap);

/* The block of keys whose number starts with the decimal digits `digits`: its first position in
 * byte order (a KEYS "<prefix>:<digits>*" answer is exactly that block). Returns the number of
 * keys in it, 0 when digits is no populated number's prefix. */
size_t xtio_load_digit_block(const struct xtio_load_keyset *ks, const char *digits, size_t *first);
/* Escapes glob metacharacters of the prefix so fnmatch() matches it literally; returns length. */
size_t xtio_load_glob_escape(const char *text, size_t len, char *out, size_t cap);

/* Renders bytes for a message: quoted, escaped, cut after a few dozen bytes. */
void xtio_load_quote(const void *data, size_t len, char *out, size_t cap);
/* Exact RESP2 size of the reply on the wire, as the server framed it. */
uint64_t xtio_load_reply_wire_bytes(const redisReply *reply);

/* Each check returns true when the reply is as expected, else describes the first difference in
 * msg (XTIO_LOAD_MSG_MAX bytes). */
/* RANGE order[first] .. order[first+pairs-1]: exactly those pairs, in order, with their values. */
bool xtio_load_check_range(const struct xtio_load_keyset *ks, size_t first, size_t pairs,
                           const redisReply *reply, char *msg);
/* KEYS: exactly the keys order[first] .. order[first+count-1], in order. */
bool xtio_load_check_keys(const struct xtio_load_keyset *ks, size_t first, size_t count,
                          const redisReply *reply, char *msg);
/* A bulk string equal to natural padded to size. */
bool xtio_load_check_bulk(const redisReply *reply, const char *natural, size_t nlen, size_t size,
                          char *msg);
/* A status reply of exactly `status`. */
bool xtio_load_check_status(const redisReply *reply, const char *status, char *msg);

/* ---- Streaming RANGE check over raw bytes ---------------------------------------------------- */

enum xtio_load_stream_status {
    XTIO_LOAD_STREAM_MORE,     /* fine so far, the reply is not complete */
    XTIO_LOAD_STREAM_DONE,     /* the whole reply arrived and was as expected */
    XTIO_LOAD_STREAM_MISMATCH, /* see msg; later bytes are not looked at */
};

/* Checks a RANGE reply fed in pieces of any size, never holding more than one header line and a
 * few bytes of the current element, so a multi-megabyte reply can be checked as it trickles in. */
struct xtio_load_range_stream {
    const struct xtio_load_keyset *ks; /* weak */
    size_t first, pairs;
    enum xtio_load_stream_status status;
    int state;
    char line[64];
    size_t line_len;
    size_t element;                      /* index of the element being read */
    size_t data_len;                     /* its announced length */
    size_t data_off;                     /* bytes of it read */
    bool differs;                        /* a byte differed from the expectation */
    char expect[XTIO_LOAD_KEY_MAX + 32]; /* key, or unpadded value, of the element */
    size_t expect_len;                   /* unpadded length */
    size_t expect_size;                  /* length after padding */
    char seen[48];                       /* first bytes of the element, for the message */
    uint64_t bytes;                      /* bytes consumed */
    size_t pairs_done;                   /* pairs read and found equal */
    char msg[XTIO_LOAD_MSG_MAX];
};

void xtio_load_range_stream_init(struct xtio_load_range_stream *s,
                                 const struct xtio_load_keyset *ks, size_t first, size_t pairs);
/* Consumes up to len bytes (stops at the end of the reply: *used says how many were taken). */
enum xtio_load_stream_status xtio_load_range_stream_feed(struct xtio_load_range_stream *s,
                                                         const void *data, size_t len,
                                                         size_t *used);

#endif
