/* The rules of p.6: who may be registered (a citizen permanently
 * residing in the settlement, of one of the four categories, with the
 * income test and the age limit of their group) and who is in need of
 * housing (grounds 1–6). Pure, like the rest of the rules (rules.c). */
#include "rules_internal.h"

#include "iin.h"

/* Bounds that keep the income arithmetic inside 63 bits; intake allows
 * far less (1e11 tenge a month, 50 members). */
#define MAX_MONTHLY_TENGE 1000000000000LL
#define MAX_MEMBERS 1000
#define MAX_MINIMUM_TENGE 1000000000000LL
#define MAX_SERVICE_MONTHS 1200

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

/* True when application.documents lists a document with this code. */
static bool has_document(json_t *app, const char *code)
{
    json_t *docs = json_object_get(app, "documents");
    for (size_t i = 0; i < json_array_size(docs); i++)
        if (same(get_str(json_array_get(docs, i), "code"), code))
            return true;
    return false;
}

/* True when p is owned on date d: acquired ≤ d and not alienated by
 * then (alienated null or after d). */
static bool owned_on(const struct property *p, kdate_t d)
{
    return p->acquired_set && date_cmp(p->acquired, d) <= 0 &&
           (!p->alienated_set || date_cmp(p->alienated, d) > 0);
}

/* ---- p.6: citizen, permanently residing in the settlement ---------- */

/* p.6: the population register must know the applicant as a citizen
 * (citizen true) living in the application's settlement. A person the
 * register does not know (null or not an object) can be shown neither
 * a citizen nor a resident: refused on both. A registered_since after
 * the application date means not yet resident then. The length of
 * residence does not matter ("however long"). */
void elig_check_person(struct elig_ctx *c)
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

/* ---- p.6: what a state system records (issue 22) ------------------ */

/* The statuses of the social status registry (migrations/020) that show
 * a claim, for category wwii (p.6 item 1: index 0) and for each socially
 * vulnerable group 1)–12) of p.6 whose membership a state system
 * records: veterans (1, 2), disability of group 1 or 2 (3; also the
 * population register's disability_group), families raising disabled
 * children (4), old-age pensioners (6), orphans (7), kandas (8), large
 * families (10). Groups 5, 9, 11 and 12 are shown by the document the
 * applicant brings (p.11 item 8) alone: no entry. */
static const char *const recorded[13][3] = {
    [0] = {"wwii_participant", "wwii_disabled_veteran", NULL},
    [1] = {"wwii_participant", "wwii_disabled_veteran", NULL},
    [2] = {"wwii_equivalent", NULL, NULL},
    [3] = {"disability", NULL, NULL},
    [4] = {"disabled_child_family", NULL, NULL},
    [6] = {"pensioner", NULL, NULL},
    [7] = {"orphan", NULL, NULL},
    [8] = {"kandas", NULL, NULL},
    [10] = {"large_family", NULL, NULL},
};

/* True when facts.statuses holds one of the statuses that holds on the
 * application date (since ≤ date, until null or after it) — for group 3
 * only a disability of group 1 or 2 — or, for group 3, the population
 * register gives the applicant disability group 1 or 2. Adds what it
 * found to u ("registry_status"). */
static bool status_recorded(struct elig_ctx *c, int group, json_t *u)
{
    json_t *statuses = json_object_get(c->facts, "statuses");
    json_int_t dg;
    if (group == 3 && get_int(json_object_get(c->facts, "person"),
                              "disability_group", 1, 2, &dg)) {
        json_object_set_new(u, "registry_status",
                            json_pack("{s:s, s:I}", "source",
                                      "population_register",
                                      "disability_group", dg));
        return true;
    }
    for (size_t i = 0; i < json_array_size(statuses); i++) {
        json_t *r = json_array_get(statuses, i);
        const char *st = get_str(r, "status");
        bool match = false;
        for (int k = 0; k < 3 && recorded[group][k]; k++)
            match = match || same(st, recorded[group][k]);
        json_t *until_v = json_object_get(r, "until");
        kdate_t since, until;
        bool held = get_date(r, "since", &since) &&
                    date_cmp(since, c->date) <= 0 &&
                    (!until_v || json_is_null(until_v) ||
                     (get_date(r, "until", &until) &&
                      date_cmp(until, c->date) > 0));
        bool whose = !c->iin || !json_object_get(r, "iin") ||
                     same(get_str(r, "iin"), c->iin);
        if (!match || !held || !whose ||
            (group == 3 && !get_int(r, "group", 1, 2, &dg)))
            continue;
        json_object_set_new(u, "registry_status",
                            json_pack("{s:s, s:s, s:O?}", "source",
                                      "social_status", "status", st,
                                      "since", json_object_get(r, "since")));
        return true;
    }
    json_object_set_new(u, "registry_status", json_null());
    return false;
}

/* A claim of category wwii or of a recorded vulnerable group that the
 * registry does not show (no record, or one that ended or is of another
 * group) is not registered on the word of the applicant, nor refused on
 * the silence of a registry: unless other grounds refuse it, the
 * application goes to the work list with the reason
 * category_not_in_registry (p.6; p.7: an employee decides, rules.c). */
static void check_recorded(struct elig_ctx *c, int group, json_t *u)
{
    if ((group == 0 || recorded[group][0]) && !status_recorded(c, group, u))
        c->unverified = true;
}

/* ---- p.6: the four categories -------------------------------------- */

/* p.6 items 1–4; each returns true when the category's conditions hold
 * and adds what it looked at to u. */
typedef bool (*category_check)(struct elig_ctx *c, json_t *u);

/* p.6 item 1: WWII disabled veterans and participants, as the
 * veterans' records show (status_recorded). */
static bool category_wwii(struct elig_ctx *c, json_t *u)
{
    check_recorded(c, 0, u);
    return true;
}

/* p.6 item 2: one of the socially vulnerable groups 1)–12); where a
 * state system records the group, as it shows (status_recorded), and
 * the group's document (p.11 item 8) as intake requires. */
static bool category_vulnerable(struct elig_ctx *c, json_t *u)
{
    json_int_t group;
    bool ok = get_int(c->app, "vulnerable_group", 1, 12, &group);
    json_t *v = json_object_get(c->app, "vulnerable_group");
    json_object_set(u, "vulnerable_group", v ? v : json_null());
    if (ok)
        check_recorded(c, (int)group, u);
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
        if (!elig_property_at(c, i, &p) || !owned_on(&p, c->date))
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
void elig_check_category(struct elig_ctx *c)
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
        if (!c->review)
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
    kdate_t limit = elig_add_months(birth, 23 * 12 + (long)months);
    if (date_cmp(c->date, limit) >= 0)
        refuse(c, R_ORPHAN_AGE);
    use(c, R_ORPHAN_AGE,
        json_pack("{s:o, s:s, s:I, s:o}", "birth_date", elig_date_json(birth),
                  "birth_date_from", from, "service_months", months,
                  "no_longer_under_23_from", elig_date_json(limit)));
}

/* The group rules of p.6 item 2, for a vulnerable applicant whose group
 * is readable (an unreadable one is already p6.category). */
void elig_check_group(struct elig_ctx *c)
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

/* The dwellings the applicant and the family members the application
 * lists own on the application date (p.6 need 1, 2; p.11 item 4: the
 * certificate covers "the applicant and the family members living with
 * them"): *anywhere and *here (in the application's settlement) get the
 * counts, ids the ids of those anywhere, family the family members'
 * ones (owner and dwelling). */
static void count_owned(struct elig_ctx *c, int *anywhere, int *here,
                        json_t *ids, json_t *family)
{
    size_t n = json_array_size(json_object_get(c->facts, "properties"));
    size_t nf = json_array_size(json_object_get(c->facts,
                                                "family_properties"));
    *anywhere = *here = 0;
    for (size_t i = 0; i < n + nf; i++) {
        struct property p;
        bool own = i < n;
        if (!(own ? elig_property_at(c, i, &p)
                  : elig_family_property_at(c, i - n, &p)) ||
            !owned_on(&p, c->date))
            continue;
        ++*anywhere;
        *here += same(p.settlement, c->settlement);
        json_array_append_new(ids, p.dwelling_id
                                       ? json_string(p.dwelling_id)
                                       : json_null());
        if (!own)
            json_array_append_new(family, json_pack(
                "{s:s?, s:s?}", "owner_iin", p.owner, "dwelling_id",
                p.dwelling_id));
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
 * Dwellings and tenancies count when the applicant or a family member
 * the application lists holds them (p.11 items 4, 5: the certificates
 * cover the family living with the applicant). p.16 reads the
 * applicant's own acts only: it speaks of the citizen.
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
void elig_check_need(struct elig_ctx *c)
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
        json_t *ids = json_array(), *family = json_array();
        count_owned(c, &anywhere, &here, ids, family);
        bool nationwide = !same(fund, "state_institution");
        if (claimed[1]) {
            if (anywhere > 0)
                refuse(c, R_NEED_1);
            use(c, R_NEED_1, json_pack("{s:O, s:O, s:i}", "owned_dwellings",
                                       ids, "family_owned", family,
                                       "owned_anywhere", anywhere));
        }
        if (claimed[2]) {
            if (here > 0)
                refuse(c, R_NEED_2);
            else if (nationwide && anywhere > 0)
                refuse(c, R_NEED_1);
            use(c, R_NEED_2, json_pack("{s:s?, s:b, s:O, s:O, s:i, s:i}",
                                       "fund", fund,
                                       "nationwide_test", nationwide,
                                       "owned_dwellings", ids,
                                       "family_owned", family,
                                       "owned_anywhere", anywhere,
                                       "owned_in_settlement", here));
        }
        json_decref(ids);
        json_decref(family);
    }
    if (claimed[3]) {
        /* the applicant's and the listed family members' (p.11 item 5) */
        size_t n = json_array_size(json_object_get(c->facts, "tenancies"));
        size_t nf = json_array_size(json_object_get(c->facts,
                                                    "family_tenancies"));
        int in_use = 0, family = 0;
        for (size_t i = 0; i < n; i++) {
            bool ok;
            in_use += elig_tenancy_at(c, i, &ok);
        }
        for (size_t i = 0; i < nf; i++) {
            bool ok;
            family += elig_family_tenancy_at(c, i, &ok);
        }
        if (in_use + family > 0)
            refuse(c, R_NEED_3);
        use(c, R_NEED_3, json_pack("{s:i, s:i}", "tenancies_in_use", in_use,
                                   "family_tenancies_in_use", family));
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
