/* benchkit — small helpers shared by the bench programs. */
#ifndef KEZEK_BENCHKIT_H
#define KEZEK_BENCHKIT_H

#include <stdio.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The n-th valid IIN of a generator: birth dates 1950–1998, serials. */
static inline void bench_iin(long n, char *out)
{
    for (long k = n * 3;; k++) {
        int day = (int)(k / 9000 % 28) + 1;
        int month = (int)(k / 252000 % 12) + 1;
        int year = 50 + (int)(k / 3024000 % 49);
        char s[32];
        snprintf(s, sizeof(s), "%02d%02d%02d3%04d", year % 100, month % 100,
                 day % 100, (int)(k % 9000 + 1000));
        int d[11], sum = 0;
        for (int i = 0; i < 11; i++) {
            d[i] = s[i] - '0';
            sum += d[i] * (i + 1);
        }
        int c = sum % 11;
        if (c == 10) {
            static const int w[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
            sum = 0;
            for (int i = 0; i < 11; i++)
                sum += d[i] * w[i];
            c = sum % 11;
            if (c == 10)
                continue;
        }
        memcpy(out, s, 11);
        out[11] = (char)('0' + c);
        out[12] = '\0';
        return;
    }
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
