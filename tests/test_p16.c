/* p.16: refusal when, within the last five years, the applicant
 * deliberately worsened their housing: 16.1 exchange, 16.2 alienation
 * of a fit dwelling (except the leb buy-back), 16.3 destruction or
 * damage by their fault, 16.4 moving out while not in need, 16.5 moving
 * in others than spouse, minor or disabled children, disabled parents.
 * The window runs from the same date five years back (inclusive) to the
 * application date; 29 February five years back is 1 March. The
 * applications here claim need ground 4 with the competent body's
 * certificate so that the dwellings do not touch p.6 need ground 1.
 * Table-driven: each case names the sub-item it checks. */
#include "elig.h"
#include "reasons.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "rules_case.h"

#define APP4                                                              \
    "{'need_grounds': [4], 'documents': [{'code': 'application_form'},"  \
    " {'code': 'competent_body_certificate'}]}"
#define PROP(where, alienated, how, fit, damaged)                         \
    "{'owner_iin': '791028300018', 'dwelling_id': 'd1',"                \
    " 'settlement_id': '" where "', 'acquired': '2005-01-01',"          \
    " 'alienated': " alienated ", 'alienation': " how ", 'fit': " fit   \
    ", 'emergency': false, 'damaged_on': " damaged "}"
#define SOLD(date, how, fit) PROP("s-01-02", "'" date "'", how, fit, "null")
#define DAMAGED(date) PROP("s-01-02", "null", "null", "false", date)
#define PROPS(list) "{'properties': [" list "]}"
/* A = the applicant 791028300018; P = another person 850303300013 */
#define MOVE(owner, person, dir, date, relation, disabled, birth, need)   \
    "{'kind': 'move', 'dwelling_owner_iin': '" owner "',"               \
    " 'person_iin': '" person "', 'direction': '" dir "',"              \
    " 'date': '" date "', 'relation': '" relation "',"                  \
    " 'person_disabled': " disabled ", 'person_birth_date': " birth ","  \
    " 'owner_in_need_at_time': " need "}"
#define A "791028300018"
#define P "850303300013"
#define MOVED_IN(date, relation, disabled, birth)                         \
    "{'moves': [" MOVE(A, P, "in", date, relation, disabled, birth,      \
                       "true") "]}"
#define MOVED_OUT(date, need)                                             \
    "{'moves': [" MOVE(P, A, "out", date, "other", "false", "null",      \
                       need) "]}"

static struct elig_case exchange_cases[] = {
    {"p16.1: exchanged two years ago", APP4,
     PROPS(SOLD("2024-06-01", "'exchange'", "true")), NULL, REF, "p16.1"},
    {"p16.1: exchange of an unfit dwelling is still 16.1 only", APP4,
     PROPS(SOLD("2024-06-01", "'exchange'", "false")), NULL, REF,
     "p16.1"},
    {"p16.1: exactly five years back is within", APP4,
     PROPS(SOLD("2021-11-25", "'exchange'", "true")), NULL, REF, "p16.1"},
    {"p16.1: five years and one day back is not", APP4,
     PROPS(SOLD("2021-11-24", "'exchange'", "true")), NULL, REG, ""},
    {"p16.1: on the application date is within", APP4,
     PROPS(SOLD("2026-11-25", "'exchange'", "true")), NULL, REF, "p16.1"},
    {"p16.1: after the application date is not in the last five years",
     APP4, PROPS(SOLD("2026-11-26", "'exchange'", "true")), NULL, REG,
     ""},
};

static struct elig_case alienation_cases[] = {
    {"p16.2: sold a fit dwelling", APP4,
     PROPS(SOLD("2023-03-01", "'sale'", "true")), NULL, REF, "p16.2"},
    {"p16.2: gave away a fit dwelling", APP4,
     PROPS(SOLD("2023-03-01", "'gift'", "true")), NULL, REF, "p16.2"},
    {"p16.2: sold a fit dwelling in another settlement (anywhere)", APP4,
     "{'properties': [" PROP("s-09-01", "'2023-03-01'", "'sale'", "true",
                             "null") "]}", NULL, REF, "p16.2"},
    {"p16.2: sold an unfit dwelling", APP4,
     PROPS(SOLD("2023-03-01", "'sale'", "false")), NULL, REG, ""},
    {"p16.2: fitness unknown is not shown fit", APP4,
     PROPS(SOLD("2023-03-01", "'sale'", "'$absent'")), NULL, REG, ""},
    {"p16.2: leb buy-back of a preferential-credit dwelling excepted",
     APP4, PROPS(SOLD("2023-03-01", "'leb_buyback'", "true")), NULL, REG,
     ""},
    {"p16.2: alienation of unknown kind is not shown the buy-back", APP4,
     PROPS(SOLD("2023-03-01", "null", "true")), NULL, REF, "p16.2"},
    {"p16.2: exactly five years back is within", APP4,
     PROPS(SOLD("2021-11-25", "'sale'", "true")), NULL, REF, "p16.2"},
    {"p16.2: five years and one day back is not", APP4,
     PROPS(SOLD("2021-11-24", "'gift'", "true")), NULL, REG, ""},
    {"p16.2: applied 29 Feb 2028, sold 1 Mar 2023: within", APP4,
     PROPS(SOLD("2023-03-01", "'sale'", "true")), "2028-02-29", REF,
     "p16.2"},
    {"p16.2: applied 29 Feb 2028, sold 28 Feb 2023: not within", APP4,
     PROPS(SOLD("2023-02-28", "'sale'", "true")), "2028-02-29", REG, ""},
    {"p16.2: applied 28 Feb 2027, sold 28 Feb 2022: within", APP4,
     PROPS(SOLD("2022-02-28", "'sale'", "true")), "2027-02-28", REF,
     "p16.2"},
    {"p16.2: unreadable alienation date: record ignored", APP4,
     PROPS(PROP("s-01-02", "'2023-3-1'", "'sale'", "true", "null")), NULL,
     REG, ""},
};

static struct elig_case damage_cases[] = {
    {"p16.3: damaged by own fault a year ago", APP4,
     PROPS(DAMAGED("'2025-10-10'")), NULL, REF, "p16.3"},
    {"p16.3: exactly five years back is within", APP4,
     PROPS(DAMAGED("'2021-11-25'")), NULL, REF, "p16.3"},
    {"p16.3: five years and one day back is not", APP4,
     PROPS(DAMAGED("'2021-11-24'")), NULL, REG, ""},
    {"p16.3: damaged_on unreadable is absent", APP4,
     PROPS(DAMAGED("true")), NULL, REG, ""},
    {"p16.3: damaged then sold unfit: 16.3 only", APP4,
     PROPS(PROP("s-01-02", "'2024-01-01'", "'sale'", "false",
                "'2023-01-01'")), NULL, REF, "p16.3"},
};

static struct elig_case move_out_cases[] = {
    {"p16.4: moved out while not in need", APP4,
     MOVED_OUT("2024-05-05", "false"), NULL, REF, "p16.4"},
    {"p16.4: moved out while in need", APP4,
     MOVED_OUT("2024-05-05", "true"), NULL, REG, ""},
    {"p16.4: need at the time unknown does not count", APP4,
     MOVED_OUT("2024-05-05", "null"), NULL, REG, ""},
    {"p16.4: exactly five years back is within", APP4,
     MOVED_OUT("2021-11-25", "false"), NULL, REF, "p16.4"},
    {"p16.4: five years and one day back is not", APP4,
     MOVED_OUT("2021-11-24", "false"), NULL, REG, ""},
    {"p16.4: someone else moved out of the applicant's dwelling", APP4,
     "{'moves': [" MOVE(A, P, "out", "2024-05-05", "other", "false",
                        "null", "false") "]}", NULL, REG, ""},
    {"p16.4: the applicant moving in is not moving out", APP4,
     "{'moves': [" MOVE(P, A, "in", "2024-05-05", "other", "false",
                        "null", "false") "]}", NULL, REG, ""},
};

static struct elig_case move_in_cases[] = {
    {"p16.5: moved in another person", APP4,
     MOVED_IN("2024-05-05", "other", "false", "'1990-01-01'"), NULL, REF,
     "p16.5"},
    {"p16.5: moved in the spouse", APP4,
     MOVED_IN("2024-05-05", "spouse", "false", "'1985-03-03'"), NULL, REG,
     ""},
    {"p16.5: moved in a minor child", APP4,
     MOVED_IN("2024-05-05", "child", "false", "'2010-01-01'"), NULL, REG,
     ""},
    {"p16.5: child turning 18 on the move date is not a minor", APP4,
     MOVED_IN("2024-05-05", "child", "false", "'2006-05-05'"), NULL, REF,
     "p16.5"},
    {"p16.5: child turning 18 the day after the move is a minor", APP4,
     MOVED_IN("2024-05-05", "child", "false", "'2006-05-06'"), NULL, REG,
     ""},
    {"p16.5: child born 29 Feb, moved in 28 Feb of the 18th year", APP4,
     MOVED_IN("2022-02-28", "child", "false", "'2004-02-29'"), NULL, REG,
     ""},
    {"p16.5: child born 29 Feb, moved in 1 Mar of the 18th year", APP4,
     MOVED_IN("2022-03-01", "child", "false", "'2004-02-29'"), NULL, REF,
     "p16.5"},
    {"p16.5: adult disabled child", APP4,
     MOVED_IN("2024-05-05", "child", "true", "'1995-01-01'"), NULL, REG,
     ""},
    {"p16.5: adult child not disabled", APP4,
     MOVED_IN("2024-05-05", "child", "false", "'1995-01-01'"), NULL, REF,
     "p16.5"},
    {"p16.5: child without birth date, not disabled: not shown minor",
     APP4, MOVED_IN("2024-05-05", "child", "false", "null"), NULL, REF,
     "p16.5"},
    {"p16.5: disabled parent", APP4,
     MOVED_IN("2024-05-05", "parent", "true", "'1950-01-01'"), NULL, REG,
     ""},
    {"p16.5: parent not disabled", APP4,
     MOVED_IN("2024-05-05", "parent", "false", "'1950-01-01'"), NULL, REF,
     "p16.5"},
    {"p16.5: parent, disability unknown: not shown disabled", APP4,
     MOVED_IN("2024-05-05", "parent", "'yes'", "'1950-01-01'"), NULL, REF,
     "p16.5"},
    {"p16.5: exactly five years back is within", APP4,
     MOVED_IN("2021-11-25", "other", "false", "null"), NULL, REF,
     "p16.5"},
    {"p16.5: five years and one day back is not", APP4,
     MOVED_IN("2021-11-24", "other", "false", "null"), NULL, REG, ""},
    {"p16.5: moved into someone else's dwelling is not moving in", APP4,
     "{'moves': [" MOVE(P, A, "in", "2024-05-05", "other", "false",
                        "null", "true") "]}", NULL, REG, ""},
    {"p16.5: the applicant moving into their own dwelling", APP4,
     "{'moves': [" MOVE(A, A, "in", "2024-05-05", "other", "false",
                        "null", "true") "]}", NULL, REG, ""},
    {"p16.5: unknown direction: record ignored", APP4,
     "{'moves': [" MOVE(A, P, "sideways", "2024-05-05", "other", "false",
                        "null", "true") "]}", NULL, REG, ""},
};

static struct elig_case all_cases[] = {
    {"p16.1-16.5 together, with p.6 reasons first, each once",
     "{'need_grounds': [1, 4]}",
     "{'person': {'citizen': false}, 'properties': ["
     SOLD("2024-01-01", "'exchange'", "true") ", "
     SOLD("2024-02-01", "'sale'", "true") ", "
     SOLD("2024-03-01", "'gift'", "true") ", "
     DAMAGED("'2024-04-01'") "], 'moves': ["
     MOVE(P, A, "out", "2024-05-05", "other", "false", "null", "false")
     ", " MOVE(A, P, "in", "2024-06-06", "other", "false", "null", "true")
     ", " MOVE(A, P, "in", "2024-07-07", "other", "false", "null", "true")
     "]}", NULL, REF,
     "p6.citizenship p6.need.1 p6.need.4 p16.1 p16.2 p16.3 p16.4 p16.5"},
};

CASE_TESTS(p16, exchange, exchange_cases)
CASE_TESTS(p16, alienation, alienation_cases)
CASE_TESTS(p16, damage, damage_cases)
CASE_TESTS(p16, move_out, move_out_cases)
CASE_TESTS(p16, move_in, move_in_cases)
CASE_TESTS(p16, all, all_cases)

/* p.16: used shows the window and the events found. */
Test(p16, used_shows_window_and_events)
{
    json_t *app = doc(BASE_APP, APP4);
    json_t *facts = doc(BASE_FACTS,
                        PROPS(SOLD("2021-11-25", "'sale'", "true")));
    struct elig_decision d;
    elig_decide(app, facts, DATE, &d);
    json_t *u = json_object_get(d.used, "p16.2");
    cr_assert_str_eq(json_string_value(json_object_get(u, "from")),
                     "2021-11-25");
    cr_assert_str_eq(json_string_value(json_object_get(u, "to")), DATE);
    cr_assert_eq(json_array_size(json_object_get(u, "events")), 1);
    json_decref(d.used);
    json_decref(app);
    json_decref(facts);
}
