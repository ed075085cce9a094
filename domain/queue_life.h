/* queue_life — the queue's life after registration (issue 22): an
 * entry leaves its list (removal by the office, or at the citizen's own
 * request), moves to another list of its authority when the category
 * changes, or to another authority's list when the person moves; and
 * the re-verification of everyone in the queue against the current
 * registries.
 *
 * Each change is one transaction: the entries, the list's change log
 * (the position history's source, with the cause), and a QueueChanged
 * event logged in it (outbox.h: logged where produced), from which the
 * citizen's notice and the status read model follow; and the leaves of
 * the authorities' transparency logs (tlog.h). A move is decided
 * by the same rules as a registration (elig_decide) on the application
 * as changed, against the registries as they are now.
 *
 * Shared by kezek-queue (its API and its scheduled re-verification) and
 * the kezek tool. Everything runs on the caller's connection, which is
 * idle on entry and idle on return. */
#ifndef KEZEK_QUEUE_LIFE_H
#define KEZEK_QUEUE_LIFE_H

#include "elig.h"
#include "keys.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

enum life_rc {
    LIFE_OK,            /* committed */
    LIFE_NOT_FOUND,     /* no active entry of that person in that list */
    LIFE_CONFLICT,      /* cannot be done (why says so): e.g. already in
                           the target list */
    LIFE_NOT_QUALIFIED, /* the rules do not register the person in the
                           new place (decision: reasons or review) */
    LIFE_DB,            /* Postgres failed; nothing was changed */
};

/* One change asked for. */
struct life_change {
    const char *authority_id, *list, *iin; /* the active entry */
    const char *on;          /* YYYY-MM-DD (Asia/Almaty), not future */
    const char *by;          /* principal text, or "kezek-tool" */
    const char *producer;    /* the event's producer (service name) */
    const char *reason;      /* removal: its reason */
    json_t *category;        /* list change: the new category's fields
                                (category, vulnerable_group,
                                public_sector_kind, documents) */
    const char *to_settlement_id; /* transfer: where the person lives */
    struct authority_keys *keys;  /* sign the transparency log's heads */
};

struct life_place {
    char authority_id[64], list[32];
    long long number, position;
    unsigned long long seq;      /* its order in the list (to: moves) */
};

struct life_result {
    char application_id[64];
    char change_id[32];          /* "qc-<id>" */
    struct life_place from, to;  /* to: moves only */
    /* LIFE_NOT_QUALIFIED: the rules' decision (d.used released) */
    struct elig_decision d;
    char why[200];               /* LIFE_CONFLICT, LIFE_DB: no personal
                                    data */
};

/* The category fields a list change may carry, checked: category one
 * of the lists, vulnerable_group 1–12 with vulnerable only,
 * public_sector_kind with public_sector only, documents as in an
 * application. False with why (field named) otherwise. */
bool life_category_valid(json_t *category, char *why, size_t len);

enum life_rc life_remove(PGconn *c, const struct life_change *ch,
                         struct life_result *r);
/* The list of ch->category; the place in it counts from the original
 * acceptance (docs/queue-life.md: the rule applied). */
enum life_rc life_change_list(PGconn *c, const struct life_change *ch,
                              struct life_result *r);
/* To the authority of ch->to_settlement_id, same list, placed as an
 * application accepted now. */
enum life_rc life_transfer(PGconn *c, const struct life_change *ch,
                           struct life_result *r);

/* The report of a re-verification run. */
struct reverify_report {
    long long run_id, checked, flagged, cleared;
    json_t *by_authority;   /* {authority: {reason: count}} (caller
                               decrefs) */
};

/* Re-runs the current rules (as of as_of, YYYY-MM-DD) against the
 * current registries for every active entry (of authority, of list;
 * NULL: all), in batches of batch entries each committed on its own:
 * those who no longer qualify are flagged for their authority's work
 * list with the reasons (never removed), those flagged before who
 * qualify again are cleared. False with err when Postgres failed (the
 * run stays unfinished, its flags so far kept). */
bool life_reverify(PGconn *c, const char *authority, const char *list,
                   const char *as_of, const char *by, int batch,
                   struct reverify_report *rep, char *err, size_t errlen);

#endif
