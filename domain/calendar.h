/* calendar — calendar dates in Asia/Almaty and the deadlines of p.7.
 *
 * Asia/Almaty is UTC+6 until 2024-03-01 00:00 local time and UTC+5 from
 * then on (no daylight saving). */
#ifndef KEZEK_CALENDAR_H
#define KEZEK_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct kdate {
    int year, month, day;
} kdate_t;

bool kdate_valid(int year, int month, int day);
/* Days since 1970-01-01 and back. */
int64_t kdate_to_days(kdate_t d);
kdate_t kdate_from_days(int64_t days);
kdate_t kdate_add(kdate_t d, int days);
/* "YYYY-MM-DD" into out (11 bytes). */
void kdate_format(kdate_t d, char *out);
/* Parses "YYYY-MM-DD" strictly. */
bool kdate_parse(const char *s, kdate_t *out);

/* The Almaty UTC offset in seconds at the instant unix_s. */
int almaty_offset(int64_t unix_s);
/* The Almaty calendar date of an instant. */
kdate_t almaty_date(int64_t unix_s);
/* RFC 3339 with the Almaty offset ("2026-11-25T10:15:00+05:00"),
 * out of 26 bytes. */
void almaty_timestamp(int64_t unix_s, char *out);

/* p.7: 30 calendar days, the day of acceptance not counted. */
kdate_t result_due(kdate_t accepted);
/* p.7: for a centre, the authority delivers one day before the term. */
kdate_t centre_internal_due(kdate_t accepted);

#endif
