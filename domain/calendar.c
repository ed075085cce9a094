#include "calendar.h"

#include <stdio.h>
#include <string.h>

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool kdate_valid(int year, int month, int day)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    if (year < 1800 || year > 2999 || month < 1 || month > 12 || day < 1)
        return false;
    int max = mdays[month - 1] + (month == 2 && leap(year));
    return day <= max;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t kdate_to_days(kdate_t d)
{
    int64_t y = d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 +
                  d.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

kdate_t kdate_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    kdate_t out = {(int)(y + (m <= 2)), (int)m, (int)d};
    return out;
}

kdate_t kdate_add(kdate_t d, int days)
{
    return kdate_from_days(kdate_to_days(d) + days);
}

void kdate_format(kdate_t d, char *out)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", d.year % 10000, d.month,
             d.day);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

bool kdate_parse(const char *s, kdate_t *out)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
            (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (!kdate_valid(y, m, d))
        return false;
    out->year = y;
    out->month = m;
    out->day = d;
    return true;
}

int almaty_offset(int64_t unix_s)
{
    /* 2024-03-01T00:00+06:00 == 2024-02-29T18:00Z */
    return unix_s < 1709229600 ? 6 * 3600 : 5 * 3600;
}

kdate_t almaty_date(int64_t unix_s)
{
    int64_t local = unix_s + almaty_offset(unix_s);
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    return kdate_from_days(days);
}

void almaty_timestamp(int64_t unix_s, char *out)
{
    int off = almaty_offset(unix_s);
    int64_t local = unix_s + off;
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int64_t secs = local - days * 86400;
    kdate_t d = kdate_from_days(days);
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d+%02d:00",
             d.year % 10000, d.month, d.day, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60), off / 3600);
    memcpy(out, buf, 25);
    out[25] = '\0';
}

kdate_t result_due(kdate_t accepted)
{
    return kdate_add(accepted, 30);
}

kdate_t centre_internal_due(kdate_t accepted)
{
    return kdate_add(accepted, 29);
}
