/*
 * libFuzzer target for the RESP2 request parser: each input is parsed whole and again fed in
 * pieces cut at points derived from its bytes; both runs must return the same requests and the
 * same error, and every request must respect the contract of resp_parser.h.
 */
#include "resp_parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a run returned, serialized, to compare two runs byte for byte. */
struct record {
    unsigned char *data;
    size_t len;
    size_t cap;
};

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_resp_parser: invariant broken: %s\n", what);
        abort();
    }
}

static void record_add(struct record *r, const void *data, size_t len)
{
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 256;

        while (cap < r->len + len)
            cap *= 2;
        r->data = realloc(r->data, cap);
        check(r->data != NULL, "out of memory in the harness");
        r->cap = cap;
    }
    if (len > 0)
        memcpy(r->data + r->len, data, len);
    r->len += len;
}

static void record_size(struct record *r, size_t v)
{
    record_add(r, &v, sizeof(v));
}

static void check_request(const struct xtio_resp_request *req, size_t input_len)
{
    size_t total = 0;
    unsigned sum = 0;

    check(req->argc >= 1, "argc >= 1");
    /* Every argument costs at least one input byte, even an empty one ("" or $0). */
    check(req->argc <= input_len, "argc <= input length");
    for (size_t i = 0; i < req->argc; i++) {
        check(req->argv[i] != NULL, "argv[i] != NULL");
        check(req->argv_len[i] <= input_len, "argv_len[i] <= input length");
        total += req->argv_len[i];
        check(total <= input_len, "sum of argv_len <= input length");
        /* Touching every byte lets ASan prove the argument lies inside the parser's memory. */
        for (size_t j = 0; j < req->argv_len[i]; j++)
            sum += (unsigned char)req->argv[i][j];
        check(req->argv[i][req->argv_len[i]] == '\0', "argv[i] is NUL-terminated");
    }
    (void)sum;
}

static void check_failed(xtio_resp_parser *p)
{
    struct xtio_resp_request req;
    const char *err = xtio_resp_parser_error(p);

    check(err != NULL, "an error string after PROTO_ERROR");
    check(strncmp(err, "Protocol error: ", 16) == 0, "the error is worded as Redis's");
    check(strpbrk(err, "\r\n") == NULL, "the error holds no CR or LF");
    check(xtio_resp_parser_next(p, &req) == XTIO_RESP_PROTO_ERROR, "next() stays failed");
    check(xtio_resp_parser_feed(p, "PING\r\n", 6) == XTIO_RESP_PROTO_ERROR, "feed() stays failed");
    check(strcmp(xtio_resp_parser_error(p), err) == 0, "the error string does not change");
}

/* Takes every request the parser can give; false once it failed. */
static bool drain(xtio_resp_parser *p, size_t input_len, struct record *out)
{
    struct xtio_resp_request req;

    for (;;) {
        enum xtio_resp_status st = xtio_resp_parser_next(p, &req);

        if (st == XTIO_RESP_NEED_MORE) {
            check(xtio_resp_parser_error(p) == NULL, "no error string before an error");
            return true;
        }
        if (st == XTIO_RESP_PROTO_ERROR) {
            const char *err = xtio_resp_parser_error(p);

            record_add(out, "E", 1);
            record_add(out, err, strlen(err));
            check_failed(p);
            return false;
        }
        check(st == XTIO_RESP_OK, "next() returns OK, NEED_MORE or PROTO_ERROR");
        check_request(&req, input_len);
        record_add(out, "R", 1);
        record_size(out, req.argc);
        for (size_t i = 0; i < req.argc; i++) {
            record_size(out, req.argv_len[i]);
            record_add(out, req.argv[i], req.argv_len[i]);
        }
    }
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Feeds the input whole (seed 0) or in pieces whose sizes come from `seed`, draining after each. */
static void run(const uint8_t *data, size_t size, const struct xtio_resp_limits *limits,
                uint64_t seed, struct record *out)
{
    xtio_resp_parser *p = NULL;
    size_t off = 0;
    size_t max_piece = seed ? 1 + seed % 67 : size;
    bool first = true;

    check(xtio_resp_parser_create(&p, limits) == XTIO_RESP_OK, "create");
    out->len = 0;
    while (off < size) {
        size_t piece = size - off;
        enum xtio_resp_status st;

        if (seed) {
            /* The first cut lands anywhere, the rest are short, so long lines arrive in bits. */
            size_t want =
                first ? next_random(&seed) % (size + 1) : 1 + next_random(&seed) % max_piece;

            first = false;
            piece = want < piece ? want : piece;
        }
        st = xtio_resp_parser_feed(p, data + off, piece);
        if (st == XTIO_RESP_PROTO_ERROR) {
            record_add(out, "Q", 1);
            check_failed(p);
            break;
        }
        check(st == XTIO_RESP_OK, "feed() returns OK or PROTO_ERROR");
        off += piece;
        if (!drain(p, size, out))
            break;
    }
    if (size == 0)
        drain(p, size, out);
    xtio_resp_parser_destroy(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct record whole, split;
    struct xtio_resp_limits limits[3];
    uint64_t seed = 1469598103934665603ull;

    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 1099511628211ull;
    seed |= 1;

    xtio_resp_limits_init(&limits[0]);
    /* Small limits, so the fuzzer reaches every limit with short inputs. */
    xtio_resp_limits_init(&limits[1]);
    limits[1].max_bulk_len = 16;
    limits[1].max_multibulk_len = 4;
    limits[1].max_inline_len = 24;
    limits[2] = limits[1];
    limits[2].max_query_buffer = 48;

    for (size_t i = 0; i < 2; i++) {
        run(data, size, &limits[i], 0, &whole);
        run(data, size, &limits[i], seed, &split);
        check(whole.len == split.len &&
                  (whole.len == 0 || memcmp(whole.data, split.data, whole.len) == 0),
              "a split input gives the same requests and error as the whole input");
    }
    /* How much is buffered depends on the split here, so only the invariants are checked. */
    run(data, size, &limits[2], seed, &split);
    return 0;
}
