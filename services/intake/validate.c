/* Boundary validation of an application (CONTRACT "Applications",
 * p.6 categories, p.11 documents). */
#include "intake.h"

#include "iin.h"
#include "queue_lists.h"
#include "refname.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const funds[] = {"communal", "state_enterprise",
                                    "state_institution", "leb_rented", NULL};
static const char *const relations[] = {"spouse", "child", "parent",
                                        "other", NULL};
static const char *const top_fields[] = {
    "applicant", "representative", "settlement_id", "authority_id", "fund",
    "category", "vulnerable_group", "public_sector_kind", "need_grounds",
    "family", "income", "conscript_service_months", "documents",
    "applicant_signature", NULL};

static bool invalid(http_resp_t *resp, const char *field, const char *msg)
{
    /* a long field name (an unknown key) may have been cut mid-letter
     * in its buffer, and here again: both cut to valid UTF-8 */
    char name[128], text[200];
    snprintf(name, sizeof(name), "%s", field);
    text_cut_utf8(name);
    snprintf(text, sizeof(text), "%s: %s", name, msg);
    text_cut_utf8(text);
    http_reply_error(resp, 400, "invalid_field", text,
                     json_pack("{s:s}", "field", name));
    return false;
}

static bool in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* A string of 1..max bytes (or absent when optional). */
static bool check_str(json_t *obj, const char *key, const char *field,
                      size_t max, bool required, const char **out,
                      http_resp_t *resp)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return invalid(resp, field, "is required");
        return true;
    }
    if (!json_is_string(v))
        return invalid(resp, field, "must be a string");
    size_t n = json_string_length(v);
    if (n == 0 || n > max)
        return invalid(resp, field, "has a wrong length");
    const char *why = text_problem(json_string_value(v), n, max, false);
    if (why)
        return invalid(resp, field, why);
    *out = json_string_value(v);
    return true;
}

static const char *const name_keys[] = {"surname", "given_name",
                                        "patronymic"};

void intake_normalise_names(json_t *body)
{
    static const char *const persons[] = {"applicant", "representative"};
    for (int p = 0; p < 2; p++) {
        json_t *who = json_object_get(body, persons[p]);
        for (int i = 0; json_is_object(who) && i < 3; i++) {
            json_t *v = json_object_get(who, name_keys[i]);
            char *nfc;
            if (!json_is_string(v) ||
                text_name(json_string_value(v), json_string_length(v), 100,
                          &nfc))
                continue; /* the validator says what is wrong */
            if (strcmp(nfc, json_string_value(v)) != 0)
                json_object_set_new(who, name_keys[i], json_string(nfc));
            free(nfc);
        }
    }
}

/* A person's name: checked (text.h) and replaced in obj by its NFC
 * form, the form that is stored, printed and searched. */
static bool check_name(json_t *obj, const char *key, const char *field,
                       bool required, http_resp_t *resp)
{
    const char *s;
    if (!check_str(obj, key, field, 100, required, &s, resp))
        return false;
    if (!s)
        return true;
    char *nfc;
    const char *why = text_name(s, strlen(s), 100, &nfc);
    if (why)
        return invalid(resp, field, why);
    if (strcmp(nfc, s) != 0)
        json_object_set_new(obj, key, json_string(nfc));
    free(nfc);
    return true;
}

static bool check_enum(json_t *obj, const char *key, const char *const *set,
                       bool required, const char **out, http_resp_t *resp)
{
    if (!check_str(obj, key, key, 64, required, out, resp))
        return false;
    if (*out && !in_set(*out, set))
        return invalid(resp, key, "unknown value");
    return true;
}

static bool check_int(json_t *obj, const char *key, const char *field,
                      long min, long max, bool required, long *out,
                      http_resp_t *resp)
{
    json_t *v = json_object_get(obj, key);
    *out = -1;
    if (!v || json_is_null(v)) {
        if (required)
            return invalid(resp, field, "is required");
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max)
        return invalid(resp, field, "must be an integer in range");
    *out = (long)json_integer_value(v);
    return true;
}

static bool check_iin(const char *iin, const char *field, http_resp_t *resp)
{
    if (iin_valid(iin, NULL))
        return true;
    char text[120];
    snprintf(text, sizeof(text), "%s is not a valid IIN", field);
    http_reply_error(resp, 400, "invalid_iin", text,
                     json_pack("{s:s}", "field", field));
    return false;
}

static bool check_person(json_t *p, const char *field, bool applicant,
                         http_resp_t *resp)
{
    char f[64];
    const char *s;
    if (!json_is_object(p))
        return invalid(resp, field, "must be an object");
    snprintf(f, sizeof(f), "%s.iin", field);
    if (!check_str(p, "iin", f, 12, true, &s, resp) || !check_iin(s, f, resp))
        return false;
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof(f), "%s.%s", field, name_keys[i]);
        if (!check_name(p, name_keys[i], f, i < 2, resp))
            return false;
    }
    /* p.14: the applicant's phone, and the representative's */
    snprintf(f, sizeof(f), "%s.phone", field);
    if (!check_str(p, "phone", f, 20, false, &s, resp))
        return false;
    if (s && (s[0] != '+' || strspn(s + 1, "0123456789") !=
                                 strlen(s) - 1 || strlen(s) < 8))
        return invalid(resp, f, "must be + and 7–19 digits");
    if (applicant) {
        /* the language of the citizen's SMS (issue 23) */
        static const char *const langs[] = {"kk", "ru", NULL};
        if (!check_str(p, "language", "applicant.language", 2, false, &s,
                       resp))
            return false;
        if (s && !in_set(s, langs))
            return invalid(resp, "applicant.language", "kk or ru");
        if (!check_str(p, "email", "applicant.email", 254, false, &s, resp))
            return false;
        /* a plain addr-spec: it goes into SMTP envelopes and headers */
        if (s && (strspn(s, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            ".!#$%&'*+/=?^_`{|}~-@") != strlen(s) ||
                  !strchr(s, '@') || strchr(s, '@') != strrchr(s, '@') ||
                  s[0] == '@' || !strchr(strchr(s, '@'), '.')))
            return invalid(resp, "applicant.email", "is not an address");
    } else {
        snprintf(f, sizeof(f), "%s.power_of_attorney", field);
        if (!check_str(p, "power_of_attorney", f, 200, true, &s, resp))
            return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach(p, key, v) {
        static const char *const ok_a[] = {"iin", "surname", "given_name",
            "patronymic", "phone", "email", "language", NULL};
        static const char *const ok_r[] = {"iin", "surname", "given_name",
            "patronymic", "power_of_attorney", "phone", NULL};
        if (!in_set(key, applicant ? ok_a : ok_r)) {
            snprintf(f, sizeof(f), "%s.%s", field, key);
            return invalid(resp, f, "unknown field");
        }
    }
    return true;
}

/* Rejects keys of obj outside known, naming "<field>[i].<key>". */
static bool only_known(json_t *obj, const char *const *known,
                       const char *field, size_t i, http_resp_t *resp)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!in_set(key, known)) {
            char f[96];
            snprintf(f, sizeof(f), "%s[%zu].%s", field, i, key);
            return invalid(resp, f, "unknown field");
        }
    }
    return true;
}

static bool check_family(json_t *fam, http_resp_t *resp)
{
    if (!fam)
        return true;
    if (!json_is_array(fam) || json_array_size(fam) > 30)
        return invalid(resp, "family", "must be an array of at most 30");
    size_t i;
    json_t *m;
    char f[64];
    json_array_foreach(fam, i, m) {
        const char *s;
        snprintf(f, sizeof(f), "family[%zu]", i);
        if (!json_is_object(m))
            return invalid(resp, f, "must be an object");
        snprintf(f, sizeof(f), "family[%zu].iin", i);
        if (!check_str(m, "iin", f, 12, true, &s, resp) ||
            !check_iin(s, f, resp))
            return false;
        if (!check_enum(m, "relation", relations, true, &s, resp))
            return false;
        json_t *d = json_object_get(m, "disabled");
        snprintf(f, sizeof(f), "family[%zu].disabled", i);
        if (d && !json_is_boolean(d))
            return invalid(resp, f, "must be a boolean");
        static const char *const known[] = {"iin", "relation", "disabled",
                                            NULL};
        if (!only_known(m, known, "family", i, resp))
            return false;
    }
    return true;
}

/* p.11: the documents required for this category and need grounds.
 * Items the state systems hold (2–6) are fetched, never demanded. */
static bool check_documents(json_t *body, const char *category, long group,
                            json_t *grounds, http_resp_t *resp)
{
    json_t *docs = json_object_get(body, "documents");
    if (!json_is_array(docs) || json_array_size(docs) > 50)
        return invalid(resp, "documents", "must be an array of at most 50");
    bool have[12] = {false};
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d) {
        const char *code, *sha;
        long pages;
        if (!json_is_object(d))
            return invalid(resp, "documents", "items must be objects");
        static const char *const known[] = {"code", "sha256", "pages",
                                            NULL};
        if (!only_known(d, known, "documents", i, resp))
            return false;
        if (!check_enum(d, "code", application_documents, true, &code, resp) ||
            !check_str(d, "sha256", "documents.sha256", 64, false, &sha,
                       resp) ||
            !check_int(d, "pages", "documents.pages", 1, 1000, false,
                       &pages, resp))
            return false;
        for (int k = 0; application_documents[k]; k++)
            if (strcmp(code, application_documents[k]) == 0)
                have[k] = true;
    }
    bool need[12] = {false};
    need[0] = true;                                      /* item 1 */
    if (strcmp(category, "vulnerable") == 0) {
        need[7] = true;                                  /* item 8 */
        /* item 9; group 1 (WWII, p.6 item 1) has no income test */
        need[8] = group != 1 && group != 4 && group != 7;
    }
    if (strcmp(category, "public_sector") == 0)
        need[9] = true;                                  /* item 10 */
    if (strcmp(category, "emergency_dwelling") == 0)
        need[10] = true;                                 /* item 11 */
    json_t *g;
    json_array_foreach(grounds, i, g)
        if (json_integer_value(g) >= 4)
            need[11] = true;                             /* item 12 */
    json_t *missing = json_array();
    for (int k = 0; k < 12; k++)
        if (need[k] && !have[k])
            json_array_append_new(missing, json_string(application_documents[k]));
    if (json_array_size(missing) == 0) {
        json_decref(missing);
        return true;
    }
    http_reply_error(resp, 422, "missing_documents",
                     "documents required by p.11 are missing",
                     json_pack("{s:o}", "missing", missing));
    return false;
}

/* The category's own fields (p.6): the vulnerable group with
 * category vulnerable, the public-sector kind with public_sector. */
static bool check_category(json_t *body, struct application *app,
                           long *group, http_resp_t *resp)
{
    const char *fund, *sector, *s;
    long months;
    if (!check_str(body, "settlement_id", "settlement_id", 64, true,
                   &app->settlement_id, resp) ||
        !check_str(body, "authority_id", "authority_id", 64, false, &s,
                   resp) ||
        !check_enum(body, "fund", funds, true, &fund, resp) ||
        /* p.6 categories: each has its list in the queue */
        !check_enum(body, "category", queue_lists, true, &app->category,
                    resp) ||
        !check_int(body, "vulnerable_group", "vulnerable_group", 1, 12,
                   false, group, resp) ||
        !check_enum(body, "public_sector_kind", public_sector_kinds, false,
                    &sector, resp) ||
        !check_int(body, "conscript_service_months",
                   "conscript_service_months", 0, 120, false, &months,
                   resp) ||
        !check_family(json_object_get(body, "family"), resp))
        return false;
    bool vulnerable = strcmp(app->category, "vulnerable") == 0;
    if (vulnerable != (*group > 0))
        return invalid(resp, "vulnerable_group",
                       vulnerable ? "is required for category vulnerable"
                                  : "only with category vulnerable");
    bool sector_cat = strcmp(app->category, "public_sector") == 0;
    if (sector_cat != (sector != NULL))
        return invalid(resp, "public_sector_kind",
                       sector_cat ? "is required for category public_sector"
                                  : "only with category public_sector");
    return true;
}

static bool check_grounds(json_t *grounds, http_resp_t *resp)
{
    if (!json_is_array(grounds) || json_array_size(grounds) == 0 ||
        json_array_size(grounds) > 6)
        return invalid(resp, "need_grounds", "must list 1 to 6 grounds");
    size_t i;
    json_t *v;
    json_array_foreach(grounds, i, v)
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > 6)
            return invalid(resp, "need_grounds", "grounds are 1 to 6");
    return true;
}

/* p.6 item 2: the 3.1 income test applies to the vulnerable groups 2–12
 * except orphans (7) and families with disabled children (4); group 1
 * (WWII veterans) falls under item 1 without it. */
static bool check_income(json_t *body, const char *category, long group,
                         http_resp_t *resp)
{
    json_t *income = json_object_get(body, "income"), *v;
    bool income_needed = strcmp(category, "vulnerable") == 0 &&
                         group != 1 && group != 4 && group != 7;
    if (!income || json_is_null(income))
        return !income_needed ||
               invalid(resp, "income", "is required for this group (p.6)");
    json_t *totals = json_object_get(income, "monthly_family_totals_tenge");
    json_t *members = json_object_get(income, "members");
    static const char *const known[] = {"monthly_family_totals_tenge",
                                        "members", NULL};
    if (json_is_object(income) && !only_known(income, known, "income", 0,
                                              resp))
        return false;
    if (!json_is_object(income) || !json_is_array(totals) ||
        json_array_size(totals) != 12 || !json_is_integer(members) ||
        json_integer_value(members) < 1 || json_integer_value(members) > 50)
        return invalid(resp, "income",
                       "needs 12 monthly totals and members 1–50");
    size_t i;
    json_array_foreach(totals, i, v)
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > 100000000000LL)
            return invalid(resp, "income.monthly_family_totals_tenge",
                           "integer tenge, not negative");
    return true;
}

/* p.13.3: the settlement selects the authority; an office submits only
 * for its own, and a named authority must be that one. */
static bool check_authority(PGconn *conn, const principal_t *who,
                            json_t *body, struct application *app,
                            http_resp_t *resp)
{
    int found = refname_get(conn, "settlement_authority",
                            app->settlement_id, app->authority_id,
                            sizeof(app->authority_id));
    if (found < 0) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
        return false;
    }
    if (found == 0) {
        http_reply_error(resp, 422, "unknown_settlement",
                         "no such settlement in the reference data",
                         json_pack("{s:s}", "field", "settlement_id"));
        return false;
    }
    const char *given = json_string_value(json_object_get(body,
                                                          "authority_id"));
    if (who->kind == PRINCIPAL_OFFICE) {
        if (!given)
            return invalid(resp, "authority_id",
                           "is required from an office");
        if (strcmp(given, who->id) != 0) {
            http_reply_error(resp, 403, "forbidden",
                             "an office acts only for its own authority",
                             NULL);
            return false;
        }
    }
    if (given && strcmp(given, app->authority_id) != 0) {
        http_reply_error(resp, 422, "unknown_authority",
                         "the authority does not serve this settlement",
                         json_pack("{s:s}", "field", "authority_id"));
        return false;
    }
    return true;
}

bool intake_validate(PGconn *conn, const principal_t *who, json_t *body,
                     struct application *app, http_resp_t *resp)
{
    const char *key, *s;
    json_t *v;
    memset(app, 0, sizeof(*app));
    app->body = body;
    json_object_foreach(body, key, v)
        if (!in_set(key, top_fields))
            return invalid(resp, key, "unknown field");

    json_t *applicant = json_object_get(body, "applicant");
    if (!applicant)
        return invalid(resp, "applicant", "is required");
    if (!check_person(applicant, "applicant", true, resp))
        return false;
    app->iin = json_string_value(json_object_get(applicant, "iin"));
    json_t *rep = json_object_get(body, "representative");
    if (rep && !json_is_null(rep) &&
        !check_person(rep, "representative", false, resp))
        return false;
    long group;
    json_t *grounds = json_object_get(body, "need_grounds");
    return check_category(body, app, &group, resp) &&
           check_grounds(grounds, resp) &&
           check_income(body, app->category, group, resp) &&
           check_str(body, "applicant_signature", "applicant_signature",
                     8192, who->kind == PRINCIPAL_PORTAL, &s, resp) &&
           check_authority(conn, who, body, app, resp) &&
           check_documents(body, app->category, group, grounds, resp);
}
