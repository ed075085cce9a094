#include "rowbuf.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing string. */
struct sbuf {
    char *s;
    size_t len, cap;
};

static bool sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return false;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return true;
}

struct rowbuf {
    const char *stmt;
    int ncols, nrows;
    struct sbuf *cols;  /* each an array literal under construction */
    char **keys;
    int nkeys, capkeys;
    rowbuf_t *before;   /* sent first whenever this one is sent */
};

void rowbuf_after(rowbuf_t *self, rowbuf_t *before)
{
    self->before = before;
}

rowbuf_t *rowbuf_new(const char *stmt, int ncols)
{
    rowbuf_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->stmt = stmt;
    self->ncols = ncols;
    self->cols = calloc((size_t)ncols, sizeof(struct sbuf));
    if (!self->cols) {
        free(self);
        return NULL;
    }
    return self;
}

void rowbuf_clear(rowbuf_t *self)
{
    for (int i = 0; i < self->ncols; i++)
        self->cols[i].len = 0;
    for (int i = 0; i < self->nkeys; i++)
        free(self->keys[i]);
    self->nkeys = 0;
    self->nrows = 0;
}

void rowbuf_destroy(rowbuf_t **self_p)
{
    rowbuf_t *self = *self_p;
    if (!self)
        return;
    rowbuf_clear(self);
    for (int i = 0; i < self->ncols; i++)
        free(self->cols[i].s);
    free(self->cols);
    free(self->keys);
    free(self);
    *self_p = NULL;
}

int rowbuf_rows(const rowbuf_t *self)
{
    return self->nrows;
}

/* Columns travel as binary text[] parameters: a header (written at
 * flush) and per element its length (-1: NULL) and bytes, so that
 * Postgres copies them rather than parsing a quoted literal. */
#define TEXT_OID 25
#define HEADER 20

static bool put_be32(struct sbuf *b, uint32_t v)
{
    char x[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    return sb_put(b, x, 4);
}

static bool put_element(struct sbuf *b, const char *v)
{
    if (b->len == 0 && !sb_put(b, (char[HEADER]){0}, HEADER))
        return false; /* room for the header */
    if (!v)
        return put_be32(b, 0xffffffffu);
    size_t n = strlen(v);
    return n < 0x7fffffff && put_be32(b, (uint32_t)n) && sb_put(b, v, n);
}

/* Writes the header of a one-dimensional text[] of n elements. */
static void put_header(struct sbuf *b, int n)
{
    uint32_t h[5] = {1, 1 /* has NULLs: allowed either way */, TEXT_OID,
                     (uint32_t)n, 1};
    for (int i = 0; i < 5; i++) {
        b->s[4 * i] = (char)(h[i] >> 24);
        b->s[4 * i + 1] = (char)(h[i] >> 16);
        b->s[4 * i + 2] = (char)(h[i] >> 8);
        b->s[4 * i + 3] = (char)h[i];
    }
}

static bool has_key(const rowbuf_t *self, const char *key)
{
    for (int i = 0; i < self->nkeys; i++)
        if (strcmp(self->keys[i], key) == 0)
            return true;
    return false;
}

bool rowbuf_add(rowbuf_t *self, PGconn *conn, const char *key,
                const char *const *vals)
{
    if (key && has_key(self, key) && !rowbuf_flush(self, conn))
        return false;
    if (key) {
        if (self->nkeys == self->capkeys) {
            int cap = self->capkeys ? self->capkeys * 2 : 64;
            char **k = realloc(self->keys, (size_t)cap * sizeof(char *));
            if (!k)
                return false;
            self->keys = k;
            self->capkeys = cap;
        }
        if (!(self->keys[self->nkeys] = strdup(key)))
            return false;
        self->nkeys++;
    }
    for (int i = 0; i < self->ncols; i++)
        if (!put_element(&self->cols[i], vals[i]))
            return false;
    self->nrows++;
    return true;
}

char *rowbuf_hex(const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * len + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[bytes[i] >> 4];
        s[2 * i + 1] = digits[bytes[i] & 15];
    }
    s[2 * len] = '\0';
    return s;
}

/* Sends the statement for the buffered rows (at least one), deferred
 * (its binary result kept in *keep when keep is not NULL) or waited
 * for, and empties the buffer; the result when waited for and it
 * succeeded, else NULL; *sent false when it could not be sent. */
static PGresult *send_rows(rowbuf_t *self, PGconn *conn, bool wait,
                           int result_fmt, PGresult **keep, bool *sent)
{
    const char **p = calloc((size_t)self->ncols, sizeof(char *));
    int *lens = calloc((size_t)self->ncols, sizeof(int));
    int *fmts = calloc((size_t)self->ncols, sizeof(int));
    PGresult *r = NULL;
    *sent = p && lens && fmts;
    if (*sent) {
        for (int i = 0; i < self->ncols; i++) {
            put_header(&self->cols[i], self->nrows);
            p[i] = self->cols[i].s;
            lens[i] = (int)self->cols[i].len;
            fmts[i] = 1;
        }
        /* each copies the parameters before it returns */
        if (wait)
            r = pg_run_bin(conn, self->stmt, self->ncols, p, lens, fmts,
                           result_fmt);
        else if (keep)
            *sent = pg_defer_keep(conn, self->stmt, self->ncols, p, lens,
                                  fmts, 1, keep);
        else
            *sent = pg_defer(conn, self->stmt, self->ncols, p, lens, fmts);
    }
    free(p);
    free(lens);
    free(fmts);
    rowbuf_clear(self);
    return r;
}

bool rowbuf_flush_keep(rowbuf_t *self, PGconn *conn, PGresult **keep)
{
    if (keep)
        *keep = NULL;
    if (self->before && !rowbuf_flush(self->before, conn))
        return false;
    if (self->nrows == 0)
        return true;
    int n = self->nrows;
    bool sent;
    send_rows(self, conn, false, 1, keep, &sent);
    if (!sent)
        log_error("rowbuf.flush", "%s: %d rows not sent", self->stmt, n);
    return sent;
}

PGresult *rowbuf_run_fmt(rowbuf_t *self, PGconn *conn, int result_fmt)
{
    if (self->nrows == 0)
        return NULL;
    bool sent;
    return send_rows(self, conn, true, result_fmt, NULL, &sent);
}

PGresult *rowbuf_run(rowbuf_t *self, PGconn *conn)
{
    return rowbuf_run_fmt(self, conn, 0);
}

bool rowbuf_flush(rowbuf_t *self, PGconn *conn)
{
    return rowbuf_flush_keep(self, conn, NULL);
}
