/* p.6, second list: who is in need of housing — need grounds 1)–6).
 * A claimed ground the registries contradict is always a reason
 * (issue 5), also when another claimed ground holds. Ownership on the
 * date: acquired <= date and not alienated by then. Table-driven: each
 * case names the ground it checks. */
#include "elig.h"
#include "reasons.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "rules_case.h"

#define PROP(id, where, acquired, alienated)                              \
    "{'owner_iin': '791028300018', 'dwelling_id': '" id "',"            \
    " 'settlement_id': '" where "', 'acquired': '" acquired "',"        \
    " 'alienated': " alienated ", 'alienation': 'sale', 'fit': false,"  \
    " 'emergency': false, 'damaged_on': null}"
#define HERE(id) PROP(id, "s-01-02", "2010-01-01", "null")
#define ELSEWHERE(id) PROP(id, "s-09-01", "2010-01-01", "null")
#define PROPS(list) "{'properties': [" list "]}"
#define GROUNDS(fund, list)                                               \
    "{'fund': '" fund "', 'need_grounds': [" list "]}"
#define CERT                                                              \
    ", 'documents': [{'code': 'application_form'},"                     \
    " {'code': 'competent_body_certificate'}]}"
#define GROUNDS_CERT(list) "{'need_grounds': [" list "]" CERT
#define TENANCY(where, since, until)                                      \
    "{'kind': 'communal_tenancy', 'iin': '791028300018',"               \
    " 'settlement_id': '" where "', 'since': '" since "',"              \
    " 'until': " until "}"
#define TENANCIES(list) "{'tenancies': [" list "]}"

static struct elig_case ground1_cases[] = {
    {"p6.need.1: owns nothing, communal fund", NULL, NULL, NULL, REG, ""},
    {"p6.need.1: owns a dwelling in another settlement",
     NULL, PROPS(ELSEWHERE("d1")), NULL, REF, "p6.need.1"},
    {"p6.need.1: owns a dwelling in the settlement",
     NULL, PROPS(HERE("d1")), NULL, REF, "p6.need.1"},
    {"p6.need.1: alienated before the date no longer owned",
     NULL, PROPS(PROP("d1", "s-09-01", "2000-01-01", "'2015-06-01'")),
     NULL, REG, ""},
    {"p6.need.1: alienated on the date itself no longer owned",
     NULL, PROPS(PROP("d1", "s-09-01", "2000-01-01", "'2026-11-25'")),
     NULL, REG, ""},
    {"p6.need.1: alienated the day after the date still owned",
     NULL, PROPS(PROP("d1", "s-09-01", "2000-01-01", "'2026-11-26'")),
     NULL, REF, "p6.need.1"},
    {"p6.need.1: acquired on the date is owned",
     NULL, PROPS(PROP("d1", "s-09-01", "2026-11-25", "null")), NULL, REF,
     "p6.need.1"},
    {"p6.need.1: acquired the day after the date is not owned",
     NULL, PROPS(PROP("d1", "s-09-01", "2026-11-26", "null")), NULL, REG,
     ""},
    {"p6.need.1: state enterprise fund, owns elsewhere",
     GROUNDS("state_enterprise", "1"), PROPS(ELSEWHERE("d1")), NULL, REF,
     "p6.need.1"},
    {"p6.need.1: leb_rented fund, owns elsewhere",
     GROUNDS("leb_rented", "1"), PROPS(ELSEWHERE("d1")), NULL, REF,
     "p6.need.1"},
    {"p6.need.1: state institution fund, owns nothing anywhere",
     GROUNDS("state_institution", "1"), NULL, NULL, REG, ""},
    {"p6.need.1: state institution fund, claimed 1, owns elsewhere",
     GROUNDS("state_institution", "1"), PROPS(ELSEWHERE("d1")), NULL, REF,
     "p6.need.1"},
    {"p6.need.1: another owner's record is not the applicant's",
     NULL, "{'properties': [{'owner_iin': '850303300013',"
           " 'dwelling_id': 'd9', 'settlement_id': 's-01-02',"
           " 'acquired': '2010-01-01', 'alienated': null}]}", NULL, REG,
     ""},
    {"p6.need.1: unreadable records prove no ownership",
     NULL, "{'properties': [null, 7, {'owner_iin': '791028300018',"
           " 'acquired': '2010-13-01', 'alienated': null},"
           " {'acquired': '2010-01-01', 'alienated': 'soon'}]}", NULL,
     REG, ""},
    {"p6.need.1: owner_iin absent: the adapter's record counts",
     NULL, "{'properties': [{'dwelling_id': 'd1', 'acquired':"
           " '2010-01-01', 'alienated': null}]}", NULL, REF, "p6.need.1"},
};

static struct elig_case ground2_cases[] = {
    {"p6.need.2: state institution fund, owns only elsewhere",
     GROUNDS("state_institution", "2"), PROPS(ELSEWHERE("d1")), NULL, REG,
     ""},
    {"p6.need.2: state institution fund, owns here",
     GROUNDS("state_institution", "2"), PROPS(HERE("d1")), NULL, REF,
     "p6.need.2"},
    {"p6.need.2: state institution fund, owns nothing",
     GROUNDS("state_institution", "2"), NULL, NULL, REG, ""},
    {"p6.need.2: communal fund owning here: contradicted",
     GROUNDS("communal", "2"), PROPS(HERE("d1")), NULL, REF, "p6.need.2"},
    {"p6.need.2: communal fund, owns elsewhere: p.6 need 1 governs",
     GROUNDS("communal", "2"), PROPS(ELSEWHERE("d1")), NULL, REF,
     "p6.need.1"},
    {"p6.need.2: communal fund, owns nothing: holds",
     GROUNDS("communal", "2"), NULL, NULL, REG, ""},
    {"p6.need.2: claimed 1 and 2 for state institution, owns elsewhere",
     GROUNDS("state_institution", "1, 2"), PROPS(ELSEWHERE("d1")), NULL,
     REF, "p6.need.1"},
    {"p6.need.2: claimed 1 and 2, owns here: both reasons",
     GROUNDS("state_institution", "2, 1"), PROPS(HERE("d1")), NULL, REF,
     "p6.need.1 p6.need.2"},
    {"p6.need.2: a property without settlement is not here",
     GROUNDS("state_institution", "2"),
     "{'properties': [{'owner_iin': '791028300018', 'acquired':"
     " '2010-01-01', 'alienated': null}]}", NULL, REG, ""},
};

static struct elig_case ground3_cases[] = {
    {"p6.need.3: no communal tenancy",
     GROUNDS("communal", "3"), NULL, NULL, REG, ""},
    {"p6.need.3: open-ended tenancy in the settlement",
     GROUNDS("communal", "3"),
     TENANCIES(TENANCY("s-01-02", "2012-01-01", "null")), NULL, REF,
     "p6.need.3"},
    {"p6.need.3: tenancy ending after the date is still in use",
     GROUNDS("communal", "3"),
     TENANCIES(TENANCY("s-01-02", "2012-01-01", "'2026-11-26'")), NULL,
     REF, "p6.need.3"},
    {"p6.need.3: tenancy ended on the date is no longer in use",
     GROUNDS("communal", "3"),
     TENANCIES(TENANCY("s-01-02", "2012-01-01", "'2026-11-25'")), NULL,
     REG, ""},
    {"p6.need.3: tenancy in another settlement does not count",
     GROUNDS("communal", "3"),
     TENANCIES(TENANCY("s-09-01", "2012-01-01", "null")), NULL, REG, ""},
    {"p6.need.3: tenancy starting after the date is not yet in use",
     GROUNDS("communal", "3"),
     TENANCIES(TENANCY("s-01-02", "2026-11-26", "null")), NULL, REG, ""},
    {"p6.need.3: unreadable tenancy proves nothing",
     GROUNDS("communal", "3"),
     TENANCIES(TENANCY("s-01-02", "2012", "null") ", "
               TENANCY("s-01-02", "2012-01-01", "3")), NULL, REG, ""},
    {"p6.need.3: another person's tenancy does not count",
     GROUNDS("communal", "3"),
     "{'tenancies': [{'iin': '850303300013', 'settlement_id': 's-01-02',"
     " 'since': '2012-01-01', 'until': null}]}", NULL, REG, ""},
};

static struct elig_case ground456_cases[] = {
    {"p6.need.4: unfit dwelling with competent body certificate",
     GROUNDS_CERT("4"), NULL, NULL, REG, ""},
    {"p6.need.4: no competent body certificate",
     GROUNDS("communal", "4"), NULL, NULL, REF, "p6.need.4"},
    {"p6.need.5: non-isolated rooms with certificate",
     GROUNDS_CERT("5"), NULL, NULL, REG, ""},
    {"p6.need.5: no competent body certificate",
     GROUNDS("communal", "5"), NULL, NULL, REF, "p6.need.5"},
    {"p6.need.6: severe chronic disease with certificate",
     GROUNDS_CERT("6"), NULL, NULL, REG, ""},
    {"p6.need.6: no competent body certificate",
     GROUNDS("communal", "6"), NULL, NULL, REF, "p6.need.6"},
    {"p6.need.4-6: all three without certificate, in order",
     GROUNDS("communal", "6, 4, 5"), NULL, NULL, REF,
     "p6.need.4 p6.need.5 p6.need.6"},
    {"p6.need.4: owning a dwelling does not contradict ground 4",
     GROUNDS_CERT("4"), PROPS(HERE("d1")), NULL, REG, ""},
};

static struct elig_case combined_cases[] = {
    {"p6.need: contradicted 1 refuses although 4 holds",
     GROUNDS_CERT("1, 4"), PROPS(HERE("d1")), NULL, REF, "p6.need.1"},
    {"p6.need: 1 and 3 both contradicted",
     GROUNDS("communal", "3, 1"),
     "{'properties': [" HERE("d1") "], 'tenancies': ["
     TENANCY("s-01-02", "2012-01-01", "null") "]}", NULL, REF,
     "p6.need.1 p6.need.3"},
    {"p6.need: 1, 3 and 4 all hold",
     GROUNDS_CERT("1, 3, 4"), NULL, NULL, REG, ""},
    {"p6.need: a ground claimed twice is one reason",
     GROUNDS("communal", "1, 1"), PROPS(ELSEWHERE("d1")), NULL, REF,
     "p6.need.1"},
    {"p6.need: no ground claimed is outside p.6 (p6.category)",
     GROUNDS("communal", ""), NULL, NULL, REF, "p6.category"},
    {"p6.need: need_grounds absent, p6.category",
     "{'need_grounds': '$absent'}", NULL, NULL, REF, "p6.category"},
    {"p6.need: only invalid entries (0, 7, '1'), p6.category",
     GROUNDS("communal", "0, 7, '1'"), NULL, NULL, REF, "p6.category"},
    {"p6.need: invalid entries beside a valid ground are ignored",
     GROUNDS("communal", "0, 1, 9"), NULL, NULL, REG, ""},
    {"p6.need: with p.6 person reasons, paragraph order",
     GROUNDS("communal", "4, 1"),
     "{'person': {'citizen': false}, 'properties': [" HERE("d1") "]}",
     NULL, REF, "p6.citizenship p6.need.1 p6.need.4"},
};

/* p.6 need 1–3 with p.11 items 4, 5: the dwellings and communal
 * tenancies of the family members the application lists (living with
 * the applicant) count as the applicant's; a record of a person the
 * application does not list does not (issue 22). */
#define WIFE "800101400017"
#define FAMILY_APP(grounds)                                               \
    "{'need_grounds': [" grounds "], 'family': [{'iin': '" WIFE "',"   \
    " 'relation': 'spouse', 'disabled': false}]}"
#define WIFE_PROP(id, where)                                              \
    "{'owner_iin': '" WIFE "', 'dwelling_id': '" id "',"                \
    " 'settlement_id': '" where "', 'acquired': '2015-01-01',"          \
    " 'alienated': null, 'alienation': null, 'fit': true,"              \
    " 'emergency': false, 'damaged_on': null}"
#define WIFE_TENANCY                                                      \
    "{'iin': '" WIFE "', 'settlement_id': 's-01-02',"                   \
    " 'since': '2018-01-01', 'until': null}"

static struct elig_case family_cases[] = {
    {"p6.need.1, p.11 item 4: the wife living with him owns a flat",
     FAMILY_APP("1"), "{'family_properties': [" WIFE_PROP("w1", "s-09-01")
     "]}", NULL, REF, "p6.need.1"},
    {"p6.need.2, p.11 item 4: the wife owns a flat in the settlement",
     "{'fund': 'state_institution', 'need_grounds': [2], 'family':"
     " [{'iin': '" WIFE "', 'relation': 'spouse', 'disabled': false}]}",
     "{'family_properties': [" WIFE_PROP("w1", "s-01-02") "]}", NULL, REF,
     "p6.need.2"},
    {"p6.need.2: the wife's flat elsewhere, state_institution fund",
     "{'fund': 'state_institution', 'need_grounds': [2], 'family':"
     " [{'iin': '" WIFE "', 'relation': 'spouse', 'disabled': false}]}",
     "{'family_properties': [" WIFE_PROP("w1", "s-09-01") "]}", NULL, REG,
     ""},
    {"p6.need.3, p.11 item 5: the wife holds a communal tenancy here",
     FAMILY_APP("3"), "{'family_tenancies': [" WIFE_TENANCY "]}", NULL,
     REF, "p6.need.3"},
    {"p6.need.1: a flat of someone the application does not list",
     NULL, "{'family_properties': [" WIFE_PROP("w1", "s-01-02") "]}", NULL,
     REG, ""},
    {"p6.need.1: the wife sold her flat before the application",
     FAMILY_APP("1"), "{'family_properties': [{'owner_iin': '" WIFE "',"
     " 'dwelling_id': 'w1', 'settlement_id': 's-01-02', 'acquired':"
     " '2010-01-01', 'alienated': '2020-01-01', 'alienation': 'sale',"
     " 'fit': true, 'emergency': false, 'damaged_on': null}]}", NULL, REG,
     ""},
};

CASE_TESTS(p6_need, family, family_cases)
CASE_TESTS(p6_need, ground1, ground1_cases)
CASE_TESTS(p6_need, ground2, ground2_cases)
CASE_TESTS(p6_need, ground3, ground3_cases)
CASE_TESTS(p6_need, grounds456, ground456_cases)
CASE_TESTS(p6_need, combined, combined_cases)

/* Unreadable records are named in used["ignored"]. */
Test(p6_need, ignored_records_are_listed)
{
    json_t *app = doc(BASE_APP, NULL);
    json_t *facts = doc(BASE_FACTS,
        "{'properties': [" HERE("d1") ", 5, {'acquired': 'x',"
        " 'alienated': null}], 'tenancies': [{}], 'moves': [[]]}");
    struct elig_decision d;
    elig_decide(app, facts, DATE, &d);
    char *s = json_dumps(json_object_get(d.used, "ignored"), JSON_COMPACT);
    cr_assert_str_eq(s, "[\"properties[1]\",\"properties[2].acquired\","
                        "\"tenancies[0]\",\"moves[0]\"]");
    free(s);
    json_t *u = json_object_get(d.used, "p6.need.1");
    cr_assert_eq(json_integer_value(json_object_get(u, "owned_anywhere")),
                 1);
    cr_assert_eq(d.outcome, ELIG_REFUSED);
    json_decref(d.used);
    json_decref(app);
    json_decref(facts);
}
