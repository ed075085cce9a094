/* p.6: who may be registered — citizenship and permanent residence,
 * the four categories, the socially vulnerable groups 1)–12), the 3.1x
 * income test, the age of orphans (group 7), the workplace certificate
 * of the public sector (item 3, p.11 item 10) and the only dwelling in
 * emergency condition (item 4). Table-driven: each case names the
 * paragraph it checks. Need grounds: test_p6_need.c; p.16: test_p16.c.
 */
#include "elig.h"
#include "reasons.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "rules_case.h"

#define TWELVE(x)                                                         \
    "[" x ", " x ", " x ", " x ", " x ", " x ", " x ", " x ", " x ", " x \
    ", " x ", " x "]"
#define INCOME(x, members)                                                \
    "{'monthly_family_totals_tenge': " TWELVE(x) ", 'members': " members "}"
/* minimum 40000, 3 members: 3.1x per member is a sum of 4 464 000 */
#define INC_AT INCOME("372000", "3")
#define INC_BELOW                                                         \
    "{'monthly_family_totals_tenge': [371999, 372000, 372000, 372000,"  \
    " 372000, 372000, 372000, 372000, 372000, 372000, 372000, 372000],"  \
    " 'members': 3}"
#define INC_LOW INCOME("100000", "3")
#define INC_HIGH INCOME("900000", "3")
#define VULN(group, income)                                               \
    "{'category': 'vulnerable', 'vulnerable_group': " group              \
    ", 'income': " income "}"
#define ORPHAN "{'category': 'vulnerable', 'vulnerable_group': 7}"
#define ORPHAN_SERVED(months)                                             \
    "{'category': 'vulnerable', 'vulnerable_group': 7,"                 \
    " 'conscript_service_months': " months "}"
#define BORN(date) "{'person': {'birth_date': '" date "'}}"
#define SECTOR(kind, docs)                                                \
    "{'category': 'public_sector', 'public_sector_kind': '" kind "',"   \
    " 'documents': [{'code': 'application_form'}" docs "]}"
#define WORKPLACE ", {'code': 'workplace_certificate'}"
/* category item 4 with need ground 4 (the family's dwelling fails the
 * requirements), which an owned dwelling does not contradict */
#define EMERGENCY                                                         \
    "{'category': 'emergency_dwelling', 'need_grounds': [4],"           \
    " 'documents': [{'code': 'application_form'},"                      \
    " {'code': 'emergency_dwelling_certificate'},"                      \
    " {'code': 'competent_body_certificate'}]}"
#define PROP(id, acquired, alienated, emergency)                          \
    "{'owner_iin': '791028300018', 'dwelling_id': '" id "',"            \
    " 'settlement_id': 's-01-02', 'acquired': " acquired ","            \
    " 'alienated': " alienated ", 'alienation': null, 'fit': false,"    \
    " 'emergency': " emergency ", 'damaged_on': null}"
#define PROPS(list) "{'properties': [" list "]}"

static struct elig_case person_cases[] = {
    {"p6: citizen residing in the settlement, wwii, registered",
     NULL, NULL, NULL, REG, ""},
    {"p6.citizenship: the register says not a citizen",
     NULL, "{'person': {'citizen': false}}", NULL, REF, "p6.citizenship"},
    {"p6.citizenship: citizen not a boolean is not shown a citizen",
     NULL, "{'person': {'citizen': 'yes'}}", NULL, REF, "p6.citizenship"},
    {"p6.citizenship: citizen absent from the record",
     NULL, "{'person': {'citizen': '$absent'}}", NULL, REF,
     "p6.citizenship"},
    {"p6: person unknown to the register: neither citizen nor resident",
     NULL, "{'person': null}", NULL, REF, "p6.citizenship p6.residence"},
    {"p6: person absent from the facts, same as unknown",
     NULL, "{'person': '$absent'}", NULL, REF,
     "p6.citizenship p6.residence"},
    {"p6: person of the wrong type (a number), same as unknown",
     NULL, "{'person': 42}", NULL, REF, "p6.citizenship p6.residence"},
    {"p6.residence: lives in another settlement",
     NULL, "{'person': {'settlement_id': 's-02-01'}}", NULL, REF,
     "p6.residence"},
    {"p6.residence: settlement_id not a string",
     NULL, "{'person': {'settlement_id': 17}}", NULL, REF,
     "p6.residence"},
    {"p6.residence: registered there only after the application date",
     NULL, "{'person': {'registered_since': '2026-11-26'}}", NULL, REF,
     "p6.residence"},
    {"p6.residence: registered on the application date (however long)",
     NULL, "{'person': {'registered_since': '2026-11-25'}}", NULL, REG,
     ""},
    {"p6: neither citizen nor resident: both reasons, in order",
     NULL, "{'person': {'citizen': false, 'settlement_id': 'x'}}", NULL,
     REF, "p6.citizenship p6.residence"},
};

static struct elig_case category_cases[] = {
    {"p6 item 1: wwii needs no income", "{'income': " INC_HIGH "}",
     NULL, NULL, REG, ""},
    {"p6.category: not one of the four categories",
     "{'category': 'pensioner'}", NULL, NULL, REF, "p6.category"},
    {"p6.category: category absent", "{'category': '$absent'}", NULL,
     NULL, REF, "p6.category"},
    {"p6.category: category not a string", "{'category': 2}", NULL, NULL,
     REF, "p6.category"},
    {"p6.category: vulnerable without a group",
     "{'category': 'vulnerable', 'income': " INC_LOW "}", NULL, NULL, REF,
     "p6.category"},
    {"p6.category: vulnerable group 0", VULN("0", INC_LOW), NULL, NULL,
     REF, "p6.category"},
    {"p6.category: vulnerable group 13", VULN("13", INC_LOW), NULL, NULL,
     REF, "p6.category"},
    {"p6.category: vulnerable group as a string",
     VULN("'3'", INC_LOW), NULL, NULL, REF, "p6.category"},
    /* p.6 item 3, p.11 item 10 */
    {"p6 item 3: civil servant with workplace certificate",
     SECTOR("civil_servant", WORKPLACE), NULL, NULL, REG, ""},
    {"p6 item 3: budget employee with workplace certificate",
     SECTOR("budget_employee", WORKPLACE), NULL, NULL, REG, ""},
    {"p6 item 3: military serviceman with workplace certificate",
     SECTOR("military", WORKPLACE), NULL, NULL, REG, ""},
    {"p6 item 3: cosmonaut with status document (p.11 item 10)",
     SECTOR("cosmonaut", WORKPLACE), NULL, NULL, REG, ""},
    {"p6 item 3: elected office holder with workplace certificate",
     SECTOR("elected", WORKPLACE), NULL, NULL, REG, ""},
    {"p6.category: public sector without workplace certificate",
     SECTOR("civil_servant", ""), NULL, NULL, REF, "p6.category"},
    {"p6.category: public sector kind not in p.6 item 3",
     SECTOR("teacher", WORKPLACE), NULL, NULL, REF, "p6.category"},
    {"p6.category: public sector without a kind",
     "{'category': 'public_sector', 'documents': "
     "[{'code': 'workplace_certificate'}]}", NULL, NULL, REF,
     "p6.category"},
    /* p.6 item 4 */
    {"p6 item 4: the only dwelling is in emergency condition",
     EMERGENCY, PROPS(PROP("d1", "'2010-01-01'", "null", "true")), NULL,
     REG, ""},
    {"p6.category: the only dwelling is not in emergency condition",
     EMERGENCY, PROPS(PROP("d1", "'2010-01-01'", "null", "false")), NULL,
     REF, "p6.category"},
    {"p6.category: emergency unknown (absent) is not emergency",
     EMERGENCY, PROPS(PROP("d1", "'2010-01-01'", "null", "'$absent'")),
     NULL, REF, "p6.category"},
    {"p6.category: emergency dwelling is not the only one",
     EMERGENCY, PROPS(PROP("d1", "'2010-01-01'", "null", "true") ", "
                      PROP("d2", "'2012-01-01'", "null", "false")),
     NULL, REF, "p6.category"},
    {"p6 item 4: a dwelling alienated long ago does not count",
     EMERGENCY, PROPS(PROP("d1", "'2010-01-01'", "null", "true") ", "
                      PROP("d2", "'2005-01-01'", "'2012-01-01'",
                           "false")),
     NULL, REG, ""},
    {"p6.category: no dwelling owned at all",
     "{'category': 'emergency_dwelling', 'need_grounds': [1]}", NULL,
     NULL, REF, "p6.category"},
    {"p6.category: the emergency dwelling acquired after the date",
     EMERGENCY, PROPS(PROP("d1", "'2026-11-26'", "null", "true")), NULL,
     REF, "p6.category"},
    {"p6.category: the emergency dwelling alienated on the date",
     EMERGENCY, PROPS(PROP("d1", "'2010-01-01'", "'2026-11-25'", "true")),
     NULL, REF, "p6.category"},
};

static struct elig_case group_cases[] = {
    {"p6 group 1: WWII veteran (item 1), no income test",
     VULN("1", INC_HIGH), NULL, NULL, REG, ""},
    {"p6 group 2: equated to WWII veterans, income below",
     VULN("2", INC_LOW), NULL, NULL, REG, ""},
    {"p6 group 3: disabled of groups 1 and 2, income below",
     VULN("3", INC_LOW), NULL, NULL, REG, ""},
    {"p6 group 4: family with disabled children, no income test",
     VULN("4", INC_HIGH), NULL, NULL, REG, ""},
    {"p6 group 4: no income given at all", VULN("4", "null"), NULL, NULL,
     REG, ""},
    {"p6 group 5: severe chronic disease, income below",
     VULN("5", INC_LOW), NULL, NULL, REG, ""},
    {"p6 group 6: pensioner by age, income below", VULN("6", INC_LOW),
     NULL, NULL, REG, ""},
    {"p6 group 7: orphan under 23, no income test", VULN("7", INC_HIGH),
     BORN("2005-03-01"), NULL, REG, ""},
    {"p6 group 8: oralman, income below", VULN("8", INC_LOW), NULL, NULL,
     REG, ""},
    {"p6 group 9: lost dwelling in an emergency, income below",
     VULN("9", INC_LOW), NULL, NULL, REG, ""},
    {"p6 group 10: large family, income below", VULN("10", INC_LOW),
     NULL, NULL, REG, ""},
    {"p6 group 11: family of one who died on duty, income below",
     VULN("11", INC_LOW), NULL, NULL, REG, ""},
    {"p6 group 12: single-parent family, income below",
     VULN("12", INC_LOW), NULL, NULL, REG, ""},
};

static struct elig_case income_cases[] = {
    {"p6.income: group 3, income well above 3.1x", VULN("3", INC_HIGH),
     NULL, NULL, REF, "p6.income"},
    {"p6.income: group 12, exactly 3.1x is not below",
     VULN("12", INC_AT), NULL, NULL, REF, "p6.income"},
    {"p6.income: one tenge a year below 3.1x is below",
     VULN("12", INC_BELOW), NULL, NULL, REG, ""},
    {"p6.income: one member, exactly 3.1x (124000) refused",
     VULN("6", INCOME("124000", "1")), NULL, NULL, REF, "p6.income"},
    {"p6.income: one member, 123999 a month registered",
     VULN("6", INCOME("123999", "1")), NULL, NULL, REG, ""},
    {"p6.income: no income at all cannot be shown below",
     VULN("6", "null"), NULL, NULL, REF, "p6.income"},
    {"p6.income: eleven months are not twelve",
     VULN("6", "{'monthly_family_totals_tenge': [1,1,1,1,1,1,1,1,1,1,1],"
               " 'members': 3}"), NULL, NULL, REF, "p6.income"},
    {"p6.income: a negative month is unreadable",
     VULN("6", "{'monthly_family_totals_tenge': [-1,1,1,1,1,1,1,1,1,1,1,"
               "1], 'members': 3}"), NULL, NULL, REF, "p6.income"},
    {"p6.income: a month as a string is unreadable",
     VULN("6", INCOME("'1'", "3")), NULL, NULL, REF, "p6.income"},
    {"p6.income: zero members is unreadable",
     VULN("6", INCOME("1", "0")), NULL, NULL, REF, "p6.income"},
    {"p6.income: subsistence minimum null: review, never a guess",
     VULN("6", INC_LOW), "{'subsistence_minimum': null}", NULL, REV, ""},
    {"p6.income: subsistence minimum absent: review",
     VULN("6", INC_LOW), "{'subsistence_minimum': '$absent'}", NULL, REV,
     ""},
    {"p6.income: subsistence minimum as a string: review",
     VULN("6", INC_LOW), "{'subsistence_minimum': '40000'}", NULL, REV,
     ""},
    {"p6.income: subsistence minimum zero: review",
     VULN("6", INC_LOW), "{'subsistence_minimum': 0}", NULL, REV, ""},
    {"p6.income: review wins over another refusal (p.15: all grounds)",
     VULN("6", INC_LOW), "{'subsistence_minimum': null, 'person': null}",
     NULL, REV, ""},
    {"p6.income: unreadable income refuses even without the minimum",
     VULN("6", "null"), "{'subsistence_minimum': null}", NULL, REF,
     "p6.income"},
    {"p6.income: not applied to group 4, minimum missing is no review",
     VULN("4", INC_HIGH), "{'subsistence_minimum': null}", NULL, REG, ""},
    {"p6.income: not applied to wwii, minimum missing is no review",
     NULL, "{'subsistence_minimum': null}", NULL, REG, ""},
    {"p6.income: not applied to group 7, minimum missing is no review",
     ORPHAN, "{'subsistence_minimum': null, 'person': "
             "{'birth_date': '2005-03-01'}}", NULL, REG, ""},
};

/* p.6 group 7: under 23 on the application date, extended by conscript
 * service; 29 February births have their birthday on 1 March in a
 * common year. 030510500010: IIN born 2003-05-10; 040229500015: IIN
 * born 2004-02-29. */
static struct elig_case orphan_cases[] = {
    {"p6.orphan_age: 22 years old", ORPHAN, BORN("2004-06-15"), NULL,
     REG, ""},
    {"p6.orphan_age: the 23rd birthday itself is no longer under 23",
     ORPHAN, BORN("2003-11-25"), NULL, REF, "p6.orphan_age"},
    {"p6.orphan_age: the day before the 23rd birthday",
     ORPHAN, BORN("2003-11-26"), NULL, REG, ""},
    {"p6.orphan_age: 23rd birthday with 12 months of service: under",
     ORPHAN_SERVED("12"), BORN("2003-11-25"), NULL, REG, ""},
    {"p6.orphan_age: 24th birthday with 12 months of service: over",
     ORPHAN_SERVED("12"), BORN("2002-11-25"), NULL, REF,
     "p6.orphan_age"},
    {"p6.orphan_age: day before the extended limit (12 months)",
     ORPHAN_SERVED("12"), BORN("2002-11-26"), NULL, REG, ""},
    {"p6.orphan_age: 18 months of service extend to 23.5 years",
     ORPHAN_SERVED("18"), BORN("2003-05-26"), NULL, REG, ""},
    {"p6.orphan_age: service months as a string count as none",
     ORPHAN_SERVED("'12'"), BORN("2003-11-25"), NULL, REF,
     "p6.orphan_age"},
    {"p6.orphan_age: negative service months count as none",
     ORPHAN_SERVED("-12"), BORN("2003-11-26"), NULL, REG, ""},
    {"p6.orphan_age: born 29 Feb, 28 Feb of a common year: under",
     ORPHAN, BORN("2004-02-29"), "2027-02-28", REG, ""},
    {"p6.orphan_age: born 29 Feb, 1 Mar of a common year: 23",
     ORPHAN, BORN("2004-02-29"), "2027-03-01", REF, "p6.orphan_age"},
    {"p6.orphan_age: born 29 Feb + 12 months service, 28 Feb 2028",
     ORPHAN_SERVED("12"), BORN("2004-02-29"), "2028-02-28", REG, ""},
    {"p6.orphan_age: born 29 Feb + 12 months service, 29 Feb 2028",
     ORPHAN_SERVED("12"), BORN("2004-02-29"), "2028-02-29", REF,
     "p6.orphan_age"},
    {"p6.orphan_age: unknown person, birth date from IIN, under 23",
     "{'category': 'vulnerable', 'vulnerable_group': 7,"
     " 'applicant': {'iin': '040229500015'}}", "{'person': null}",
     "2027-02-28", REF, "p6.citizenship p6.residence"},
    {"p6.orphan_age: unknown person, birth date from IIN, 23",
     "{'category': 'vulnerable', 'vulnerable_group': 7,"
     " 'applicant': {'iin': '040229500015'}}", "{'person': null}",
     "2027-03-01", REF, "p6.citizenship p6.residence p6.orphan_age"},
    {"p6.orphan_age: unreadable register date, IIN's used (23rd)",
     "{'category': 'vulnerable', 'vulnerable_group': 7,"
     " 'applicant': {'iin': '030510500010'}}", BORN("2003-5-10"),
     "2026-05-10", REF, "p6.orphan_age"},
    {"p6.orphan_age: unreadable register date, IIN's used (under)",
     "{'category': 'vulnerable', 'vulnerable_group': 7,"
     " 'applicant': {'iin': '030510500010'}}", BORN("2003-5-10"),
     "2026-05-09", REG, ""},
    {"p6.orphan_age: no birth date anywhere cannot be shown under 23",
     "{'category': 'vulnerable', 'vulnerable_group': 7,"
     " 'applicant': {'iin': '123'}}", "{'person': {'birth_date': null}}",
     NULL, REF, "p6.orphan_age"},
};

CASE_TESTS(p6, person, person_cases)

CASE_TESTS(p6, category, category_cases)

CASE_TESTS(p6, vulnerable_group, group_cases)

/* p.6 item 1 and the socially vulnerable groups a state system records
 * (issue 22): the category is taken from the social status registry;
 * where it does not show the claim, the application waits for an
 * employee (review, category_not_in_registry) unless other grounds
 * refuse it; groups shown by the applicant's document alone (5, 9, 11,
 * 12) need no record. */
#define REC(s, g, since, until)                                           \
    "{'iin': '791028300018', 'status': '" s "', 'group': " g ","        \
    " 'since': '" since "', 'until': " until "}"
#define ONLY(rec) "{'statuses': [" rec "]}"
#define VULN_G(group) "{'category': 'vulnerable', 'vulnerable_group': "   \
    group ", 'income': " INC_LOW "}"

static struct elig_case registry_cases[] = {
    {"p6 item 1: the veterans' records show him: registered",
     NULL, ONLY(REC("wwii_participant", "null", "1995-05-09", "null")),
     NULL, REG, ""},
    {"p6 item 1: no record: review (category_not_in_registry)",
     NULL, "{'statuses': []}", NULL, REV, ""},
    {"p6 item 1: statuses absent from the facts: review",
     NULL, "{'statuses': '$absent'}", NULL, REV, ""},
    {"p6 item 1: a record of another status only: review",
     NULL, ONLY(REC("pensioner", "null", "2000-01-01", "null")), NULL, REV,
     ""},
    {"p6 item 1: the record ended before the application: review",
     NULL, ONLY(REC("wwii_participant", "null", "1995-05-09",
                    "'2020-01-01'")), NULL, REV, ""},
    {"p6 item 1: the record begins after the application: review",
     NULL, ONLY(REC("wwii_participant", "null", "2026-12-01", "null")),
     NULL, REV, ""},
    {"p6 item 1: another person's record: review",
     NULL, "{'statuses': [{'iin': '800101400017', 'status':"
     " 'wwii_participant', 'group': null, 'since': '1995-05-09',"
     " 'until': null}]}", NULL, REV, ""},
    {"p6: no record and not a citizen: refused, not reviewed",
     NULL, "{'statuses': [], 'person': {'citizen': false}}", NULL, REF,
     "p6.citizenship"},
    {"p6 group 3: disability of group 2 recorded: registered",
     VULN_G("3"), ONLY(REC("disability", "2", "2010-01-01", "null")), NULL,
     REG, ""},
    {"p6 group 3: disability of group 3 only: review",
     VULN_G("3"), ONLY(REC("disability", "3", "2010-01-01", "null")), NULL,
     REV, ""},
    {"p6 group 3: the population register's disability group 1",
     VULN_G("3"), "{'statuses': [], 'person': {'disability_group': 1}}",
     NULL, REG, ""},
    {"p6 group 10: a large family recorded: registered",
     VULN_G("10"), ONLY(REC("large_family", "null", "2019-01-01", "null")),
     NULL, REG, ""},
    {"p6 group 10: no record: review",
     VULN_G("10"), "{'statuses': []}", NULL, REV, ""},
    {"p6 group 5: the document alone (no registry): registered",
     VULN_G("5"), "{'statuses': []}", NULL, REG, ""},
    {"p6 group 12: the document alone (no registry): registered",
     VULN_G("12"), "{'statuses': []}", NULL, REG, ""},
};

CASE_TESTS(p6, registry_status, registry_cases)

/* The reason of such a review, for the work list. */
Test(p6, registry_review_reason)
{
    json_t *app = doc(BASE_APP, NULL);
    json_t *facts = doc(BASE_FACTS, "{'statuses': []}");
    struct elig_decision d;
    elig_decide(app, facts, DATE, &d);
    cr_assert_eq(d.outcome, ELIG_REVIEW);
    cr_assert_str_eq(d.review_reason, "category_not_in_registry");
    json_decref(d.used);
    json_decref(app);
    json_decref(facts);
}

CASE_TESTS(p6, income, income_cases)

CASE_TESTS(p6, orphan_age, orphan_cases)

/* p.6 item 2: used shows the exact integer comparison. */
Test(p6, income_used_shows_the_comparison)
{
    json_t *app = doc(BASE_APP, VULN("12", INC_AT));
    json_t *facts = doc(BASE_FACTS, NULL);
    struct elig_decision d;
    elig_decide(app, facts, DATE, &d);
    json_t *u = json_object_get(d.used, "p6.income");
    cr_assert_eq(json_integer_value(json_object_get(u, "sum")), 4464000);
    cr_assert_eq(json_integer_value(json_object_get(u, "members")), 3);
    cr_assert_eq(json_integer_value(json_object_get(u, "minimum")), 40000);
    cr_assert_eq(json_integer_value(json_object_get(u, "sum_x10")),
                 44640000);
    cr_assert_eq(json_integer_value(json_object_get(u, "threshold_x10")),
                 44640000);
    cr_assert(json_is_object(json_object_get(d.used, "p6.citizenship")));
    cr_assert(json_is_object(json_object_get(d.used, "p16.5")));
    json_decref(d.used);
    json_decref(app);
    json_decref(facts);
}

/* p.6: review carries no reasons and names why. */
Test(p6, review_names_the_missing_minimum)
{
    json_t *app = doc(BASE_APP, VULN("6", INC_LOW));
    json_t *facts = doc(BASE_FACTS, "{'subsistence_minimum': null}");
    struct elig_decision d;
    elig_decide(app, facts, DATE, &d);
    cr_assert_eq(d.outcome, ELIG_REVIEW);
    cr_assert_eq(d.nreasons, 0);
    cr_assert_str_eq(d.review_reason, "subsistence_minimum_missing");
    cr_assert_str_eq(elig_outcome_str(d.outcome), "review");
    json_decref(d.used);
    json_decref(app);
    json_decref(facts);
}

/* Malformed input of every kind: no crash, used always an object,
 * conservative outcomes (an unknown person is refused). */
Test(p6, malformed_inputs_never_crash)
{
    static const char *const facts_docs[] = {
        "null", "[]", "'facts'", "{'person': [], 'properties': 5,"
        " 'tenancies': {}, 'moves': 'x', 'subsistence_minimum': []}",
        "{'properties': [null, 1, [], {'acquired': 5, 'alienated': 3},"
        " {'owner_iin': null}], 'moves': [null, {'date': 7},"
        " {'direction': 'in', 'date': '2026-01-01', 'relation': 4,"
        " 'dwelling_owner_iin': '791028300018'}],"
        " 'tenancies': [1, {'since': 'x'}, {'until': 3}]}",
    };
    static const char *const app_docs[] = {
        "null", "[]", BASE_APP,
        "{'applicant': 1, 'category': 'vulnerable', 'vulnerable_group':"
        " 6, 'income': {'monthly_family_totals_tenge': 'x', 'members':"
        " 'y'}, 'need_grounds': 'z', 'documents': 3}",
        "{'category': 'vulnerable', 'vulnerable_group': 6, 'income': "
        INCOME("9223372036854775807", "9223372036854775807") "}",
    };
    static const char *const dates[] = {DATE, "2026-02-30", "", NULL};
    for (size_t a = 0; a < NCASES(app_docs); a++)
        for (size_t f = 0; f < NCASES(facts_docs); f++)
            for (size_t k = 0; k < NCASES(dates); k++) {
                json_t *app = parse_quoted(app_docs[a]);
                json_t *facts = parse_quoted(facts_docs[f]);
                struct elig_decision d;
                elig_decide(app, facts, dates[k], &d);
                cr_assert(json_is_object(d.used));
                cr_assert(d.outcome != ELIG_REGISTERED,
                          "app %zu facts %zu date %zu registered", a, f,
                          k);
                cr_assert(k == 0 || d.outcome == ELIG_REVIEW);
                json_decref(d.used);
                json_decref(app);
                json_decref(facts);
            }
}
