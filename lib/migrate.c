#include "migrate.h"

#include "log.h"
#include "pg.h"

#include <stdio.h>

/* Applies each migration once, in order, each in its own transaction,
 * under an advisory lock so that concurrent migrators serialize. */
bool pg_migrate(PGconn *conn, char *err, size_t errlen)
{
    if (!pg_exec(conn, "SELECT pg_advisory_lock(7405001)") ||
        !pg_exec(conn, "CREATE TABLE IF NOT EXISTS schema_migration ("
                       " name text PRIMARY KEY,"
                       " applied_at timestamptz NOT NULL DEFAULT now())")) {
        snprintf(err, errlen, "migrate: %s", PQerrorMessage(conn));
        return false;
    }
    bool ok = true;
    for (const struct migration *m = kezek_migrations; m->name; m++) {
        const char *p[1] = {m->name};
        PGresult *r = PQexecParams(conn,
            "SELECT 1 FROM schema_migration WHERE name = $1", 1, NULL, p,
            NULL, NULL, 0);
        bool done = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r);
        PQclear(r);
        if (done)
            continue;
        if (!pg_exec(conn, "BEGIN") || !pg_exec(conn, m->sql)) {
            snprintf(err, errlen, "migration %s failed: %s", m->name,
                     PQerrorMessage(conn));
            if (!pg_exec(conn, "ROLLBACK"))
                log_error("migrate.rollback", "rollback failed");
            ok = false;
            break;
        }
        r = PQexecParams(conn,
            "INSERT INTO schema_migration (name) VALUES ($1)", 1, NULL, p,
            NULL, NULL, 0);
        bool ins = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ins || !pg_exec(conn, "COMMIT")) {
            snprintf(err, errlen, "migration %s: %s", m->name,
                     PQerrorMessage(conn));
            ok = false;
            break;
        }
        log_info("migrate.applied", "applied %s", m->name);
    }
    if (!pg_exec(conn, "SELECT pg_advisory_unlock(7405001)"))
        ok = false;
    return ok;
}
