/* The decision of elig.h over the rules of p.6 (rules_p6.c: who may be
 * registered and who is in need of housing) and p.16 (rules_p16.c:
 * refusal for deliberately worsening one's housing), and what they
 * share: the dates and the registry records. Pure: no I/O, no clock, no
 * mutable globals; the only tables are const.
 *
 * Reading of the facts (issue 5: "malformed facts must never crash"):
 * - a registry record (person, property, tenancy, move) that is not an
 *   object, names another person, or has an unreadable date on which
 *   its meaning rests proves nothing: it is skipped and its place listed
 *   in used["ignored"] (e.g. "properties[2]"); a property whose
 *   "acquired" is unreadable still counts for p.16 but is never owned
 *   ("properties[2].acquired");
 * - a field of an otherwise usable record with the wrong type is absent;
 * - an absent value never establishes a requirement of p.6 (citizenship,
 *   residence, the birth date of group 7, the emergency condition) nor
 *   an exception of p.16 (leb buy-back, minor or disabled child, disabled
 *   parent). A refusal ground of p.16 and a contradiction of a need
 *   ground are raised only on a record that shows them.
 *
 * Dates: "N years after/before" is the same day and month N years away;
 * a day the target month lacks (29 February in a common year) becomes
 * the first of the next month (1 March). This gives the 23rd birthday of
 * p.6 group 7, the 18th birthday of p.16.5 and the start of the five-
 * year window of p.16 alike. */
#include "rules_internal.h"

#include <stdio.h>

const char *const elig_rule_code[R_COUNT] = {
    "p6.citizenship", "p6.residence", "p6.category", "p6.income",
    "p6.orphan_age",
    "p6.need.1", "p6.need.2", "p6.need.3", "p6.need.4", "p6.need.5",
    "p6.need.6",
    "p16.1", "p16.2", "p16.3", "p16.4", "p16.5",
};

/* ---- readers: untrusted JSON in, typed values or "absent" out ------ */

/* True when o[key] is absent, null or a date: *set tells which. False
 * for any other value (the record is then unreadable). */
static bool get_opt_date(json_t *o, const char *key, bool *set,
                         kdate_t *out)
{
    json_t *v = json_object_get(o, key);
    *set = false;
    if (!v || json_is_null(v))
        return true;
    *set = kdate_parse(json_string_value(v), out);
    return *set;
}

/* 1 or 0 when o[key] is a boolean, -1 when absent or not a boolean. */
static int get_bool(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* ---- dates --------------------------------------------------------- */

static int month_days(int year, int month)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return mdays[month - 1] + (month == 2 && leap);
}

kdate_t elig_add_months(kdate_t d, long months)
{
    long t = (long)d.year * 12 + (d.month - 1) + months;
    kdate_t r = {(int)(t / 12), (int)(t % 12) + 1, d.day};
    if (r.day > month_days(r.year, r.month)) {
        r.day = 1;
        if (++r.month > 12) {
            r.month = 1;
            r.year++;
        }
    }
    return r;
}

/* A new JSON string "YYYY-MM-DD" of a date of years 0–9999 (written
 * by hand: snprintf was a tenth of the time of a decision). */
json_t *elig_date_json(kdate_t d)
{
    char s[11];
    int v[3] = {d.year, d.month, d.day}, w[3] = {4, 2, 2}, at = 0;
    for (int k = 0; k < 3; k++) {
        for (int i = w[k] - 1; i >= 0; i--) {
            s[at + i] = (char)('0' + v[k] % 10);
            v[k] /= 10;
        }
        at += w[k];
        s[at++] = '-';
    }
    s[10] = '\0';
    return json_stringn_nocheck(s, 10);
}

/* ---- registry records ---------------------------------------------- */

bool elig_in_family(const struct elig_ctx *c, const char *iin)
{
    json_t *family = json_object_get(c->app, "family");
    for (size_t i = 0; iin && i < json_array_size(family); i++)
        if (same(get_str(json_array_get(family, i), "iin"), iin) &&
            !same(iin, c->iin))
            return true;
    return false;
}

/* The property record r into *p; whose: the applicant's (false) or a
 * family member's (true). */
static bool property_of(const struct elig_ctx *c, json_t *r, bool family,
                        struct property *p)
{
    memset(p, 0, sizeof(*p));
    if (!json_is_object(r))
        return false;
    const char *owner = get_str(r, "owner_iin");
    if (family ? !elig_in_family(c, owner)
               : json_object_get(r, "owner_iin") && c->iin &&
                     !same(owner, c->iin))
        return false;
    p->owner = owner;
    if (!get_opt_date(r, "alienated", &p->alienated_set, &p->alienated))
        return false;
    p->acquired_set = get_date(r, "acquired", &p->acquired);
    p->dwelling_id = get_str(r, "dwelling_id");
    p->settlement = get_str(r, "settlement_id");
    p->alienation = get_str(r, "alienation");
    p->fit = get_bool(r, "fit");
    p->emergency = get_bool(r, "emergency");
    p->damaged_set = get_date(r, "damaged_on", &p->damaged_on);
    return true;
}

bool elig_property_at(const struct elig_ctx *c, size_t i,
                      struct property *p)
{
    return property_of(c, json_array_get(json_object_get(c->facts,
                                                         "properties"), i),
                       false, p);
}

bool elig_family_property_at(const struct elig_ctx *c, size_t i,
                             struct property *p)
{
    return property_of(c, json_array_get(json_object_get(
                              c->facts, "family_properties"), i),
                       true, p);
}

/* Whether the tenancy record r is readable (*ok) — its person the
 * applicant (family false) or a listed family member (true) — and a
 * communal-fund dwelling in use in the application's settlement on the
 * date. */
static bool tenancy_of(const struct elig_ctx *c, json_t *r, bool family,
                       bool *ok)
{
    kdate_t since, until;
    bool until_set;
    const char *where = get_str(r, "settlement_id");
    const char *iin = get_str(r, "iin");
    *ok = json_is_object(r) && where && get_date(r, "since", &since) &&
          get_opt_date(r, "until", &until_set, &until) &&
          (family ? elig_in_family(c, iin)
                  : !(json_object_get(r, "iin") && c->iin &&
                      !same(iin, c->iin)));
    return *ok && same(where, c->settlement) &&
           date_cmp(since, c->date) <= 0 &&
           (!until_set || date_cmp(until, c->date) > 0);
}

bool elig_family_tenancy_at(const struct elig_ctx *c, size_t i, bool *ok)
{
    return tenancy_of(c, json_array_get(json_object_get(c->facts,
                                                        "family_tenancies"),
                                        i), true, ok);
}

bool elig_tenancy_at(const struct elig_ctx *c, size_t i, bool *ok)
{
    return tenancy_of(c, json_array_get(json_object_get(c->facts,
                                                        "tenancies"), i),
                      false, ok);
}

bool elig_move_at(const struct elig_ctx *c, size_t i, struct move *m)
{
    json_t *r = json_array_get(json_object_get(c->facts, "moves"), i);
    const char *dir = get_str(r, "direction");
    memset(m, 0, sizeof(*m));
    if (!json_is_object(r) || !get_date(r, "date", &m->date) ||
        !(same(dir, "in") || same(dir, "out")))
        return false;
    m->in = same(dir, "in");
    m->owner = get_str(r, "dwelling_owner_iin");
    m->person = get_str(r, "person_iin");
    m->relation = get_str(r, "relation");
    m->person_disabled = get_bool(r, "person_disabled");
    m->owner_in_need = get_bool(r, "owner_in_need_at_time");
    m->birth_set = get_date(r, "person_birth_date", &m->birth);
    return true;
}

/* Lists every unreadable record in used["ignored"] (only when there is
 * one), so that a replay shows what the rules could not use. */
static void note_ignored(struct elig_ctx *c)
{
    json_t *ign = json_array();
    char where[48];
    size_t n = json_array_size(json_object_get(c->facts, "properties"));
    for (size_t i = 0; i < n; i++) {
        struct property p;
        bool ok = elig_property_at(c, i, &p);
        if (!ok || !p.acquired_set) {
            snprintf(where, sizeof(where), "properties[%zu]%s", i,
                     ok ? ".acquired" : "");
            json_array_append_new(ign, json_string(where));
        }
    }
    n = json_array_size(json_object_get(c->facts, "tenancies"));
    for (size_t i = 0; i < n; i++) {
        bool ok;
        elig_tenancy_at(c, i, &ok);
        if (!ok) {
            snprintf(where, sizeof(where), "tenancies[%zu]", i);
            json_array_append_new(ign, json_string(where));
        }
    }
    n = json_array_size(json_object_get(c->facts, "moves"));
    for (size_t i = 0; i < n; i++) {
        struct move m;
        if (!elig_move_at(c, i, &m)) {
            snprintf(where, sizeof(where), "moves[%zu]", i);
            json_array_append_new(ign, json_string(where));
        }
    }
    if (json_array_size(ign) > 0)
        json_object_set_new(c->used, "ignored", ign);
    else
        json_decref(ign);
}

/* ---- the decision -------------------------------------------------- */

const char *elig_outcome_str(enum elig_outcome o)
{
    return o == ELIG_REGISTERED ? "registered"
           : o == ELIG_REFUSED  ? "refused"
           : o == ELIG_REVIEW   ? "review"
                                : "withdrawn";
}

/* Decides application against facts on date (see elig.h). Every rule
 * is evaluated; a refusal lists every reason, once, in paragraph order.
 * ELIG_REVIEW (a missing subsistence minimum, an unreadable date) wins
 * over a refusal, because a refusal must state all its grounds (p.15)
 * and the income one is not yet known; it carries no reasons, and
 * used shows what every rule found so far. */
void elig_decide(json_t *application, json_t *facts, const char *date,
                 struct elig_decision *out)
{
    memset(out, 0, sizeof(*out));
    out->used = json_object();
    struct elig_ctx c = {.app = application, .facts = facts,
                         .used = out->used};
    if (!kdate_parse(date, &c.date)) {
        out->outcome = ELIG_REVIEW;
        out->review_reason = "application_date_invalid";
        return;
    }
    c.from = elig_add_months(c.date, -60);
    c.iin = get_str(json_object_get(application, "applicant"), "iin");
    c.settlement = get_str(application, "settlement_id");

    note_ignored(&c);
    elig_check_person(&c);
    elig_check_category(&c);
    elig_check_group(&c);
    elig_check_need(&c);
    elig_check_p16(&c);

    if (!c.review && c.unverified && !c.refused)
        c.review = "category_not_in_registry";
    if (c.review) {
        out->outcome = ELIG_REVIEW;
        out->review_reason = c.review;
        return;
    }
    out->outcome = c.refused ? ELIG_REFUSED : ELIG_REGISTERED;
    for (int r = 0; r < R_COUNT && out->nreasons < ELIG_MAX_REASONS; r++)
        if (c.refused & (1u << r))
            out->reasons[out->nreasons++] = elig_rule_code[r];
}
