/* queue_lists — the queue's vocabulary: the lists of an authority (one
 * per category, p.6) and the reasons an entry leaves its list (p.5
 * lifecycle), shared by intake (the category of an application), the
 * queue service and the kezek tool. */
#ifndef KEZEK_QUEUE_LISTS_H
#define KEZEK_QUEUE_LISTS_H

#include <stdbool.h>

extern const char *const queue_lists[]; /* NULL-terminated */
/* p.6 public-sector kinds; p.11 items 1–12 (document codes), in order */
extern const char *const public_sector_kinds[];
extern const char *const application_documents[];
/* whether s is one of set (NULL-terminated); false for NULL */
bool queue_in_set(const char *s, const char *const *set);
bool queue_list_known(const char *list);
bool queue_removal_reason_known(const char *reason);

/* The expected wait of position (issue 24): departures with housing
 * provided over months observed, taken as a Poisson process; the 10th
 * and 90th percentiles of the time to the position's turn (Gamma, by
 * Wilson–Hilferty) in months into *from, *to. False — "unknown" — with
 * fewer than 12 months or 5 departures, or no position. */
bool queue_wait_range(long departures, double months, long position,
                      double *from, double *to);

#endif
