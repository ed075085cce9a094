/* rules_case — the table machinery shared by the rules tests of p.6
 * and p.16 (test_p6.c, test_p6_need.c, test_p16.c): a case is a JSON
 * patch over a base application and base facts, the date, and the
 * expected outcome and reason codes. Included once per test file. */
#ifndef KEZEK_RULES_CASE_H
#define KEZEK_RULES_CASE_H

/* One case of the table. app and facts are JSON merge patches over
 * BASE_APP / BASE_FACTS (objects merge key by key, anything else
 * replaces, the string "$absent" removes the key), written with ' for "
 * so that the tables stay readable. */
struct elig_case {
    const char *name;     /* "p6.income: exactly 3.1x is not below" */
    const char *app;      /* patch, or NULL */
    const char *facts;    /* patch, or NULL */
    const char *date;     /* NULL: DATE */
    enum elig_outcome outcome;
    const char *reasons;  /* the codes, space-separated, in order */
};

/* 791028300018: a valid IIN, born 1979-10-28. */
#define BASE_APP                                                          \
    "{'applicant': {'iin': '791028300018', 'surname': 'Testov',"        \
    " 'given_name': 'Test'}, 'settlement_id': 's-01-02',"               \
    " 'authority_id': 'a-01-02', 'fund': 'communal',"                   \
    " 'category': 'wwii', 'need_grounds': [1],"                         \
    " 'documents': [{'code': 'application_form', 'pages': 1}]}"
/* Every status the social status registry can record (issue 22), held
 * since 2000: whatever category or group a case claims, the registry
 * shows it — the cases about the registry itself patch "statuses". The
 * records name no IIN (the facts hold the applicant's only), so cases
 * that change the applicant keep them. */
#define STATUS(s, g)                                                      \
    "{'status': '" s "', 'group': " g ","                               \
    " 'since': '2000-01-01', 'until': null}"
#define BASE_STATUSES                                                     \
    "[" STATUS("wwii_participant", "null") ","                          \
    STATUS("wwii_equivalent", "null") "," STATUS("disability", "2") ","   \
    STATUS("disabled_child_family", "null") ","                         \
    STATUS("pensioner", "null") "," STATUS("orphan", "null") ","        \
    STATUS("kandas", "null") "," STATUS("large_family", "null") "]"
#define BASE_FACTS                                                        \
    "{'person': {'kind': 'person', 'iin': '791028300018',"              \
    " 'birth_date': '1979-10-28', 'citizen': true,"                     \
    " 'settlement_id': 's-01-02', 'registered_since': '2015-01-01',"    \
    " 'disability_group': null}, 'properties': [], 'tenancies': [],"    \
    " 'moves': [], 'family_properties': [], 'family_tenancies': [],"     \
    " 'statuses': " BASE_STATUSES ", 'subsistence_minimum': 40000}"
#define DATE "2026-11-25"

/* s with every ' turned into ", parsed; the test fails on bad JSON. */
static json_t *parse_quoted(const char *s)
{
    char *buf = strdup(s);
    cr_assert(buf);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t err;
    json_t *j = json_loads(buf, JSON_DECODE_ANY, &err);
    cr_assert(j, "bad JSON in case (%s): %s", err.text, s);
    free(buf);
    return j;
}

/* Merges patch into target (both owned by the caller). */
static void merge(json_t *target, json_t *patch)
{
    const char *key;
    json_t *v;
    json_object_foreach(patch, key, v) {
        json_t *t = json_object_get(target, key);
        if (json_is_string(v) && strcmp(json_string_value(v),
                                        "$absent") == 0)
            json_object_del(target, key);
        else if (json_is_object(v) && json_is_object(t))
            merge(t, v);
        else
            json_object_set(target, key, v);
    }
}

/* BASE patched by patch (NULL: unchanged); a patch that is not an
 * object replaces the whole document. New reference. */
static json_t *doc(const char *base, const char *patch)
{
    json_t *d = parse_quoted(base);
    if (!patch)
        return d;
    json_t *p = parse_quoted(patch);
    if (!json_is_object(p)) {
        json_decref(d);
        return p;
    }
    merge(d, p);
    json_decref(p);
    return d;
}

/* Runs one case: outcome and reasons as the table says, every reason a
 * known code, used always an object. */
static void run_case(const struct elig_case *tc)
{
    json_t *app = doc(BASE_APP, tc->app);
    json_t *facts = doc(BASE_FACTS, tc->facts);
    struct elig_decision d;
    elig_decide(app, facts, tc->date ? tc->date : DATE, &d);
    char got[512] = "";
    for (int i = 0; i < d.nreasons; i++) {
        cr_assert(reason_find(d.reasons[i]), "%s: unknown code %s",
                  tc->name, d.reasons[i]);
        strcat(got, i ? " " : "");
        strcat(got, d.reasons[i]);
    }
    char *used = json_dumps(d.used, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert(json_is_object(d.used), "%s: used not an object", tc->name);
    cr_expect_eq(d.outcome, tc->outcome, "%s: outcome %s, want %s\n%s",
                 tc->name, elig_outcome_str(d.outcome),
                 elig_outcome_str(tc->outcome), used);
    cr_expect_str_eq(got, tc->reasons, "%s: reasons [%s], want [%s]\n%s",
                     tc->name, got, tc->reasons, used);
    free(used);
    json_decref(d.used);
    json_decref(app);
    json_decref(facts);
}

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))
#define REG ELIG_REGISTERED
#define REF ELIG_REFUSED
#define REV ELIG_REVIEW

/* One parameterized test per table: the parameters are indices (they
 * cross into Criterion's test processes by value, unlike pointers). */
#define CASE_TESTS(suite, name, table)                                    \
    ParameterizedTestParameters(suite, name)                              \
    {                                                                     \
        static size_t idx[NCASES(table)];                                 \
        for (size_t i = 0; i < NCASES(table); i++)                        \
            idx[i] = i;                                                   \
        return cr_make_param_array(size_t, idx, NCASES(table));           \
    }                                                                     \
    ParameterizedTest(size_t *i, suite, name) { run_case(&table[*i]); }

#endif
