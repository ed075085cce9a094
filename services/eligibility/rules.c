/* The rules of p.6 over plain data; no I/O. */
#include "elig.h"

#include <string.h>

const char *elig_outcome_str(enum elig_outcome o)
{
    return o == ELIG_REGISTERED ? "registered"
           : o == ELIG_REFUSED  ? "refused"
                                : "review";
}

static void refuse(struct elig_decision *d, const char *code)
{
    d->outcome = ELIG_REFUSED;
    if (d->nreasons < ELIG_MAX_REASONS)
        d->reasons[d->nreasons++] = code;
}

void elig_decide(json_t *app, json_t *facts, const char *date,
                 struct elig_decision *out)
{
    (void)date;
    memset(out, 0, sizeof(*out));
    out->outcome = ELIG_REGISTERED;
    out->used = json_object();
    /* p.6: a citizen of Kazakhstan, permanently residing in the
     * settlement, when the population register knows them. */
    json_t *person = json_object_get(facts, "person");
    if (json_is_object(person)) {
        if (json_is_false(json_object_get(person, "citizen")))
            refuse(out, "p6.citizenship");
        const char *lives = json_string_value(
            json_object_get(person, "settlement_id"));
        const char *asked = json_string_value(
            json_object_get(app, "settlement_id"));
        if (lives && asked && strcmp(lives, asked) != 0)
            refuse(out, "p6.residence");
    }
    /* p.6: one of the four categories (validated at intake; a stored
     * event with anything else violates the invariant). */
    const char *cat = json_string_value(json_object_get(app, "category"));
    static const char *const cats[] = {"wwii", "vulnerable",
                                       "public_sector",
                                       "emergency_dwelling"};
    bool known = false;
    for (int i = 0; cat && i < 4; i++)
        known = known || strcmp(cat, cats[i]) == 0;
    if (!known)
        refuse(out, "p6.category");
}
