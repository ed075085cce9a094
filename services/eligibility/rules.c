/* The rules of p.6 (who may be registered and who is in need of housing)
 * and p.16 (refusal for deliberately worsening one's housing) over the
 * JSON documents described in elig.h. Pure: no I/O, no clock, no
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
#include "elig.h"

#include "calendar.h"
#include "iin.h"

#include <stdio.h>
#include <string.h>

/* The reason codes, in paragraph order: the order of a refusal. */
enum elig_rule {
    R_CITIZENSHIP,
    R_RESIDENCE,
    R_CATEGORY,
    R_INCOME,
    R_ORPHAN_AGE,
    R_NEED_1, R_NEED_2, R_NEED_3, R_NEED_4, R_NEED_5, R_NEED_6,
    R_P16_1, R_P16_2, R_P16_3, R_P16_4, R_P16_5,
    R_COUNT
};

static const char *const rule_code[R_COUNT] = {
    "p6.citizenship", "p6.residence", "p6.category", "p6.income",
    "p6.orphan_age",
    "p6.need.1", "p6.need.2", "p6.need.3", "p6.need.4", "p6.need.5",
    "p6.need.6",
    "p16.1", "p16.2", "p16.3", "p16.4", "p16.5",
};

/* Bounds that keep the income arithmetic inside 63 bits; intake allows
 * far less (1e11 tenge a month, 50 members). */
#define MAX_MONTHLY_TENGE 1000000000000LL
#define MAX_MEMBERS 1000
#define MAX_MINIMUM_TENGE 1000000000000LL
#define MAX_SERVICE_MONTHS 1200

struct elig_ctx {
    json_t *app, *facts;
    kdate_t date;            /* the application date */
    kdate_t from;            /* p.16: first day of the five years */
    const char *iin;         /* the applicant's, or NULL */
    const char *settlement;  /* the application's, or NULL */
    json_t *used;            /* borrowed from the decision */
    unsigned refused;        /* one bit per enum elig_rule */
    const char *review;      /* why ELIG_REVIEW, or NULL */
};

/* ---- readers: untrusted JSON in, typed values or "absent" out ------ */

/* o[key] when it is a string, else NULL (also for a non-object o). */
static const char *get_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* True when o[key] is a strict "YYYY-MM-DD" date, stored in *out. */
static bool get_date(json_t *o, const char *key, kdate_t *out)
{
    return kdate_parse(get_str(o, key), out);
}

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

/* True when o[key] is an integer in [lo, hi], stored in *out. */
static bool get_int(json_t *o, const char *key, json_int_t lo,
                    json_int_t hi, json_int_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return false;
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* 1 or 0 when o[key] is a boolean, -1 when absent or not a boolean. */
static int get_bool(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* True when a and b are both strings and equal. */
static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* True when application.documents lists a document with this code. */
static bool has_document(json_t *app, const char *code)
{
    json_t *docs = json_object_get(app, "documents");
    for (size_t i = 0; i < json_array_size(docs); i++)
        if (same(get_str(json_array_get(docs, i), "code"), code))
            return true;
    return false;
}

/* ---- dates --------------------------------------------------------- */

static int date_cmp(kdate_t a, kdate_t b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    return a.day < b.day ? -1 : a.day > b.day;
}

static int month_days(int year, int month)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return mdays[month - 1] + (month == 2 && leap);
}

/* d moved by months calendar months (negative: back), keeping the day;
 * a day the target month lacks becomes the 1st of the next month.
 * d must be a valid date of year ≥ 1800 and |months| ≤ 12000. */
static kdate_t add_months(kdate_t d, long months)
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
static json_t *date_json(kdate_t d)
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

/* p.16: "within the last five years": from the same calendar date five
 * years before the application date up to and including that date. */
static bool in_window(const struct elig_ctx *c, kdate_t e)
{
    return date_cmp(e, c->from) >= 0 && date_cmp(e, c->date) <= 0;
}

/* ---- registry records ---------------------------------------------- */

struct property {
    const char *dwelling_id;   /* or NULL */
    const char *settlement;    /* or NULL: not known to be here */
    bool acquired_set;         /* false: ownership cannot be shown */
    kdate_t acquired;
    bool alienated_set;
    kdate_t alienated;
    const char *alienation;    /* or NULL: kind unknown */
    int fit, emergency;        /* 1, 0, -1 unknown */
    bool damaged_set;          /* damaged_on, by the owner's fault */
    kdate_t damaged_on;
};

/* Reads facts.properties[i] into *p. False when the record proves
 * nothing: not an object, another owner's, or an "alienated" that is
 * neither null nor a date. An unreadable "acquired" leaves the record
 * usable for p.16 but never owned (owned_on); a malformed damaged_on is
 * absent. */
static bool property_at(const struct elig_ctx *c, size_t i,
                        struct property *p)
{
    json_t *r = json_array_get(json_object_get(c->facts, "properties"), i);
    memset(p, 0, sizeof(*p));
    if (!json_is_object(r))
        return false;
    const char *owner = get_str(r, "owner_iin");
    if (json_object_get(r, "owner_iin") && c->iin && !same(owner, c->iin))
        return false;
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

/* True when p is owned on date d: acquired ≤ d and not alienated by
 * then (alienated null or after d). */
static bool owned_on(const struct property *p, kdate_t d)
{
    return p->acquired_set && date_cmp(p->acquired, d) <= 0 &&
           (!p->alienated_set || date_cmp(p->alienated, d) > 0);
}

/* True when facts.tenancies[i] is readable and is a communal-fund
 * dwelling in permanent use in the application's settlement on the
 * date: since ≤ date and (until null or after the date). *ok is false
 * for an unreadable record (not an object, another person's, no
 * settlement or since, until neither null nor a date). */
static bool tenancy_at(const struct elig_ctx *c, size_t i, bool *ok)
{
    json_t *r = json_array_get(json_object_get(c->facts, "tenancies"), i);
    kdate_t since, until;
    bool until_set;
    const char *where = get_str(r, "settlement_id");
    *ok = json_is_object(r) && where && get_date(r, "since", &since) &&
          get_opt_date(r, "until", &until_set, &until) &&
          !(json_object_get(r, "iin") && c->iin &&
            !same(get_str(r, "iin"), c->iin));
    return *ok && same(where, c->settlement) &&
           date_cmp(since, c->date) <= 0 &&
           (!until_set || date_cmp(until, c->date) > 0);
}

struct move {
    const char *owner, *person;  /* IINs, or NULL */
    bool in;                     /* direction "in", else "out" */
    kdate_t date;
    const char *relation;        /* or NULL: unknown */
    int person_disabled;         /* 1, 0, -1 unknown */
    int owner_in_need;           /* 1, 0, -1 unknown */
    bool birth_set;
    kdate_t birth;
};

/* Reads facts.moves[i] into *m. False when not an object, with no
 * readable date or a direction other than "in" / "out". */
static bool move_at(const struct elig_ctx *c, size_t i, struct move *m)
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
        bool ok = property_at(c, i, &p);
        if (!ok || !p.acquired_set) {
            snprintf(where, sizeof(where), "properties[%zu]%s", i,
                     ok ? ".acquired" : "");
            json_array_append_new(ign, json_string(where));
        }
    }
    n = json_array_size(json_object_get(c->facts, "tenancies"));
    for (size_t i = 0; i < n; i++) {
        bool ok;
        tenancy_at(c, i, &ok);
        if (!ok) {
            snprintf(where, sizeof(where), "tenancies[%zu]", i);
            json_array_append_new(ign, json_string(where));
        }
    }
    n = json_array_size(json_object_get(c->facts, "moves"));
    for (size_t i = 0; i < n; i++) {
        struct move m;
        if (!move_at(c, i, &m)) {
            snprintf(where, sizeof(where), "moves[%zu]", i);
            json_array_append_new(ign, json_string(where));
        }
    }
    if (json_array_size(ign) > 0)
        json_object_set_new(c->used, "ignored", ign);
    else
        json_decref(ign);
}

/* ---- decision bookkeeping ------------------------------------------ */

static void refuse(struct elig_ctx *c, enum elig_rule r)
{
    c->refused |= 1u << r;
}

/* Records under used[code of r] what rule r used; takes what. */
static void use(struct elig_ctx *c, enum elig_rule r, json_t *what)
{
    json_object_set_new(c->used, rule_code[r], what ? what : json_null());
}

/* ---- p.6: citizen, permanently residing in the settlement ---------- */

/* p.6: the population register must know the applicant as a citizen
 * (citizen true) living in the application's settlement. A person the
 * register does not know (null or not an object) can be shown neither
 * a citizen nor a resident: refused on both. A registered_since after
 * the application date means not yet resident then. The length of
 * residence does not matter ("however long"). */
static void check_person(struct elig_ctx *c)
{
    json_t *person = json_object_get(c->facts, "person");
    if (!json_is_object(person)) {
        refuse(c, R_CITIZENSHIP);
        refuse(c, R_RESIDENCE);
        use(c, R_CITIZENSHIP, json_pack("{s:b}", "person_known", 0));
        use(c, R_RESIDENCE, json_pack("{s:b}", "person_known", 0));
        return;
    }
    json_t *citizen = json_object_get(person, "citizen");
    if (!json_is_true(citizen))
        refuse(c, R_CITIZENSHIP);
    use(c, R_CITIZENSHIP, json_pack("{s:b, s:O?}", "person_known", 1,
                                    "citizen", citizen));

    const char *lives = get_str(person, "settlement_id");
    kdate_t since;
    bool later = get_date(person, "registered_since", &since) &&
                 date_cmp(since, c->date) > 0;
    if (!same(lives, c->settlement) || later)
        refuse(c, R_RESIDENCE);
    use(c, R_RESIDENCE,
        json_pack("{s:b, s:s?, s:s?, s:s?}", "person_known", 1,
                  "person_settlement_id", lives,
                  "application_settlement_id", c->settlement,
                  "registered_since", get_str(person, "registered_since")));
}

/* ---- p.6: the four categories -------------------------------------- */

/* p.6 items 1–4; each returns true when the category's conditions hold
 * and adds what it looked at to u. */
typedef bool (*category_check)(struct elig_ctx *c, json_t *u);

/* p.6 item 1: WWII disabled veterans and participants. Membership is
 * proven by the documents intake requires; nothing to check here. */
static bool category_wwii(struct elig_ctx *c, json_t *u)
{
    (void)c;
    (void)u;
    return true;
}

/* p.6 item 2: one of the socially vulnerable groups 1)–12). */
static bool category_vulnerable(struct elig_ctx *c, json_t *u)
{
    json_int_t group;
    bool ok = get_int(c->app, "vulnerable_group", 1, 12, &group);
    json_t *v = json_object_get(c->app, "vulnerable_group");
    json_object_set(u, "vulnerable_group", v ? v : json_null());
    return ok;
}

/* p.6 item 3 and p.11 item 10: one of the listed kinds, with the
 * workplace certificate (for cosmonaut candidates and cosmonauts the
 * status document, which p.11 item 10 files under the same code). */
static bool category_public_sector(struct elig_ctx *c, json_t *u)
{
    static const char *const kinds[] = {"civil_servant", "budget_employee",
                                        "military", "cosmonaut",
                                        "elected", NULL};
    const char *kind = get_str(c->app, "public_sector_kind");
    bool known = false;
    for (int i = 0; kinds[i]; i++)
        known = known || same(kind, kinds[i]);
    bool cert = has_document(c->app, "workplace_certificate");
    json_object_set_new(u, "public_sector_kind",
                        kind ? json_string(kind) : json_null());
    json_object_set_new(u, "workplace_certificate", json_boolean(cert));
    return known && cert;
}

/* p.6 item 4: the applicant's only dwelling (exactly one owned on the
 * application date) is declared to be in emergency condition. An
 * unknown "emergency" is not an emergency. */
static bool category_emergency(struct elig_ctx *c, json_t *u)
{
    size_t n = json_array_size(json_object_get(c->facts, "properties"));
    json_t *owned = json_array();
    bool emergency = false;
    for (size_t i = 0; i < n; i++) {
        struct property p;
        if (!property_at(c, i, &p) || !owned_on(&p, c->date))
            continue;
        emergency = p.emergency == 1;
        json_array_append_new(owned, json_pack("{s:s?, s:b}",
                                               "dwelling_id", p.dwelling_id,
                                               "emergency", p.emergency == 1));
    }
    bool ok = json_array_size(owned) == 1 && emergency;
    json_object_set_new(u, "owned_dwellings", owned);
    return ok;
}

static const struct {
    const char *name;
    category_check check;
} categories[] = {
    {"wwii", category_wwii},
    {"vulnerable", category_vulnerable},
    {"public_sector", category_public_sector},
    {"emergency_dwelling", category_emergency},
};

/* p.6: the application's category must be one of the four and meet its
 * conditions; otherwise p6.category. */
static void check_category(struct elig_ctx *c)
{
    const char *cat = get_str(c->app, "category");
    json_t *u = json_pack("{s:s?}", "category", cat);
    bool ok = false;
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
        if (same(cat, categories[i].name))
            ok = categories[i].check(c, u);
    if (!ok)
        refuse(c, R_CATEGORY);
    use(c, R_CATEGORY, u);
}

/* ---- p.6 item 2: the income test ----------------------------------- */

/* p.6 item 2: for vulnerable groups 2)–12) except 4) (families with
 * disabled children) and 7) (orphans, children without parental care),
 * the aggregate average monthly income per family member over the 12
 * months before applying must be below 3.1 × the subsistence minimum of
 * the application's year. Group 1) (WWII veterans) is p.6 item 1 and
 * outside the test, like category wwii.
 *
 * Exactly, in integers: sum/12/members < 31/10 × minimum
 *   ⇔ sum × 10 < 31 × minimum × 12 × members.
 * Income that cannot be read (not 12 integers, members not ≥ 1) cannot
 * be shown below the line: p6.income. A subsistence minimum that is
 * null, absent or not a positive integer is missing: ELIG_REVIEW. */
static void check_income(struct elig_ctx *c, json_int_t group)
{
    if (group == 1 || group == 4 || group == 7) {
        use(c, R_INCOME, json_pack("{s:b, s:I}", "applies", 0,
                                   "vulnerable_group", group));
        return;
    }
    json_t *income = json_object_get(c->app, "income");
    json_t *totals = json_object_get(income, "monthly_family_totals_tenge");
    json_int_t members = 0, minimum = 0, sum = 0;
    bool readable = json_array_size(totals) == 12 &&
                    get_int(income, "members", 1, MAX_MEMBERS, &members);
    for (size_t i = 0; readable && i < 12; i++) {
        json_t *v = json_array_get(totals, i);
        json_int_t t = json_integer_value(v);
        readable = json_is_integer(v) && t >= 0 && t <= MAX_MONTHLY_TENGE;
        sum += readable ? t : 0;
    }
    if (!readable) {
        refuse(c, R_INCOME);
        use(c, R_INCOME, json_pack("{s:b, s:b}", "applies", 1,
                                   "income_readable", 0));
        return;
    }
    if (!get_int(c->facts, "subsistence_minimum", 1, MAX_MINIMUM_TENGE,
                 &minimum)) {
        c->review = "subsistence_minimum_missing";
        use(c, R_INCOME, json_pack("{s:b, s:I, s:I, s:O?}", "applies", 1,
                                   "sum", sum, "members", members,
                                   "minimum", json_object_get(
                                       c->facts, "subsistence_minimum")));
        return;
    }
    json_int_t sum_x10 = sum * 10;
    json_int_t threshold_x10 = 31 * minimum * 12 * members;
    if (!(sum_x10 < threshold_x10))
        refuse(c, R_INCOME);
    use(c, R_INCOME, json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}",
                               "applies", 1, "sum", sum,
                               "members", members, "minimum", minimum,
                               "sum_x10", sum_x10,
                               "threshold_x10", threshold_x10));
}

/* ---- p.6 group 7: orphans under 23 --------------------------------- */

/* p.6 group 7): under 23 on the application date, the limit extended by
 * the months of conscript service. The birth date is the register's;
 * when the person is unknown or the register's date unreadable, the one
 * the IIN encodes. Under 23 means date < the 23rd birthday (+ service
 * months): on that day itself the applicant is no longer under 23.
 * Service months that are absent or not an integer 0–1200 count as 0.
 * No readable birth date: the age cannot be shown, p6.orphan_age.
 * "Lost their parents before coming of age" is proven by the group
 * document (p.11 item 8) and not checked here. */
static void check_orphan_age(struct elig_ctx *c)
{
    json_t *person = json_object_get(c->facts, "person");
    const char *from = "register";
    kdate_t birth;
    char buf[11];
    if (!get_date(person, "birth_date", &birth)) {
        from = "iin";
        if (!iin_valid(c->iin, buf) || !kdate_parse(buf, &birth))
            from = NULL;
    }
    json_int_t months = 0;
    if (!get_int(c->app, "conscript_service_months", 0,
                 MAX_SERVICE_MONTHS, &months))
        months = 0;
    if (!from) {
        refuse(c, R_ORPHAN_AGE);
        use(c, R_ORPHAN_AGE, json_pack("{s:n}", "birth_date"));
        return;
    }
    kdate_t limit = add_months(birth, 23 * 12 + (long)months);
    if (date_cmp(c->date, limit) >= 0)
        refuse(c, R_ORPHAN_AGE);
    use(c, R_ORPHAN_AGE,
        json_pack("{s:o, s:s, s:I, s:o}", "birth_date", date_json(birth),
                  "birth_date_from", from, "service_months", months,
                  "no_longer_under_23_from", date_json(limit)));
}

/* The group rules of p.6 item 2, for a vulnerable applicant whose group
 * is readable (an unreadable one is already p6.category). */
static void check_group(struct elig_ctx *c)
{
    json_int_t group;
    if (!same(get_str(c->app, "category"), "vulnerable") ||
        !get_int(c->app, "vulnerable_group", 1, 12, &group))
        return;
    check_income(c, group);
    if (group == 7)
        check_orphan_age(c);
}

/* ---- p.6: in need of housing (grounds 1–6) ------------------------- */

/* The dwellings the applicant owns on the application date: *anywhere
 * and *here (in the application's settlement) get the counts, ids the
 * ids of those anywhere. */
static void count_owned(struct elig_ctx *c, int *anywhere, int *here,
                        json_t *ids)
{
    size_t n = json_array_size(json_object_get(c->facts, "properties"));
    *anywhere = *here = 0;
    for (size_t i = 0; i < n; i++) {
        struct property p;
        if (!property_at(c, i, &p) || !owned_on(&p, c->date))
            continue;
        ++*anywhere;
        *here += same(p.settlement, c->settlement);
        json_array_append_new(ids, p.dwelling_id
                                       ? json_string(p.dwelling_id)
                                       : json_null());
    }
}

/* p.6, second list: the need grounds the application claims.
 *
 * Issue 5: "At least one claimed ground must hold; a claimed ground that
 * the registries contradict is a reason (p6.need.N)." Read literally: a
 * contradicted claimed ground is always listed and refuses, even when
 * another claimed ground holds. Every claimed ground either holds or
 * yields its reason, so "at least one holds" follows.
 *
 * Grounds 1 and 2 depend on the fund (p.6 need 1, 2):
 * - 1: no dwelling owned anywhere in Kazakhstan on the date, else
 *   p6.need.1 (whatever the fund: owning nothing anywhere implies owning
 *   nothing here, so it also serves the state_institution fund);
 * - 2: no dwelling owned in the settlement, else p6.need.2. That suffices
 *   only for the state_institution fund; for communal, state_enterprise,
 *   leb_rented (and an unknown fund) p.6 need 1 sets the test at
 *   registration, so a dwelling owned elsewhere in Kazakhstan yields
 *   p6.need.1 ("owns a dwelling in the Republic of Kazakhstan").
 * - 3: no communal-fund tenancy in use in the settlement on the date,
 *   else p6.need.3;
 * - 4–6: hold on the competent body's certificate (p.11 item 12), else
 *   p6.need.N.
 * Entries that are not integers 1–6 are ignored (intake rejects them);
 * an application claiming no ground at all is not shown in need and is
 * outside p.6: p6.category. */
static void check_need(struct elig_ctx *c)
{
    json_t *grounds = json_object_get(c->app, "need_grounds");
    bool claimed[7] = {false};
    int nclaimed = 0;
    for (size_t i = 0; i < json_array_size(grounds); i++) {
        json_t *g = json_array_get(grounds, i);
        json_int_t n = json_integer_value(g);
        if (json_is_integer(g) && n >= 1 && n <= 6 && !claimed[n]) {
            claimed[n] = true;
            nclaimed++;
        }
    }
    if (nclaimed == 0) {
        refuse(c, R_CATEGORY);
        json_object_set_new(json_object_get(c->used, "p6.category"),
                            "need_grounds_claimed", json_integer(0));
        return;
    }
    const char *fund = get_str(c->app, "fund");
    if (claimed[1] || claimed[2]) {
        int anywhere, here;
        json_t *ids = json_array();
        count_owned(c, &anywhere, &here, ids);
        bool nationwide = !same(fund, "state_institution");
        if (claimed[1]) {
            if (anywhere > 0)
                refuse(c, R_NEED_1);
            use(c, R_NEED_1, json_pack("{s:O, s:i}", "owned_dwellings",
                                       ids, "owned_anywhere", anywhere));
        }
        if (claimed[2]) {
            if (here > 0)
                refuse(c, R_NEED_2);
            else if (nationwide && anywhere > 0)
                refuse(c, R_NEED_1);
            use(c, R_NEED_2, json_pack("{s:s?, s:b, s:O, s:i, s:i}",
                                       "fund", fund,
                                       "nationwide_test", nationwide,
                                       "owned_dwellings", ids,
                                       "owned_anywhere", anywhere,
                                       "owned_in_settlement", here));
        }
        json_decref(ids);
    }
    if (claimed[3]) {
        size_t n = json_array_size(json_object_get(c->facts, "tenancies"));
        int in_use = 0;
        for (size_t i = 0; i < n; i++) {
            bool ok;
            in_use += tenancy_at(c, i, &ok);
        }
        if (in_use > 0)
            refuse(c, R_NEED_3);
        use(c, R_NEED_3, json_pack("{s:i}", "tenancies_in_use", in_use));
    }
    bool cert = has_document(c->app, "competent_body_certificate");
    for (int g = 4; g <= 6; g++) {
        if (!claimed[g])
            continue;
        if (!cert)
            refuse(c, (enum elig_rule)(R_NEED_1 + g - 1));
        use(c, (enum elig_rule)(R_NEED_1 + g - 1),
            json_pack("{s:b}", "competent_body_certificate", cert));
    }
}

/* ---- p.16: deliberate worsening within the last five years --------- */

/* p.16.5: whom one may move in: the spouse, minor (under 18 on the move
 * date; on the 18th birthday no longer) or disabled children, and
 * disabled parents. An applicant moving into their own dwelling moves
 * in nobody else. An unknown relation is "other". */
static bool move_in_allowed(const struct elig_ctx *c, const struct move *m)
{
    if (same(m->person, c->iin) || same(m->relation, "spouse"))
        return true;
    if (same(m->relation, "child"))
        return m->person_disabled == 1 ||
               (m->birth_set &&
                date_cmp(m->date, add_months(m->birth, 18 * 12)) < 0);
    if (same(m->relation, "parent"))
        return m->person_disabled == 1;
    return false;
}

/* p.16.1–16.3 over the applicant's properties, each event on a date in
 * the window:
 * - 16.1 alienated by "exchange";
 * - 16.2 a fit dwelling (fit true) alienated anywhere in Kazakhstan by
 *   anything but exchange (16.1) and the local executive body's buy-back
 *   of a preferential-credit dwelling ("leb_buyback"); an alienation of
 *   unknown kind is not shown to be the buy-back, so it counts;
 * - 16.3 damaged_on: destroyed or damaged by the owner's fault. */
static void check_properties_p16(struct elig_ctx *c, json_t *ev[3])
{
    size_t n = json_array_size(json_object_get(c->facts, "properties"));
    for (size_t i = 0; i < n; i++) {
        struct property p;
        if (!property_at(c, i, &p))
            continue;
        if (p.alienated_set && in_window(c, p.alienated)) {
            bool exchange = same(p.alienation, "exchange");
            bool buyback = same(p.alienation, "leb_buyback");
            json_t *e = json_pack("{s:s?, s:o, s:s?, s:b}", "dwelling_id",
                                  p.dwelling_id, "alienated",
                                  date_json(p.alienated), "alienation",
                                  p.alienation, "fit", p.fit == 1);
            if (exchange)
                json_array_append(ev[0], e);
            else if (!buyback && p.fit == 1)
                json_array_append(ev[1], e);
            json_decref(e);
        }
        if (p.damaged_set && in_window(c, p.damaged_on))
            json_array_append_new(ev[2],
                json_pack("{s:s?, s:o}", "dwelling_id", p.dwelling_id,
                          "damaged_on", date_json(p.damaged_on)));
    }
}

/* p.16.4 and 16.5 over the moves, each on a date in the window:
 * - 16.4 the applicant moved out (person_iin = applicant, "out") while
 *   not in need (owner_in_need_at_time false; unknown does not count);
 * - 16.5 the applicant, as owner, moved in ("in") someone p.16.5 does
 *   not allow (move_in_allowed). */
static void check_moves_p16(struct elig_ctx *c, json_t *ev[2])
{
    size_t n = json_array_size(json_object_get(c->facts, "moves"));
    for (size_t i = 0; i < n; i++) {
        struct move m;
        if (!move_at(c, i, &m) || !in_window(c, m.date))
            continue;
        if (!m.in && same(m.person, c->iin) && m.owner_in_need == 0)
            json_array_append_new(ev[0],
                json_pack("{s:o, s:s?}", "date", date_json(m.date),
                          "dwelling_owner_iin", m.owner));
        if (m.in && same(m.owner, c->iin) && !move_in_allowed(c, &m))
            json_array_append_new(ev[1],
                json_pack("{s:o, s:s?, s:s?, s:i}", "date",
                          date_json(m.date), "person_iin", m.person,
                          "relation", m.relation,
                          "person_disabled", m.person_disabled));
    }
}

/* p.16: refused for each of 16.1–16.5 that has an event in the window
 * [the same date five years before, the application date]: an event
 * exactly five years back is within, one day earlier is not, and an
 * event after the application date is not "in the last five years". */
static void check_p16(struct elig_ctx *c)
{
    json_t *ev[5], *from = date_json(c->from), *to = date_json(c->date);
    for (int k = 0; k < 5; k++)
        ev[k] = json_array();
    check_properties_p16(c, ev);
    check_moves_p16(c, ev + 3);
    for (int k = 0; k < 5; k++) {
        enum elig_rule r = (enum elig_rule)(R_P16_1 + k);
        if (json_array_size(ev[k]) > 0)
            refuse(c, r);
        use(c, r, json_pack("{s:O, s:O, s:o}", "from", from, "to", to,
                            "events", ev[k]));
    }
    json_decref(from);
    json_decref(to);
}

/* ---- the decision -------------------------------------------------- */

const char *elig_outcome_str(enum elig_outcome o)
{
    return o == ELIG_REGISTERED ? "registered"
           : o == ELIG_REFUSED  ? "refused"
                                : "review";
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
    c.from = add_months(c.date, -60);
    c.iin = get_str(json_object_get(application, "applicant"), "iin");
    c.settlement = get_str(application, "settlement_id");

    note_ignored(&c);
    check_person(&c);
    check_category(&c);
    check_group(&c);
    check_need(&c);
    check_p16(&c);

    if (c.review) {
        out->outcome = ELIG_REVIEW;
        out->review_reason = c.review;
        return;
    }
    out->outcome = c.refused ? ELIG_REFUSED : ELIG_REGISTERED;
    for (int r = 0; r < R_COUNT && out->nreasons < ELIG_MAX_REASONS; r++)
        if (c.refused & (1u << r))
            out->reasons[out->nreasons++] = rule_code[r];
}
