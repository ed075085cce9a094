/* The input as kezek's load_lines reads a file with getline(3): lines
 * ending in '\n' (the last perhaps without), each NUL-terminated, NULs
 * inside kept; each through import_line. */
#ifndef KEZEK_FUZZ_LINES_H
#define KEZEK_FUZZ_LINES_H

#include "fuzz.h"

#include "registry_line.h"

/* import_line on one line of n bytes: its contract, then the object
 * (the caller decrefs) or NULL. */
static inline json_t *fuzz_line(const uint8_t *data, size_t n)
{
    char *line = fuzz_cstr(data, n);
    json_t *j = (json_t *)&j; /* must be overwritten */
    char err[256] = "";
    int got = import_line(line, n, &j, err, sizeof(err));
    CHECK(got >= -1 && got <= 1);
    if (got == 1)
        CHECK(json_is_object(j) && err[0] == '\0');
    else
        CHECK(j == NULL && (got == 0) == (err[0] == '\0'));
    if (got == 0)
        CHECK(strspn(line, " \t\r\n") == n);
    free(line);
    return j;
}

/* Calls fn with each line's object, as load_lines would insert it. */
static inline void fuzz_lines(const uint8_t *data, size_t size,
                              void (*fn)(json_t *j, void *ctx), void *ctx)
{
    while (size > 0) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) + 1 : size;
        json_t *j = fuzz_line(data, n);
        if (j)
            fn(j, ctx);
        json_decref(j);
        data += n;
        size -= n;
    }
}

/* A checked row's document, parsed back. */
static inline json_t *fuzz_doc(const struct import_row *row)
{
    CHECK(row->doc != NULL);
    json_t *d = json_loads(row->doc, JSON_REJECT_DUPLICATES, NULL);
    CHECK(json_is_object(d));
    return d;
}

#endif
