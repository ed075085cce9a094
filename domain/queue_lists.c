#include "queue_lists.h"

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
