/* IIN at the boundary (CONTRACT "Errors": invalid_iin; p.6 applicants
 * are identified by IIN). */
#include "iin.h"

#include <criterion/criterion.h>
#include <stdio.h>

Test(iin, valid_first_weights)
{
    char birth[11];
    cr_assert(iin_valid("791028302728", birth));
    cr_assert_str_eq(birth, "1979-10-28");
    cr_assert(iin_valid("850115300001", NULL));
    cr_assert(iin_valid("061211600012", birth));   /* issue 4's vector */
    cr_assert_str_eq(birth, "2006-12-11");
}

Test(iin, second_weights_when_first_gives_10)
{
    /* Σ dᵢ·i = 98 ≡ 10 (mod 11); second weights give 126 ≡ 5 */
    cr_assert(iin_valid("850115300205", NULL));
    cr_assert_not(iin_valid("850115300200", NULL));
}

Test(iin, invalid_when_both_give_10)
{
    for (int d = 0; d <= 9; d++) {
        char s[13];
        snprintf(s, sizeof(s), "85011530028%d", d);
        cr_assert_not(iin_valid(s, NULL), "%s", s);
    }
}

Test(iin, wrong_check_digit)
{
    cr_assert_not(iin_valid("791028302727", NULL));
}

Test(iin, birth_date_must_exist)
{
    cr_assert_not(iin_valid("790230300000", NULL)); /* 30 February */
    cr_assert_not(iin_valid("791328300000", NULL)); /* month 13 */
}

Test(iin, century_digit_1_to_6)
{
    char birth[11];
    /* digit 7 = 0 and 7 are not centuries */
    cr_assert_not(iin_valid("791028002728", NULL));
    cr_assert_not(iin_valid("791028702728", NULL));
    /* 5/6: born in the 2000s */
    cr_assert(iin_valid("050101500000", birth));
    cr_assert_str_eq(birth, "2005-01-01");
}

Test(iin, shape)
{
    cr_assert_not(iin_valid("", NULL));
    cr_assert_not(iin_valid("79102830272", NULL));
    cr_assert_not(iin_valid("7910283027280", NULL));
    cr_assert_not(iin_valid("79102830272a", NULL));
    cr_assert_not(iin_valid(NULL, NULL));
}
