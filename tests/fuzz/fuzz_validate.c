/* services/intake/validate.c intake_validate, the application at the
 * boundary, with the reference data stubbed (stub_refname.c; the only
 * use of its connection). The first byte picks who submits ('O' an
 * office of a-01-02, 'C' a centre, 'P' the portal; other bytes by their
 * value), the rest is the JSON body, parsed and normalised as
 * post_application does. An accepted application is complete and
 * consistent; a refusal is the contract's error; a second look at the
 * same body gives the same answer. */
#include "fuzz.h"

#include "iin.h"
#include "intake.h"
#include "queue_lists.h"

static void who_from(uint8_t b, principal_t *who)
{
    memset(who, 0, sizeof(*who));
    int k = b == 'O' ? 0 : b == 'C' ? 1 : b == 'P' ? 2 : b % 3;
    if (k == 0) {
        who->kind = PRINCIPAL_OFFICE;
        strcpy(who->id, "a-01-02");
        strcpy(who->text, "office:a-01-02");
    } else if (k == 1) {
        who->kind = PRINCIPAL_CENTRE;
        strcpy(who->id, "c-01-1-1");
        strcpy(who->text, "centre:c-01-1-1");
    } else {
        who->kind = PRINCIPAL_PORTAL;
        strcpy(who->text, "portal");
    }
}

static bool listed(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static void check_refusal(const http_resp_t *r)
{
    CHECK(r->status == 400 || r->status == 403 || r->status == 422 ||
          r->status == 503);
    CHECK(r->body != NULL);
    json_t *j = json_loads(r->body, 0, NULL);
    CHECK(j != NULL);
    json_t *e = json_object_get(j, "error");
    CHECK(json_is_string(json_object_get(e, "code")) &&
          json_is_string(json_object_get(e, "message")));
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > HTTP_MAX_BODY)
        return 0;
    principal_t who;
    who_from(data[0], &who);
    json_t *body = json_loadb((const char *)data + 1, size - 1,
                              JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    intake_normalise_names(body);

    struct application app;
    http_resp_t resp = {0};
    bool ok = intake_validate(NULL, &who, body, &app, &resp);
    if (getenv("FUZZ_VERBOSE")) /* to read what a seed reaches */
        fprintf(stderr, "%s %s %d %s\n", who.text, ok ? "accepted" : "refused",
                resp.status, resp.body ? resp.body : "");
    if (ok) {
        CHECK(resp.status == 0 && resp.body == NULL);
        CHECK(app.body == body);
        CHECK(app.iin && iin_valid(app.iin, NULL));
        CHECK(app.settlement_id && app.settlement_id[0]);
        CHECK(listed(app.category, queue_lists));
        CHECK(strncmp(app.authority_id, "a-", 2) == 0);
        const char *given = json_string_value(json_object_get(body,
                                                              "authority_id"));
        if (who.kind == PRINCIPAL_OFFICE)
            CHECK(given && strcmp(app.authority_id, who.id) == 0);
        if (given)
            CHECK(strcmp(given, app.authority_id) == 0);
        if (who.kind == PRINCIPAL_PORTAL)
            CHECK(json_is_string(json_object_get(body,
                                                 "applicant_signature")));
        char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        CHECK(canon != NULL);
        free(canon);
    } else {
        check_refusal(&resp);
    }

    /* the names are in NFC now: the same body, the same answer */
    struct application app2;
    http_resp_t resp2 = {0};
    bool ok2 = intake_validate(NULL, &who, body, &app2, &resp2);
    CHECK(ok2 == ok && resp2.status == resp.status);
    CHECK((resp.body == NULL) == (resp2.body == NULL));
    if (resp.body)
        CHECK(strcmp(resp.body, resp2.body) == 0);
    free(resp.body);
    free(resp2.body);
    json_decref(body);
    return 0;
}
