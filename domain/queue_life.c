/* The queue's life after registration: removal, change of list,
 * transfer, re-verification (queue_life.h; docs/queue-life.md). */
#include "queue_life.h"

#include "calendar.h"
#include "event.h"
#include "log.h"
#include "outbox.h"
#include "pg.h"
#include "queue_lists.h"
#include "registry.h"
#include "tlog.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The family members' IINs of an application body B (jsonb), as the
 * text[] REGISTRY_FACTS takes (intake validated them). */
#define BODY_FAMILY(B)                                                    \
    "ARRAY(SELECT f ->> 'iin' FROM jsonb_array_elements(coalesce(" B     \
    " -> 'family', '[]')) f)"

/* The active entry of ($1 authority, $2 list, $3 iin), its application
 * and the registries' facts about the person and the family as of the
 * year $4 (the move is decided on them). */
static const char entry_sql[] =
    "SELECT e.application_id, e.number, e.accepted_seq, a.body::text, "
    REGISTRY_FACTS("e.applicant_iin", "$4::int", BODY_FAMILY("a.body"))
    "::text FROM queue_entry e JOIN application a"
    " ON a.id = e.application_id WHERE e.authority_id = $1"
    " AND e.list = $2 AND e.applicant_iin = $3 AND e.status = 'active'";
enum { ENTRY_APP, ENTRY_NUMBER, ENTRY_SEQ, ENTRY_BODY, ENTRY_FACTS };

/* Both lists of a move, created when new and locked in one order (the
 * queue's consumer locks its batch's lists in the same order: no
 * deadlock between them). */
static const char lock_sql[] =
    "WITH n AS (INSERT INTO queue_list (authority_id, list)"
    " VALUES ($3, $4) ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT (SELECT count(*) FROM n), l.authority_id FROM queue_list l"
    " WHERE (l.authority_id, l.list) IN (($1, $2), ($3, $4))"
    " ORDER BY l.authority_id, l.list FOR UPDATE";

static const char leave_sql[] =
    "SELECT o_number, o_position, o_application_id, o_change_id"
    " FROM queue_leave($1, $2, $3, $4, $5::date, $6, $7, $8::jsonb)";
enum { LEAVE_NUMBER, LEAVE_POSITION, LEAVE_APP, LEAVE_CHANGE };

static const char enter_sql[] =
    "SELECT o_number, o_position, o_change_id FROM queue_enter($1, $2, $3,"
    " $4, $5::bigint, $6, $7::jsonb)";
enum { ENTER_NUMBER, ENTER_POSITION, ENTER_CHANGE };

/* The QueueChanged of the change, logged in its transaction (outbox.h:
 * logged where produced) and returned for the bus. */
static const char log_sql[] =
    "WITH e (" EVENT_LOG_E_COLUMNS ") AS (SELECT 1, $1, $2::int, $3, $4,"
    " $5::int, $6::bigint, $7::bytea)," EVENT_LOG_TAIL("e");

/* Rolls back (unless the connection is gone) and says why. */
static enum life_rc undo(PGconn *c, struct life_result *r, enum life_rc rc,
                         const char *why)
{
    if (!pg_lost(c) && !pg_exec(c, "ROLLBACK"))
        log_warn("queue.life", "rollback failed");
    if (why)
        snprintf(r->why, sizeof(r->why), "%s", why);
    else if (rc == LIFE_DB)
        snprintf(r->why, sizeof(r->why), "database: %s", pg_last_error());
    return rc;
}

/* A statement of this module on c (text parameters), or NULL. */
static PGresult *run(PGconn *c, const char *sql, int n,
                     const char *const *p)
{
    return pg_query(c, sql, n, p);
}

static void place(struct life_place *pl, const char *authority,
                  const char *list, const char *number,
                  const char *position)
{
    snprintf(pl->authority_id, sizeof(pl->authority_id), "%s", authority);
    snprintf(pl->list, sizeof(pl->list), "%s", list);
    pl->number = atoll(number);
    pl->position = atoll(position);
}

/* Takes the entry of ch off its list (queue_leave) for reason with
 * cause, the other end (related, JSON or NULL) noted. LIFE_NOT_FOUND
 * when it holds no place there; the transaction stays open either way
 * (the caller undoes it). */
static enum life_rc leave(PGconn *c, const struct life_change *ch,
                          const char *reason, const char *cause,
                          const char *related, struct life_result *r)
{
    const char *p[8] = {ch->authority_id, ch->list, ch->iin, reason, ch->on,
                        ch->by, cause, related};
    PGresult *res = run(c, leave_sql, 8, p);
    if (!res)
        return LIFE_DB;
    enum life_rc rc = LIFE_NOT_FOUND;
    if (PQntuples(res) == 1) {
        snprintf(r->application_id, sizeof(r->application_id), "%s",
                 PQgetvalue(res, 0, LEAVE_APP));
        place(&r->from, ch->authority_id, ch->list,
              PQgetvalue(res, 0, LEAVE_NUMBER),
              PQgetvalue(res, 0, LEAVE_POSITION));
        snprintf(r->change_id, sizeof(r->change_id), "qc-%s",
                 PQgetvalue(res, 0, LEAVE_CHANGE));
        rc = LIFE_OK;
    }
    PQclear(res);
    return rc;
}

/* Puts the application into (authority, list) ordered by seq
 * (queue_enter), noting where it came from. */
static enum life_rc enter(PGconn *c, const struct life_change *ch,
                          const char *authority, const char *list,
                          const char *seq, const char *cause,
                          struct life_result *r)
{
    char from[256];
    snprintf(from, sizeof(from),
             "{\"authority_id\":\"%s\",\"list\":\"%s\",\"number\":%lld}",
             r->from.authority_id, r->from.list, r->from.number);
    const char *p[7] = {authority, list, r->application_id, ch->iin, seq,
                        cause, from};
    PGresult *res = run(c, enter_sql, 7, p);
    if (!res)
        return LIFE_DB;
    place(&r->to, authority, list, PQgetvalue(res, 0, ENTER_NUMBER),
          PQgetvalue(res, 0, ENTER_POSITION));
    r->to.seq = strtoull(seq, NULL, 10);
    snprintf(r->change_id, sizeof(r->change_id), "qc-%s",
             PQgetvalue(res, 0, ENTER_CHANGE));
    PQclear(res);
    return LIFE_OK;
}

/* ---- the transparency log (tlog.h) -------------------------------- */

/* The entry r->from left: its secret (hex) and order; secret is empty
 * when the entry predates the log (never appended: no leaf leaves). */
static enum life_rc left_entry(PGconn *c, const struct life_result *r,
                               char *secret, uint64_t *seq)
{
    char number[24];
    snprintf(number, sizeof(number), "%lld", r->from.number);
    const char *p[4] = {r->application_id, r->from.authority_id,
                        r->from.list, number};
    PGresult *res = run(c, "SELECT encode(tlog_secret, 'hex'), accepted_seq"
                        " FROM queue_entry WHERE application_id = $1"
                        " AND authority_id = $2 AND list = $3 AND number"
                        " = $4::bigint AND tlog_index IS NOT NULL", 4, p);
    if (!res)
        return LIFE_DB;
    secret[0] = '\0';
    if (PQntuples(res) == 1) {
        snprintf(secret, 2 * TLOG_SECRET + 1, "%s", PQgetvalue(res, 0, 0));
        *seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return LIFE_OK;
}

/* The leaf of pl (event, cause, reason or NULL) on ch->on, committed to
 * ch->iin under secret (hex). */
static bool leaf_add(tlog_writer_t *w, const struct life_change *ch,
                     const struct life_place *pl, uint64_t seq,
                     const char *event, const char *cause,
                     const char *reason, const char *secret,
                     uint64_t *index)
{
    struct tlog_leaf l = {.number = (uint64_t)pl->number, .seq = seq,
                          .has_reason = reason != NULL};
    uint8_t key[TLOG_SECRET];
    if (sodium_hex2bin(key, sizeof(key), secret, strlen(secret), NULL, NULL,
                       NULL) != 0)
        return false;
    snprintf(l.authority_id, sizeof(l.authority_id), "%s", pl->authority_id);
    snprintf(l.list, sizeof(l.list), "%s", pl->list);
    snprintf(l.event, sizeof(l.event), "%s", event);
    snprintf(l.cause, sizeof(l.cause), "%s", cause);
    snprintf(l.reason, sizeof(l.reason), "%s", reason ? reason : "");
    snprintf(l.date, sizeof(l.date), "%s", ch->on);
    tlog_commit_iin(key, ch->iin, l.commitment);
    sodium_memzero(key, sizeof(key));
    return tlog_add(w, &l, index);
}

/* The leaves of r in the locked trees of w: the entry leaving r->from
 * (when it was in the log) and, for a move, coming into r->to — which
 * keeps the secret (a fresh one for an entry from before the log) and
 * notes its leaf; then written with the heads. */
static enum life_rc log_leaves(PGconn *c, tlog_writer_t *w,
                               const struct life_change *ch,
                               const char *cause, const char *reason,
                               bool moved, struct life_result *r)
{
    char secret[2 * TLOG_SECRET + 1];
    uint64_t seq = 0, index;
    if (left_entry(c, r, secret, &seq) != LIFE_OK)
        return LIFE_DB;
    if (secret[0] && !leaf_add(w, ch, &r->from, seq, "removed", cause,
                               reason, secret, &index))
        return LIFE_DB;
    if (moved) {
        if (!secret[0]) {
            uint8_t fresh[TLOG_SECRET];
            randombytes_buf(fresh, sizeof(fresh));
            sodium_bin2hex(secret, sizeof(secret), fresh, sizeof(fresh));
        }
        char number[24], leaf[24];
        if (!leaf_add(w, ch, &r->to, r->to.seq, "registered", cause, NULL,
                      secret, &index))
            return LIFE_DB;
        snprintf(number, sizeof(number), "%lld", r->to.number);
        snprintf(leaf, sizeof(leaf), "%llu", (unsigned long long)index);
        const char *p[5] = {secret, leaf, r->to.authority_id, r->to.list,
                            number};
        PGresult *res = run(c, "UPDATE queue_entry SET tlog_secret ="
                            " decode($1, 'hex'), tlog_index = $2::bigint"
                            " WHERE authority_id = $3 AND list = $4"
                            " AND number = $5::bigint AND status = 'active'",
                            5, p);
        bool ok = res && strcmp(PQcmdTuples(res), "1") == 0;
        PQclear(res);
        if (!ok)
            return LIFE_DB;
    }
    sodium_memzero(secret, sizeof(secret));
    return tlog_write(w, c, ch->keys) ? LIFE_OK : LIFE_DB;
}

/* Locks the trees of the authorities a and b (b may be NULL). */
static enum life_rc lock_trees(PGconn *c, tlog_writer_t *w, const char *a,
                               const char *b)
{
    const char *ids[2] = {a, b};
    return tlog_lock(w, c, ids, b ? 2 : 1) ? LIFE_OK : LIFE_DB;
}

/* Logs the QueueChanged of r in c's transaction; the logged row (for
 * the bus, after the commit) in *logged. */
static bool log_change(PGconn *c, const struct life_change *ch,
                       const struct life_result *r, const char *change,
                       const char *reason, PGresult **logged)
{
    Kezek__QueueChanged q = KEZEK__QUEUE_CHANGED__INIT;
    q.change_id = (char *)r->change_id;
    q.application_id = (char *)r->application_id;
    q.change = (char *)change;
    q.reason = (char *)reason;
    q.authority_id = (char *)r->from.authority_id;
    q.list = (char *)r->from.list;
    q.number = (uint64_t)r->from.number;
    q.last_position = (uint64_t)r->from.position;
    q.on = (char *)ch->on;
    q.by = (char *)ch->by;
    q.applicant_iin = (char *)ch->iin;
    q.to_authority_id = (char *)r->to.authority_id;
    q.to_list = (char *)r->to.list;
    q.to_number = (uint64_t)r->to.number;
    q.to_position = (uint64_t)r->to.position;
    q.changed_at_us = now_us();
    size_t len = kezek__queue_changed__get_packed_size(&q);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return false;
    kezek__queue_changed__pack(&q, buf);
    char id[33], type_s[8], ver_s[8], at_s[24];
    event_new_id(id);
    snprintf(type_s, sizeof(type_s), "%d", KEZEK__EVENT_TYPE__QUEUE_CHANGED);
    snprintf(ver_s, sizeof(ver_s), "%d", KEZEK_SCHEMA_VERSION);
    snprintf(at_s, sizeof(at_s), "%lld", (long long)q.changed_at_us);
    const char *p[7] = {id, type_s, r->application_id, ch->producer, ver_s,
                        at_s, (const char *)buf};
    int lens[7] = {0, 0, 0, 0, 0, 0, (int)len};
    int fmts[7] = {0, 0, 0, 0, 0, 0, 1};
    *logged = PQexecParams(c, log_sql, 7, NULL, p, lens, fmts, 1);
    free(buf);
    if (!pg_check(*logged)) {
        PQclear(*logged);
        *logged = NULL;
        return false;
    }
    return true;
}

/* Commits and publishes the logged event (this process's bus, if it
 * has one; consumers read event_log anyway). */
static enum life_rc commit(PGconn *c, struct life_result *r,
                           PGresult *logged)
{
    if (!pg_exec(c, "COMMIT")) {
        PQclear(logged);
        return undo(c, r, LIFE_DB, NULL);
    }
    outbox_publish(NULL, logged);
    PQclear(logged);
    return LIFE_OK;
}

enum life_rc life_remove(PGconn *c, const struct life_change *ch,
                         struct life_result *r)
{
    memset(r, 0, sizeof(*r));
    PGresult *logged = NULL;
    tlog_writer_t *w = tlog_writer_new();
    if (!w || !ch->keys) {
        tlog_writer_destroy(&w);
        snprintf(r->why, sizeof(r->why), "the transparency log cannot be "
                 "written (no memory or no signing keys)");
        return LIFE_DB;
    }
    if (!tlog_prepare(c) || !pg_exec(c, "BEGIN")) {
        tlog_writer_destroy(&w);
        return undo(c, r, LIFE_DB, NULL);
    }
    /* the list (locked by queue_leave), the tree, the event log */
    enum life_rc rc = leave(c, ch, ch->reason, "removal", NULL, r);
    if (rc == LIFE_OK)
        rc = lock_trees(c, w, ch->authority_id, NULL);
    if (rc == LIFE_OK)
        rc = log_leaves(c, w, ch, "removal", ch->reason, false, r);
    tlog_writer_destroy(&w);
    if (rc != LIFE_OK)
        return undo(c, r, rc, NULL);
    if (!log_change(c, ch, r, "removed", ch->reason, &logged))
        return undo(c, r, LIFE_DB, NULL);
    return commit(c, r, logged);
}

bool life_category_valid(json_t *cat, char *why, size_t len)
{
    const char *category = json_string_value(json_object_get(cat,
                                                             "category"));
    json_t *group = json_object_get(cat, "vulnerable_group");
    json_t *kind = json_object_get(cat, "public_sector_kind");
    json_t *docs = json_object_get(cat, "documents");
    const char *bad = NULL;
    if (!json_is_object(cat) || !queue_list_known(category))
        bad = "category: wwii, vulnerable, public_sector or "
              "emergency_dwelling";
    else if (strcmp(category, "vulnerable") == 0
                 ? !json_is_integer(group) ||
                       json_integer_value(group) < 1 ||
                       json_integer_value(group) > 12
                 : group != NULL)
        bad = "vulnerable_group: 1–12 with category vulnerable only";
    else if (strcmp(category, "public_sector") == 0
                 ? !queue_in_set(json_string_value(kind),
                                 public_sector_kinds)
                 : kind != NULL)
        bad = "public_sector_kind: civil_servant, budget_employee, "
              "military, cosmonaut or elected, with public_sector only";
    else if (docs && (!json_is_array(docs) || json_array_size(docs) > 20))
        bad = "documents: an array of at most 20";
    for (size_t i = 0; !bad && i < json_array_size(docs); i++) {
        json_t *d = json_array_get(docs, i);
        const char *sha = json_string_value(json_object_get(d, "sha256"));
        json_t *pages = json_object_get(d, "pages");
        json_t *sha_v = json_object_get(d, "sha256");
        bool hex = !sha_v || (sha && strlen(sha) == 64 &&
                              strspn(sha, "0123456789abcdef") == 64);
        if (!queue_in_set(json_string_value(json_object_get(d, "code")),
                          application_documents) || !hex ||
            (pages && (!json_is_integer(pages) ||
                       json_integer_value(pages) < 1 ||
                       json_integer_value(pages) > 1000)))
            bad = "documents: each {code of p.11, sha256 (64 lowercase "
                  "hex, optional), pages 1–1000}";
    }
    if (bad)
        snprintf(why, len, "%s", bad);
    return bad == NULL;
}

/* The application body as it would be with the change: the category
 * fields of cat (list change) or the new settlement and authority
 * (transfer). New reference. */
static json_t *changed_body(const char *text, json_t *cat,
                            const char *settlement, const char *authority)
{
    json_t *body = json_loads(text, 0, NULL);
    if (!body)
        return NULL;
    if (cat) {
        json_object_del(body, "vulnerable_group");
        json_object_del(body, "public_sector_kind");
        const char *keys[3] = {"category", "vulnerable_group",
                               "public_sector_kind"};
        for (int i = 0; i < 3; i++)
            if (json_object_get(cat, keys[i]))
                json_object_set(body, keys[i], json_object_get(cat,
                                                               keys[i]));
        json_t *docs = json_object_get(body, "documents");
        if (!json_is_array(docs)) {
            docs = json_array();
            json_object_set_new(body, "documents", docs);
        }
        json_array_extend(docs, json_object_get(cat, "documents")
                                    ? json_object_get(cat, "documents")
                                    : json_array());
    }
    if (settlement) {
        json_object_set_new(body, "settlement_id", json_string(settlement));
        json_object_set_new(body, "authority_id", json_string(authority));
    }
    return body;
}

/* Reads the entry of ch (entry_sql) into *res and decides the changed
 * application (changed_body) by the rules as of ch->on into r->d.
 * LIFE_OK when it would be registered. */
static enum life_rc decide_move(PGconn *c, const struct life_change *ch,
                                const char *settlement,
                                const char *authority, PGresult **res,
                                struct life_result *r)
{
    kdate_t on;
    if (!kdate_parse(ch->on, &on))
        return LIFE_CONFLICT;
    char year[8];
    snprintf(year, sizeof(year), "%d", on.year);
    const char *p[4] = {ch->authority_id, ch->list, ch->iin, year};
    *res = run(c, entry_sql, 4, p);
    if (!*res)
        return LIFE_DB;
    if (PQntuples(*res) != 1)
        return LIFE_NOT_FOUND;
    json_t *body = changed_body(PQgetvalue(*res, 0, ENTRY_BODY),
                                ch->category, settlement, authority);
    json_t *facts = json_loads(PQgetvalue(*res, 0, ENTRY_FACTS), 0, NULL);
    if (!body || !facts) {
        json_decref(body);
        json_decref(facts);
        snprintf(r->why, sizeof(r->why), "the stored application or the "
                 "registry facts could not be read");
        return LIFE_CONFLICT;
    }
    elig_decide(body, facts, ch->on, &r->d);
    json_decref(r->d.used);
    r->d.used = NULL;
    json_decref(body);
    json_decref(facts);
    return r->d.outcome == ELIG_REGISTERED ? LIFE_OK : LIFE_NOT_QUALIFIED;
}

/* Whether iin holds a place in (authority, list) already: 1 yes, 0 no,
 * -1 the query failed. */
static int holds_place(PGconn *c, const char *authority, const char *list,
                       const char *iin)
{
    const char *p[3] = {authority, list, iin};
    PGresult *res = run(c, "SELECT 1 FROM queue_entry WHERE authority_id"
                        " = $1 AND list = $2 AND applicant_iin = $3"
                        " AND status = 'active'", 3, p);
    int n = res ? PQntuples(res) > 0 : -1;
    PQclear(res);
    return n;
}

/* The part of a move both kinds share, in c's open transaction: lock
 * both lists, check, decide, then (take_seq: the transfer's order, the
 * seq its event will get, under the event log's lock) leave and enter,
 * and log. */
static enum life_rc move_in(PGconn *c, tlog_writer_t *w,
                            const struct life_change *ch,
                            const char *to_authority, const char *to_list,
                            const char *settlement, bool take_seq,
                            const char *reason, const char *cause,
                            const char *change, struct life_result *r)
{
    const char *lp[4] = {ch->authority_id, ch->list, to_authority, to_list};
    PGresult *res = run(c, lock_sql, 4, lp);
    PQclear(res);
    if (!res || lock_trees(c, w, ch->authority_id, to_authority) != LIFE_OK)
        return LIFE_DB;
    int held = holds_place(c, to_authority, to_list, ch->iin);
    if (held < 0)
        return LIFE_DB;
    if (held > 0) {
        snprintf(r->why, sizeof(r->why), "the person already holds a place "
                 "in %s/%s", to_authority, to_list);
        return LIFE_CONFLICT;
    }
    PGresult *entry = NULL;
    enum life_rc rc = decide_move(c, ch, settlement, to_authority, &entry,
                                  r);
    char seq[24];
    snprintf(seq, sizeof(seq), "%s",
             rc == LIFE_OK ? PQgetvalue(entry, 0, ENTRY_SEQ) : "");
    PQclear(entry);
    if (rc != LIFE_OK)
        return rc;
    if (take_seq) {
        PGresult *h = run(c, "SELECT seq + 1 FROM event_log_head"
                             " FOR UPDATE", 0, NULL);
        if (!h || PQntuples(h) != 1) {
            PQclear(h);
            return LIFE_DB;
        }
        snprintf(seq, sizeof(seq), "%s", PQgetvalue(h, 0, 0));
        PQclear(h);
    }
    char related[160];
    snprintf(related, sizeof(related),
             "{\"authority_id\":\"%s\",\"list\":\"%s\"}", to_authority,
             to_list);
    rc = leave(c, ch, reason, cause, related, r);
    if (rc == LIFE_OK)
        rc = enter(c, ch, to_authority, to_list, seq, cause, r);
    if (rc == LIFE_OK)
        rc = log_leaves(c, w, ch, cause, reason, true, r);
    PGresult *logged = NULL;
    if (rc == LIFE_OK && !log_change(c, ch, r, change, reason, &logged))
        rc = LIFE_DB;
    if (rc != LIFE_OK) {
        PQclear(logged);
        return rc;
    }
    return commit(c, r, logged);
}

/* move_in with the transparency log's writer of the move. */
static enum life_rc move(PGconn *c, const struct life_change *ch,
                         const char *to_authority, const char *to_list,
                         const char *settlement, bool take_seq,
                         const char *reason, const char *cause,
                         const char *change, struct life_result *r)
{
    tlog_writer_t *w = ch->keys ? tlog_writer_new() : NULL;
    if (!w) {
        snprintf(r->why, sizeof(r->why), "the transparency log cannot be "
                 "written (no memory or no signing keys)");
        return LIFE_DB;
    }
    enum life_rc rc = move_in(c, w, ch, to_authority, to_list, settlement,
                              take_seq, reason, cause, change, r);
    tlog_writer_destroy(&w);
    return rc;
}

enum life_rc life_change_list(PGconn *c, const struct life_change *ch,
                              struct life_result *r)
{
    memset(r, 0, sizeof(*r));
    const char *to_list = json_string_value(json_object_get(ch->category,
                                                            "category"));
    if (!to_list || strcmp(to_list, ch->list) == 0) {
        snprintf(r->why, sizeof(r->why), "the entry is in that list "
                 "already");
        return LIFE_CONFLICT;
    }
    if (!tlog_prepare(c) || !pg_exec(c, "BEGIN"))
        return undo(c, r, LIFE_DB, NULL);
    /* the place counts from the original acceptance: its seq */
    enum life_rc rc = move(c, ch, ch->authority_id, to_list, NULL, false,
                           "category_changed", "list_change",
                           "list_changed", r);
    return rc == LIFE_OK ? rc : undo(c, r, rc, r->why[0] ? r->why : NULL);
}

enum life_rc life_transfer(PGconn *c, const struct life_change *ch,
                           struct life_result *r)
{
    memset(r, 0, sizeof(*r));
    const char *p[1] = {ch->to_settlement_id};
    PGresult *s = run(c, "SELECT authority_id FROM settlement WHERE id = $1",
                      1, p);
    if (!s)
        return undo(c, r, LIFE_DB, NULL);
    char to[64] = "";
    if (PQntuples(s) == 1)
        snprintf(to, sizeof(to), "%s", PQgetvalue(s, 0, 0));
    PQclear(s);
    if (!to[0] || strcmp(to, ch->authority_id) == 0) {
        snprintf(r->why, sizeof(r->why), "%s", to[0]
                 ? "that settlement belongs to the same authority: its "
                   "lists do not change"
                 : "no such settlement");
        return LIFE_CONFLICT;
    }
    if (!tlog_prepare(c) || !pg_exec(c, "BEGIN"))
        return undo(c, r, LIFE_DB, NULL);
    enum life_rc rc = move(c, ch, to, ch->list, ch->to_settlement_id, true,
                           "moved", "transfer", "transferred", r);
    return rc == LIFE_OK ? rc : undo(c, r, rc, r->why[0] ? r->why : NULL);
}

/* ---- re-verification --------------------------------------------- */

/* A batch of active entries after $3 (application id) in id order, of
 * authority $1 and list $2 ('' for all), with their applications and
 * the registries' facts as of the year $4. Both sides of the join start
 * at the cursor: the merge join the planner takes read the applications
 * from the first id on every batch otherwise (quadratic: a million
 * entries took hours). */
static const char batch_sql[] =
    "SELECT e.application_id, e.authority_id, e.list, a.body::text, "
    REGISTRY_FACTS("e.applicant_iin", "$4::int", BODY_FAMILY("a.body"))
    "::text FROM queue_entry e JOIN application a"
    " ON a.id = e.application_id WHERE e.status = 'active'"
    " AND ($1 = '' OR e.authority_id = $1) AND ($2 = '' OR e.list = $2)"
    " AND e.application_id > $3 AND a.id > $3"
    " ORDER BY e.application_id LIMIT $5";
enum { BATCH_APP, BATCH_AUTHORITY, BATCH_LIST, BATCH_BODY, BATCH_FACTS };

/* The flags of a batch ($2: [{a, au, l, o, r, rr}]) of run $1, and the
 * flags of those who qualify again ($3: [id…]) cleared. */
static const char flags_sql[] =
    "WITH f AS (INSERT INTO queue_reverify_flag AS q (application_id,"
    " authority_id, list, run_id, outcome, reasons, review_reason)"
    " SELECT v.a, v.au, v.l, $1::bigint, v.o, v.r, v.rr"
    " FROM jsonb_to_recordset($2::jsonb) AS v (a text, au text, l text,"
    " o text, r jsonb, rr text) ON CONFLICT (application_id) DO UPDATE SET"
    " authority_id = excluded.authority_id, list = excluded.list,"
    " run_id = excluded.run_id, outcome = excluded.outcome,"
    " reasons = excluded.reasons, review_reason = excluded.review_reason,"
    " flagged_at = now(), resolved_at = NULL, resolved_by = NULL,"
    " resolution = NULL, note = NULL)" /* run whatever the rest reads */
    " UPDATE queue_reverify_flag SET resolved_at = now(), resolved_by = $4,"
    " resolution = 'qualifies' WHERE resolved_at IS NULL"
    " AND application_id IN (SELECT jsonb_array_elements_text($3::jsonb))";

/* Counts one finding of authority under reason in the report. */
static void tally(json_t *by, const char *authority, const char *reason)
{
    json_t *a = json_object_get(by, authority);
    if (!a) {
        a = json_object();
        json_object_set_new(by, authority, a);
    }
    json_object_set_new(a, reason, json_integer(
        json_integer_value(json_object_get(a, reason)) + 1));
}

/* Decides row i of a batch and adds it to flags or ok. */
static void reverify_row(const PGresult *b, int i, const char *as_of,
                         json_t *flags, json_t *ok,
                         struct reverify_report *rep)
{
    const char *app = PQgetvalue(b, i, BATCH_APP),
               *authority = PQgetvalue(b, i, BATCH_AUTHORITY);
    json_t *body = json_loads(PQgetvalue(b, i, BATCH_BODY), 0, NULL);
    json_t *facts = json_loads(PQgetvalue(b, i, BATCH_FACTS), 0, NULL);
    struct elig_decision d = {.outcome = ELIG_REVIEW,
                              .review_reason = "application_unreadable"};
    if (body && facts)
        elig_decide(body, facts, as_of, &d);
    json_decref(d.used);
    json_decref(body);
    json_decref(facts);
    rep->checked++;
    if (d.outcome == ELIG_REGISTERED) {
        json_array_append_new(ok, json_string(app));
        return;
    }
    rep->flagged++;
    json_t *reasons = json_array();
    for (int k = 0; k < d.nreasons; k++) {
        json_array_append_new(reasons, json_string(d.reasons[k]));
        tally(rep->by_authority, authority, d.reasons[k]);
    }
    if (d.outcome == ELIG_REVIEW) {
        char r[96];
        snprintf(r, sizeof(r), "review:%s",
                 d.review_reason ? d.review_reason : "");
        tally(rep->by_authority, authority, r);
    }
    json_array_append_new(flags, json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:s?}", "a", app, "au", authority, "l",
        PQgetvalue(b, i, BATCH_LIST), "o", elig_outcome_str(d.outcome), "r",
        reasons, "rr",
        d.outcome == ELIG_REVIEW ? d.review_reason : NULL));
}

/* Writes a batch's flags and clears; false when Postgres failed. */
static bool reverify_write(PGconn *c, const char *run_id, json_t *flags,
                           json_t *ok, const char *by,
                           struct reverify_report *rep)
{
    char *fs = json_dumps(flags, JSON_COMPACT);
    char *os = json_dumps(ok, JSON_COMPACT);
    const char *p[4] = {run_id, fs, os, by};
    PGresult *w = fs && os ? run(c, flags_sql, 4, p) : NULL;
    if (w)
        rep->cleared += atoll(PQcmdTuples(w));
    PQclear(w);
    free(fs);
    free(os);
    return w != NULL;
}

/* Ends run: its counts per authority and reason, and its totals. */
static bool reverify_finish(PGconn *c, const char *run_id,
                            const struct reverify_report *rep)
{
    char *by = json_dumps(rep->by_authority, JSON_COMPACT);
    char checked[24], flagged[24];
    snprintf(checked, sizeof(checked), "%lld", rep->checked);
    snprintf(flagged, sizeof(flagged), "%lld", rep->flagged);
    const char *p[4] = {run_id, by, checked, flagged};
    PGresult *w = by ? run(c,
        "WITH c AS (INSERT INTO queue_reverify_count (run_id, authority_id,"
        " reason, n) SELECT $1::bigint, a.key, r.key, r.value::bigint"
        " FROM jsonb_each($2::jsonb) a, jsonb_each_text(a.value) r)"
        " UPDATE queue_reverify_run SET finished_at = now(),"
        " checked = $3::bigint, flagged = $4::bigint"
        " WHERE id = $1::bigint", 4, p)
                         : NULL;
    PQclear(w);
    free(by);
    return w != NULL;
}

bool life_reverify(PGconn *c, const char *authority, const char *list,
                   const char *as_of, const char *by, int batch,
                   struct reverify_report *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof(*rep));
    rep->by_authority = json_object();
    kdate_t d;
    if (!kdate_parse(as_of, &d) || batch < 1) {
        snprintf(err, errlen, "as_of: YYYY-MM-DD; batch at least 1");
        return false;
    }
    const char *rp[4] = {authority ? authority : "", list ? list : "",
                         as_of, by};
    PGresult *r = run(c, "INSERT INTO queue_reverify_run (authority_id,"
                      " list, as_of, by) VALUES (nullif($1, ''),"
                      " nullif($2, ''), $3::date, $4) RETURNING id", 4, rp);
    if (!r) {
        snprintf(err, errlen, "database: %s", pg_last_error());
        return false;
    }
    char run_id[24], year[8], after[80] = "", lim[16];
    snprintf(run_id, sizeof(run_id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    rep->run_id = atoll(run_id);
    snprintf(year, sizeof(year), "%d", d.year);
    snprintf(lim, sizeof(lim), "%d", batch);
    for (;;) {
        const char *bp[5] = {rp[0], rp[1], after, year, lim};
        PGresult *b = run(c, batch_sql, 5, bp);
        if (!b)
            break;
        int n = PQntuples(b);
        json_t *flags = json_array(), *ok = json_array();
        for (int i = 0; i < n; i++)
            reverify_row(b, i, as_of, flags, ok, rep);
        if (n)
            snprintf(after, sizeof(after), "%s",
                     PQgetvalue(b, n - 1, BATCH_APP));
        PQclear(b);
        bool written = reverify_write(c, run_id, flags, ok, by, rep);
        json_decref(flags);
        json_decref(ok);
        if (!written)
            break;
        if (n < batch) {
            if (reverify_finish(c, run_id, rep))
                return true;
            break;
        }
    }
    snprintf(err, errlen, "database: %s", pg_last_error());
    return false;
}
