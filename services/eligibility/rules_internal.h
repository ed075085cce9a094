/* What the rules of p.6 (rules_p6.c) and p.16 (rules_p16.c) share with
 * the decision that runs them (rules.c): the reason codes, the decision
 * under way, the readers of untrusted JSON, dates and the registry
 * records. Internal to kezek_rules; its API is elig.h. */
#ifndef KEZEK_RULES_INTERNAL_H
#define KEZEK_RULES_INTERNAL_H

#include "elig.h"

#include "calendar.h"

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

/* The code of each rule ("p6.citizenship", …). */
extern const char *const elig_rule_code[R_COUNT];

struct elig_ctx {
    json_t *app, *facts;
    kdate_t date;            /* the application date */
    kdate_t from;            /* p.16: first day of the five years */
    const char *iin;         /* the applicant's, or NULL */
    const char *settlement;  /* the application's, or NULL */
    json_t *used;            /* borrowed from the decision */
    unsigned refused;        /* one bit per enum elig_rule */
    const char *review;      /* why ELIG_REVIEW, or NULL */
    /* the claimed category is one a state system records, and it does
     * not show it: review unless refused on other grounds (rules_p6.c) */
    bool unverified;
};

/* ---- readers: untrusted JSON in, typed values or "absent" out ------ */

/* o[key] when it is a string, else NULL (also for a non-object o). */
static inline const char *get_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* True when o[key] is a strict "YYYY-MM-DD" date, stored in *out. */
static inline bool get_date(json_t *o, const char *key, kdate_t *out)
{
    return kdate_parse(get_str(o, key), out);
}

/* True when a and b are both strings and equal. */
static inline bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* ---- dates (rules.c) ----------------------------------------------- */

static inline int date_cmp(kdate_t a, kdate_t b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    return a.day < b.day ? -1 : a.day > b.day;
}

/* d moved by months calendar months (negative: back), keeping the day;
 * a day the target month lacks becomes the 1st of the next month.
 * d must be a valid date of year ≥ 1800 and |months| ≤ 12000. */
kdate_t elig_add_months(kdate_t d, long months);

/* A new JSON string "YYYY-MM-DD" of a date of years 0–9999. */
json_t *elig_date_json(kdate_t d);

/* ---- registry records (rules.c) ------------------------------------ */

struct property {
    const char *owner;         /* owner_iin, or NULL */
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
bool elig_property_at(const struct elig_ctx *c, size_t i,
                      struct property *p);

/* Whether iin is one of the family members the application lists
 * (family[].iin), other than the applicant. */
bool elig_in_family(const struct elig_ctx *c, const char *iin);

/* Reads facts.family_properties[i] (a dwelling of a family member the
 * application lists: p.6 need, p.11 item 4) into *p, as
 * elig_property_at; false also when its owner is not listed. */
bool elig_family_property_at(const struct elig_ctx *c, size_t i,
                             struct property *p);

/* elig_tenancy_at of facts.family_tenancies[i], a listed family
 * member's. */
bool elig_family_tenancy_at(const struct elig_ctx *c, size_t i, bool *ok);

/* True when facts.tenancies[i] is readable and is a communal-fund
 * dwelling in permanent use in the application's settlement on the
 * date: since ≤ date and (until null or after the date). *ok is false
 * for an unreadable record (not an object, another person's, no
 * settlement or since, until neither null nor a date). */
bool elig_tenancy_at(const struct elig_ctx *c, size_t i, bool *ok);

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
bool elig_move_at(const struct elig_ctx *c, size_t i, struct move *m);

/* ---- decision bookkeeping ------------------------------------------ */

static inline void refuse(struct elig_ctx *c, enum elig_rule r)
{
    c->refused |= 1u << r;
}

/* Records under used[code of r] what rule r used; takes what. */
static inline void use(struct elig_ctx *c, enum elig_rule r, json_t *what)
{
    json_object_set_new(c->used, elig_rule_code[r],
                        what ? what : json_null());
}

/* ---- the rules, in the order elig_decide runs them ----------------- */

/* rules_p6.c */
void elig_check_person(struct elig_ctx *c);
void elig_check_category(struct elig_ctx *c);
void elig_check_group(struct elig_ctx *c);
void elig_check_need(struct elig_ctx *c);
/* rules_p16.c */
void elig_check_p16(struct elig_ctx *c);

#endif
