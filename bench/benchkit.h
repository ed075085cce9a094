/* benchkit — small helpers shared by the bench programs. */
#ifndef KEZEK_BENCHKIT_H
#define KEZEK_BENCHKIT_H

#include "iin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The n-th IIN of a generator: birth dates 1950–1998, serials, the
 * check digit iin_valid accepts (serials without one are skipped). */
static inline void bench_iin(long n, char *out)
{
    for (long k = n * 3;; k++) {
        int day = (int)(k / 9000 % 28) + 1;
        int month = (int)(k / 252000 % 12) + 1;
        int year = 50 + (int)(k / 3024000 % 49);
        char s[32];
        for (int check = 0; check <= 9; check++) {
            snprintf(s, sizeof(s), "%02d%02d%02d3%04d%d", year % 100,
                     month % 100, day % 100, (int)(k % 9000 + 1000), check);
            if (iin_valid(s, NULL)) {
                memcpy(out, s, 13);
                return;
            }
        }
    }
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
