/* kezek-eligibility: who may be registered (p.6) and who is refused for
 * deliberately worsening their housing (p.16).
 *
 * elig_decide is pure: no I/O, no clock. Its inputs are JSON documents
 * so that a stored decision can be replayed from exactly what it saw:
 *
 *   application  the application body as accepted (CONTRACT
 *                "Applications"), already validated by intake
 *   facts        {"person": <registry person record> | null,
 *                 "properties": [<property records of the applicant>],
 *                 "tenancies": [<communal_tenancy records>],
 *                 "moves": [<move records where the applicant is the
 *                            dwelling owner or the person moving>],
 *                 "subsistence_minimum": <tenge for the application's
 *                            year> | null}
 *                (record shapes: CONTRACT "Registry fixtures")
 *   date         the application date, "YYYY-MM-DD" (Asia/Almaty)
 */
#ifndef KEZEK_ELIG_H
#define KEZEK_ELIG_H

#include <jansson.h>
#include <stdbool.h>

#define ELIG_RULES_VERSION "2026.11-1"
#define ELIG_MAX_REASONS 24

enum elig_outcome {
    ELIG_REGISTERED,
    ELIG_REFUSED,
    ELIG_REVIEW,   /* cannot decide without a person: e.g. no subsistence
                      minimum for the year — never a guess */
    ELIG_WITHDRAWN, /* never the rules': the citizen or the office
                       withdrew the application before its decision
                       (issue 22) */
};

struct elig_decision {
    enum elig_outcome outcome;
    int nreasons;
    /* reason codes of domain/reasons.c ("p6.income", "p16.2", …), each
     * at most once, in paragraph order */
    const char *reasons[ELIG_MAX_REASONS];
    /* why ELIG_REVIEW: a short code, e.g. "subsistence_minimum_missing" */
    const char *review_reason;
    /* {"<rule>": {the facts it used, the values it compared}} — new
     * reference, the caller decrefs */
    json_t *used;
};

void elig_decide(json_t *application, json_t *facts, const char *date,
                 struct elig_decision *out);

const char *elig_outcome_str(enum elig_outcome o);

#endif
