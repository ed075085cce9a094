/* refname — names of reference rows (authorities, centres), cached.
 *
 * Every application names its authority on the receipt and on each
 * notice; the reference data changes only with `kezek import-reference`,
 * so a name is read once and kept for REFNAME_TTL_S seconds (a renamed
 * authority shows within that time). Thread-safe: HTTP threads and the
 * consumer share one cache. */
#ifndef KEZEK_REFNAME_H
#define KEZEK_REFNAME_H

#include "pg.h"

#define REFNAME_TTL_S 300

/* The first column of prepared statement stmt (one parameter: id) into
 * out. 1 when found, 0 when there is no such row (out empty), -1 on SQL
 * error. */
int refname_get(PGconn *conn, const char *stmt, const char *id, char *out,
                size_t len);

#endif
