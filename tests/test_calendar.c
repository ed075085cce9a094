/* p.7: the result within 30 calendar days, the day of acceptance not
 * counted; for a centre the authority's term is one day earlier. Dates
 * are Asia/Almaty calendar dates. */
#include "calendar.h"

#include <criterion/criterion.h>
#include <string.h>

static void due(const char *accepted, const char *want, bool centre)
{
    kdate_t d;
    char out[11];
    cr_assert(kdate_parse(accepted, &d));
    kdate_format(centre ? centre_internal_due(d) : result_due(d), out);
    cr_assert_str_eq(out, want, "accepted %s", accepted);
}

Test(calendar, p7_thirty_days_after_acceptance_day)
{
    due("2026-11-25", "2026-12-25", false);
    due("2026-12-15", "2027-01-14", false);  /* over the year end */
    due("2028-02-01", "2028-03-02", false);  /* leap February */
    due("2027-02-01", "2027-03-03", false);
}

Test(calendar, p7_centre_one_day_earlier)
{
    due("2026-11-25", "2026-12-24", true);
}

Test(calendar, almaty_date_changes_at_local_midnight)
{
    char ts[26], out[11];
    /* 2026-11-25T19:00:00Z is 2026-11-26T00:00:00+05:00 */
    int64_t t = kdate_to_days((kdate_t){2026, 11, 25}) * 86400 + 19 * 3600;
    kdate_format(almaty_date(t), out);
    cr_assert_str_eq(out, "2026-11-26");
    kdate_format(almaty_date(t - 1), out);
    cr_assert_str_eq(out, "2026-11-25");
    almaty_timestamp(t, ts);
    cr_assert_str_eq(ts, "2026-11-26T00:00:00+05:00");
}

Test(calendar, almaty_was_utc_plus_6_before_march_2024)
{
    char ts[26];
    int64_t t = kdate_to_days((kdate_t){2023, 6, 1}) * 86400;
    almaty_timestamp(t, ts);
    cr_assert_str_eq(ts, "2023-06-01T06:00:00+06:00");
}

Test(calendar, parse_is_strict)
{
    kdate_t d;
    cr_assert_not(kdate_parse("2026-02-30", &d));
    cr_assert_not(kdate_parse("2026-2-3", &d));
    cr_assert_not(kdate_parse("2026/02/03", &d));
    cr_assert_not(kdate_parse(NULL, &d));
    cr_assert(kdate_parse("2024-02-29", &d));
    cr_assert_eq(kdate_from_days(kdate_to_days(d)).day, 29);
}
