#include "registry_line.h"

#include "calendar.h"
#include "iin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int import_line(const char *line, size_t n, json_t **out, char *err,
                size_t len)
{
    *out = NULL;
    if (n > IMPORT_LINE_MAX) {
        snprintf(err, len, "line too long");
        return -1;
    }
    if (strspn(line, " \t\r\n") == n)
        return 0;
    json_error_t je;
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(err, len, "%s", je.text);
        return -1;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(err, len, "not a JSON object");
        return -1;
    }
    *out = j;
    return 1;
}

void import_row_free(struct import_row *row)
{
    free(row->doc);
    row->doc = NULL;
}

static const char *str(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

/* --- reference records -------------------------------------------- */

/* Fails with "<what> needs <fields>" unless every listed key is a
 * non-empty string. */
static bool need_strings(json_t *j, const char *what,
                         const char *const *keys, char *err, size_t len)
{
    for (const char *const *k = keys; *k; k++) {
        const char *v = str(j, *k);
        if (!v || !*v || strlen(v) > 1000) {
            snprintf(err, len, "%s needs a string %s", what, *k);
            return false;
        }
    }
    return true;
}

/* The listed keys are $1..$k, the whole record (canonical JSON) is
 * $k+1. */
static const struct {
    const char *what;
    const char *const keys[4];
    const char *sql;
} references[REF_KINDS] = {
    [REF_REGION] = {"region", {"id", "name", NULL},
        "INSERT INTO region (id, name, doc)"
        " VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE"
        " SET name = $2, doc = $3"},
    [REF_AUTHORITY] = {"authority", {"id", "region_id", "name", NULL},
        "INSERT INTO authority (id, region_id, name, doc)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO"
        " UPDATE SET region_id = $2, name = $3, doc = $4"},
    [REF_SETTLEMENT] = {"settlement", {"id", "authority_id", "name", NULL},
        "INSERT INTO settlement (id, authority_id, name,"
        " doc) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO"
        " UPDATE SET authority_id = $2, name = $3,"
        " doc = $4"},
    [REF_CENTRE] = {"centre", {"id", "region_id", NULL},
        "INSERT INTO centre (id, region_id, doc)"
        " VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE"
        " SET region_id = $2, doc = $3"},
    [REF_APPEAL] = {"appeal instance", {"id", "region_id", NULL},
        "INSERT INTO appeal_instance (id, region_id, doc)"
        " VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE"
        " SET region_id = $2, doc = $3"},
};

bool reference_row(enum reference_kind kind, json_t *j,
                   struct import_row *row, char *err, size_t len)
{
    const char *const *keys = references[kind].keys;
    memset(row, 0, sizeof(*row));
    if (!need_strings(j, references[kind].what, keys, err, len))
        return false;
    int n = 0;
    for (; keys[n] && n < 7; n++)
        row->p[n] = str(j, keys[n]);
    row->doc = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    row->p[n] = row->doc;
    row->n = n + 1;
    row->sql = references[kind].sql;
    return true;
}

/* --- registry records ----------------------------------------------- */

/* The fixture format (CONTRACT "Registry fixtures"), as data. */
enum field_type { F_IIN, F_STR, F_DATE, F_DATE_OR_NULL, F_BOOL,
                  F_ENUM, F_ENUM_OR_NULL, F_GROUP_OR_NULL };

struct field {
    const char *key;
    enum field_type type;
    const char *const *values; /* F_ENUM*: allowed values */
};

static const char *const directions[] = {"in", "out", NULL};
static const char *const relations[] = {"spouse", "child", "parent",
                                        "other", NULL};
static const char *const alienations[] = {"sale", "exchange", "gift",
                                          "leb_buyback", NULL};

static const struct field person_fields[] = {
    {"iin", F_IIN, NULL}, {"surname", F_STR, NULL},
    {"given_name", F_STR, NULL}, {"birth_date", F_DATE, NULL},
    {"citizen", F_BOOL, NULL}, {"settlement_id", F_STR, NULL},
    {"registered_since", F_DATE, NULL},
    {"disability_group", F_GROUP_OR_NULL, NULL}, {NULL, 0, NULL}};
static const struct field property_fields[] = {
    {"owner_iin", F_IIN, NULL}, {"dwelling_id", F_STR, NULL},
    {"settlement_id", F_STR, NULL}, {"acquired", F_DATE, NULL},
    {"alienated", F_DATE_OR_NULL, NULL},
    {"alienation", F_ENUM_OR_NULL, alienations}, {"fit", F_BOOL, NULL},
    {"emergency", F_BOOL, NULL}, {"damaged_on", F_DATE_OR_NULL, NULL},
    {NULL, 0, NULL}};
static const struct field tenancy_fields[] = {
    {"iin", F_IIN, NULL}, {"settlement_id", F_STR, NULL},
    {"since", F_DATE, NULL}, {"until", F_DATE_OR_NULL, NULL},
    {NULL, 0, NULL}};
/* social_status: what a state system records (migrations/020); group:
 * the disability group (1–3) of a disability or a disabled child, else
 * null */
static const char *const statuses[] = {
    "wwii_participant", "wwii_disabled_veteran", "wwii_equivalent",
    "disability", "disabled_child_family", "pensioner", "orphan", "kandas",
    "large_family", NULL};
static const struct field status_fields[] = {
    {"iin", F_IIN, NULL}, {"status", F_ENUM, statuses},
    {"group", F_GROUP_OR_NULL, NULL}, {"since", F_DATE, NULL},
    {"until", F_DATE_OR_NULL, NULL}, {NULL, 0, NULL}};
static const struct field move_fields[] = {
    {"dwelling_owner_iin", F_IIN, NULL}, {"person_iin", F_IIN, NULL},
    {"direction", F_ENUM, directions}, {"date", F_DATE, NULL},
    {"relation", F_ENUM, relations}, {"person_disabled", F_BOOL, NULL},
    {"person_birth_date", F_DATE, NULL},
    {"owner_in_need_at_time", F_BOOL, NULL}, {NULL, 0, NULL}};

static bool in_list(const char *v, const char *const *list)
{
    for (; v && *list; list++)
        if (strcmp(v, *list) == 0)
            return true;
    return false;
}

/* Checks j against fields; err names the first bad field. */
static bool check_fields(json_t *j, const struct field *fields, char *err,
                         size_t len)
{
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        bool known = strcmp(key, "kind") == 0;
        for (const struct field *f = fields; f->key && !known; f++)
            known = strcmp(f->key, key) == 0;
        if (!known) {
            snprintf(err, len, "unknown field %s", key);
            return false;
        }
    }
    for (const struct field *f = fields; f->key; f++) {
        v = json_object_get(j, f->key);
        const char *s = json_string_value(v);
        kdate_t d;
        bool ok;
        switch (f->type) {
        case F_IIN:
            ok = s && iin_valid(s, NULL);
            break;
        case F_STR:
            ok = s && *s && strlen(s) <= 200;
            break;
        case F_DATE:
            ok = kdate_parse(s, &d);
            break;
        case F_DATE_OR_NULL:
            ok = json_is_null(v) || kdate_parse(s, &d);
            break;
        case F_BOOL:
            ok = json_is_boolean(v);
            break;
        case F_ENUM:
            ok = in_list(s, f->values);
            break;
        case F_ENUM_OR_NULL:
            ok = json_is_null(v) || in_list(s, f->values);
            break;
        default: /* F_GROUP_OR_NULL: disability group 1–3 */
            ok = json_is_null(v) ||
                 (json_is_integer(v) && json_integer_value(v) >= 1 &&
                  json_integer_value(v) <= 3);
        }
        if (!ok) {
            snprintf(err, len, "field %s is missing or invalid", f->key);
            return false;
        }
    }
    return true;
}

bool registry_row(json_t *j, struct import_row *row, char *err,
                  size_t len)
{
    static const struct {
        const char *kind;
        const struct field *fields;
        const char *sql;
        const char *k1, *k2;
    } kinds[] = {
        {"person", person_fields,
         "INSERT INTO registry_person (iin, doc) VALUES ($1, $2)"
         " ON CONFLICT (iin) DO UPDATE SET doc = $2", "iin", NULL},
        {"property", property_fields,
         "INSERT INTO registry_property (owner_iin, dwelling_id, doc)"
         " VALUES ($1, $2, $3) ON CONFLICT (owner_iin, dwelling_id)"
         " DO UPDATE SET doc = $3", "owner_iin", "dwelling_id"},
        {"communal_tenancy", tenancy_fields,
         "INSERT INTO registry_tenancy (iin, doc) VALUES ($1, $2)"
         " ON CONFLICT (iin, doc) DO NOTHING", "iin", NULL},
        {"move", move_fields,
         "INSERT INTO registry_move (dwelling_owner_iin, person_iin, doc)"
         " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
         "dwelling_owner_iin", "person_iin"},
        {"social_status", status_fields,
         "INSERT INTO registry_social_status (iin, doc) VALUES ($1, $2)"
         " ON CONFLICT (iin, doc) DO NOTHING", "iin", NULL},
    };
    memset(row, 0, sizeof(*row));
    const char *kind = str(j, "kind");
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (!kind || strcmp(kind, kinds[i].kind) != 0)
            continue;
        if (!check_fields(j, kinds[i].fields, err, len))
            return false;
        json_t *doc = json_deep_copy(j);
        json_object_del(doc, "kind");
        row->doc = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(doc);
        row->sql = kinds[i].sql;
        row->p[0] = str(j, kinds[i].k1);
        row->p[1] = kinds[i].k2 ? str(j, kinds[i].k2) : row->doc;
        row->p[2] = row->doc;
        row->n = kinds[i].k2 ? 3 : 2;
        return true;
    }
    snprintf(err, len, "kind must be person, property, communal_tenancy, "
                       "move or social_status");
    return false;
}
