/* kezek-intake: the reference data (appendices 1, 2, 5) and the
 * notices' public keys — public, no token. */
#include "intake.h"

#include <stdio.h>
#include <string.h>

/* GET /v1/reference/… — route data: the statement and the reply's key */
void intake_get_reference(void *ctx, const http_req_t *req,
                          http_resp_t *resp)
{
    service_t *svc = ctx;
    const struct intake_reference *ref = req->route_data;
    char err[256];
    PGconn *c = pgpool_acquire(svc->pool, err, sizeof(err));
    PGresult *r = c ? pg_run(c, ref->stmt, 0, NULL) : NULL;
    if (!r) {
        http_reply_error(resp, 503, "unavailable", "database unavailable",
                         NULL);
    } else if (strcmp(ref->stmt, "ref_authorities") == 0) {
        json_t *regions = json_array();
        for (int i = 0; i < PQntuples(r); i++) {
            json_t *reg = json_loads(PQgetvalue(r, i, REF_REGION_DOC), 0,
                                     NULL);
            json_object_set_new(reg, "authorities",
                                json_loads(PQgetvalue(r, i,
                                                      REF_REGION_AUTHORITIES),
                                           0, NULL));
            json_array_append_new(regions, reg);
        }
        http_reply_json(resp, 200, json_pack("{s:o}", "regions", regions));
    } else {
        http_reply_json(resp, 200, json_pack("{s:o}", ref->name,
                        json_loads(PQgetvalue(r, 0, REF_DOCS), 0, NULL)));
    }
    PQclear(r);
    if (c)
        pgpool_release(svc->pool, c);
}
