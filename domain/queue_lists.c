#include "queue_lists.h"

#include <math.h>
#include <string.h>

static bool in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

const char *const queue_lists[] = {"wwii", "vulnerable", "public_sector",
                                   "emergency_dwelling", NULL};

const char *const public_sector_kinds[] = {
    "civil_servant", "budget_employee", "military", "cosmonaut", "elected",
    NULL};

/* p.11 items 1–12, in order. */
const char *const application_documents[] = {
    "application_form", "identity_documents", "civil_status_certificates",
    "property_certificate", "no_communal_dwelling_certificate",
    "residence_confirmation", "court_decision_family",
    "vulnerable_status_document", "income_certificate",
    "workplace_certificate", "emergency_dwelling_certificate",
    "competent_body_certificate", NULL};

bool queue_in_set(const char *s, const char *const *set)
{
    return in_set(s, set);
}

bool queue_list_known(const char *list)
{
    return in_set(list, queue_lists);
}

bool queue_removal_reason_known(const char *reason)
{
    static const char *const reasons[] = {"housing_provided", "moved_away",
                                          "false_documents", "died",
                                          "own_request", NULL};
    return in_set(reason, reasons);
}

bool queue_wait_range(long departures, double months, long position,
                      double *from, double *to)
{
    if (months < 12.0 || departures < 5 || position < 1)
        return false;
    double lambda = (double)departures / months; /* a month */
    double k = (double)position, s = sqrt(1.0 / (9.0 * k));
    static const double z = 1.2815515655446004; /* the 90th percentile */
    double lo = 1.0 - 1.0 / (9.0 * k) - z * s;
    double hi = 1.0 - 1.0 / (9.0 * k) + z * s;
    *from = lo > 0 ? k / lambda * lo * lo * lo : 0;
    *to = k / lambda * hi * hi * hi;
    return true;
}

