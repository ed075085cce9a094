/* domain/iin.c iin_valid against an independent reading of the IIN
 * rules (domain/iin.h): both must agree on every string, an accepted
 * one is 12 digits, and the birth date is the one its digits spell. */
#include "fuzz.h"

#include "iin.h"

#include <stdbool.h>

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool reference(const char *s, char date[11])
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n != 12 || s[12] != '\0')
        return false;
    int d[12];
    for (int i = 0; i < 12; i++)
        d[i] = s[i] - '0';
    int yy = d[0] * 10 + d[1], mm = d[2] * 10 + d[3], dd = d[4] * 10 + d[5];
    int year;
    switch (d[6]) {
    case 1: case 2: year = 1800 + yy; break;
    case 3: case 4: year = 1900 + yy; break;
    case 5: case 6: year = 2000 + yy; break;
    default: return false;
    }
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30,
                                 31, 30, 31};
    if (mm < 1 || mm > 12 || dd < 1 ||
        dd > days[mm] + (mm == 2 && leap(year)))
        return false;
    int check = 0;
    for (int i = 0; i < 11; i++)
        check += (i + 1) * d[i];
    check %= 11;
    if (check == 10) {
        check = 0;
        for (int i = 0; i < 11; i++)
            check += ((i + 2) % 11 + 1) * d[i]; /* 3,4,…,11,1,2 */
        check %= 11;
        if (check == 10)
            return false;
    }
    if (check != d[11])
        return false;
    snprintf(date, 11, "%04d-%02d-%02d", year, mm, dd);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char got[11] = "", want[11] = "";
    bool ok = iin_valid(s, got), ref = reference(s, want);
    CHECK(ok == ref);
    CHECK(iin_valid(s, NULL) == ok);
    if (ok) {
        CHECK(strlen(s) == 12 && strspn(s, "0123456789") == 12);
        CHECK(strcmp(got, want) == 0);
        /* YYMMDD of the IIN is the date's */
        CHECK(memcmp(s, got + 2, 2) == 0 && memcmp(s + 2, got + 5, 2) == 0 &&
              memcmp(s + 4, got + 8, 2) == 0);
    }
    CHECK(!iin_valid(NULL, NULL));
    free(s);
    return 0;
}
