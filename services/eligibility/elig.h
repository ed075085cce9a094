/* kezek-eligibility: decides p.6 / p.16 for each accepted application. */
#ifndef KEZEK_ELIG_H
#define KEZEK_ELIG_H

#include <jansson.h>
#include <stdbool.h>

#define ELIG_MAX_REASONS 16

struct elig_decision {
    bool registered;
    int nreasons;
    const char *reasons[ELIG_MAX_REASONS]; /* codes of domain/reasons.c */
};

/* The pure rules (no I/O): the application as accepted and the facts
 * gathered for it. */
void elig_decide(json_t *application, json_t *facts,
                 struct elig_decision *out);

#endif
