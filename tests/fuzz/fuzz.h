/* Shared by the libFuzzer harnesses of tests/fuzz. */
#ifndef KEZEK_FUZZ_H
#define KEZEK_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: a failure aborts, which libFuzzer reports as a crash
 * and saves the input. */
#define CHECK(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,  \
                    __LINE__, #cond);                                    \
            abort();                                                     \
        }                                                                \
    } while (0)

/* n bytes as a NUL-terminated string (malloc'd; may hold NULs before
 * the end, as a line from getline(3) may). */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    CHECK(s);
    if (n)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

#endif
