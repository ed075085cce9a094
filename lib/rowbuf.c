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
};

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

/* Appends v to an array literal as a quoted element (or NULL). */
static bool put_element(struct sbuf *b, const char *v, bool first)
{
    if (!sb_put(b, first ? "{" : ",", 1))
        return false;
    if (!v)
        return sb_put(b, "NULL", 4);
    if (!sb_put(b, "\"", 1))
        return false;
    for (const char *p = v; *p;) {
        size_t run = strcspn(p, "\"\\");
        if (run && !sb_put(b, p, run))
            return false;
        p += run;
        if (*p) {
            char esc[2] = {'\\', *p};
            if (!sb_put(b, esc, 2))
                return false;
            p++;
        }
    }
    return sb_put(b, "\"", 1);
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
        if (!put_element(&self->cols[i], vals[i], self->nrows == 0))
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

/* Closes the array literals and points p at them; false when out of
 * memory. */
static bool close_arrays(rowbuf_t *self, const char **p)
{
    for (int i = 0; i < self->ncols; i++) {
        if (!sb_put(&self->cols[i], "}", 1))
            return false;
        p[i] = self->cols[i].s;
    }
    return true;
}

bool rowbuf_flush(rowbuf_t *self, PGconn *conn)
{
    if (self->nrows == 0)
        return true;
    const char **p = calloc((size_t)self->ncols, sizeof(char *));
    /* pg_defer has sent (copied) the parameters when it returns */
    bool ok = p && close_arrays(self, p) &&
              pg_defer(conn, self->stmt, self->ncols, p, NULL, NULL);
    if (!ok)
        log_error("rowbuf.flush", "%s: %d rows not sent", self->stmt,
                  self->nrows);
    free(p);
    rowbuf_clear(self);
    return ok;
}

PGresult *rowbuf_run(rowbuf_t *self, PGconn *conn)
{
    if (self->nrows == 0)
        return NULL;
    const char **p = calloc((size_t)self->ncols, sizeof(char *));
    PGresult *r = p && close_arrays(self, p)
                      ? pg_run(conn, self->stmt, self->ncols, p)
                      : NULL;
    free(p);
    rowbuf_clear(self);
    return r;
}
