#include "iin.h"

#include "calendar.h"

#include <stdio.h>
#include <string.h>

bool iin_valid(const char *s, char *birth_date)
{
    if (!s || strlen(s) != 12)
        return false;
    int d[12];
    for (int i = 0; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        d[i] = s[i] - '0';
    }
    static const int century[] = {0, 1800, 1800, 1900, 1900, 2000, 2000};
    if (d[6] < 1 || d[6] > 6)
        return false;
    int year = century[d[6]] + d[0] * 10 + d[1];
    int month = d[2] * 10 + d[3], day = d[4] * 10 + d[5];
    if (!kdate_valid(year, month, day))
        return false;
    int sum = 0;
    for (int i = 0; i < 11; i++)
        sum += d[i] * (i + 1);
    int check = sum % 11;
    if (check == 10) {
        static const int w2[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
        sum = 0;
        for (int i = 0; i < 11; i++)
            sum += d[i] * w2[i];
        check = sum % 11;
        if (check == 10)
            return false;
    }
    if (check != d[11])
        return false;
    if (birth_date)
        snprintf(birth_date, 11, "%04d-%02d-%02d", year, month, day);
    return true;
}
