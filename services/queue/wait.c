/* The expected wait of a place in a list (issue 24, docs/queue-life.md
 * "Expected wait"): never a promise — an estimate from how many people
 * left the list because they received housing over a window of years
 * (wait_window_years, default 3).
 *
 * Method: those departures are taken as a Poisson process of rate λ a
 * month (the departures over the months observed: the window, or since
 * the list's first registration when it is younger). The time until the
 * p-th departure from now — the person at position p receiving housing —
 * is then Gamma(p, 1/λ); its 10th and 90th percentiles are the range
 * (Wilson–Hilferty). With fewer than 12 months observed or fewer than 5
 * departures the answer is "unknown". A list's figures are read at most
 * every 10 minutes (a cache): they change slowly, and the look-up is the
 * hot path. */
#include "queue.h"

#include "queue_lists.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define WAIT_CACHE 1024
#define WAIT_TTL_S 600

struct wait_fig {
    char key[100];          /* authority/list */
    time_t at;
    long departures;
    double months;          /* observed */
};

static struct wait_fig cache[WAIT_CACHE];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The departures (housing provided) of a list over the window, and the
 * months observed: the window, or since the list's first change. */
static const char figures_sql[] =
    "SELECT count(*) FILTER (WHERE kind = 'removed'"
    " AND reason = 'housing_provided'"
    " AND at >= now() - make_interval(years => $3::int)),"
    " extract(epoch FROM now() - greatest(min(at),"
    " now() - make_interval(years => $3::int))) / (30.4375 * 86400)"
    " FROM queue_change WHERE authority_id = $1 AND list = $2";

/* The figures of (authority, list), from the cache or read; false when
 * they could not be read. */
static bool figures(struct queue *q, const char *authority,
                    const char *list, long years, struct wait_fig *out)
{
    char key[100];
    snprintf(key, sizeof(key), "%s/%s", authority, list);
    unsigned h = 5381;
    for (const char *p = key; *p; p++)
        h = h * 33 + (unsigned char)*p;
    struct wait_fig *slot = &cache[h % WAIT_CACHE];
    time_t now = time(NULL);
    pthread_mutex_lock(&cache_lock);
    bool hit = strcmp(slot->key, key) == 0 && now - slot->at < WAIT_TTL_S;
    if (hit)
        *out = *slot;
    pthread_mutex_unlock(&cache_lock);
    if (hit)
        return true;
    char err[256], y[16];
    snprintf(y, sizeof(y), "%ld", years);
    PGconn *c = pgpool_acquire(q->svc.pool, err, sizeof(err));
    const char *p[3] = {authority, list, y};
    PGresult *r = c ? pg_query(c, figures_sql, 3, p) : NULL;
    if (c)
        pgpool_release(q->svc.pool, c);
    if (!r || PQntuples(r) != 1) {
        PQclear(r);
        return false;
    }
    struct wait_fig f = {.at = now,
                         .departures = atol(PQgetvalue(r, 0, 0)),
                         .months = PQgetisnull(r, 0, 1)
                                       ? 0
                                       : atof(PQgetvalue(r, 0, 1))};
    snprintf(f.key, sizeof(f.key), "%s", key);
    PQclear(r);
    pthread_mutex_lock(&cache_lock);
    *slot = f;
    pthread_mutex_unlock(&cache_lock);
    *out = f;
    return true;
}

json_t *queue_expected_wait(struct queue *q, const char *authority,
                            const char *list, long position)
{
    long years = q->wait_years;
    struct wait_fig f;
    if (!figures(q, authority, list, years, &f))
        return NULL;
    double from, to;
    json_t *basis = json_pack("{s:I, s:I, s:f, s:s}", "window_years",
                              (json_int_t)years, "housing_provided",
                              (json_int_t)f.departures, "months_observed",
                              round(f.months * 10) / 10, "method",
                              "departures with housing provided over the "
                              "window as a Poisson process; the 10th–90th "
                              "percentiles of the time to the position's "
                              "turn (Gamma)");
    if (!queue_wait_range(f.departures, f.months, position, &from, &to))
        return json_pack("{s:s, s:o, s:s, s:s}", "status", "unknown",
            "basis", basis, "note_kk", "Күту уақытын бағалау үшін тарих "
            "жеткіліксіз (кемінде 12 ай және тұрғын үй алған 5 адам "
            "қажет).", "note_ru", "Истории недостаточно для оценки "
            "ожидания (нужно не меньше 12 месяцев и 5 человек, получивших "
            "жильё).");
    return json_pack("{s:s, s:f, s:f, s:o, s:s, s:s}", "status",
        "estimated", "months_from", round(from * 10) / 10, "months_to",
        round(to * 10) / 10, "basis", basis, "note_kk", "Бұл уәде емес, "
        "бағалау: соңғы жылдары тізімнен тұрғын үй алып шыққандардың "
        "санынан есептелген; болашақта тұрғын үй беру қарқыны өзгеруі "
        "мүмкін.", "note_ru", "Это не обещание, а оценка: рассчитана по "
        "числу получивших жильё из этого списка за последние годы; темп "
        "предоставления жилья может измениться.");
}
