/* The paper channel of kezek-notify (p.14, p.15): printable receipt and
 * result as PDF with a QR code, and the journal of hand-overs. */
#ifndef KEZEK_PAPER_API_H
#define KEZEK_PAPER_API_H

#include "http.h"
#include "pg.h"

#define PAPER_STMTS                                                      \
    {"paper_access_put", /* set-based (rowbuf.h) */                      \
     "INSERT INTO paper_access (application_id, authority_id, principal," \
     " applicant_iin, channel, receipt) SELECT * FROM unnest($1::text[]," \
     " $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"      \
     " ON CONFLICT DO NOTHING"},                                         \
    {"paper_access_get", /* the receipt as given (p.14): intake's, or */ \
     /* the copy kept here when the event still carried it */           \
     "SELECT p.authority_id, p.principal, p.applicant_iin, p.channel,"   \
     " coalesce(p.receipt, a.receipt::text) FROM paper_access p"         \
     " LEFT JOIN application a ON a.id = p.application_id"               \
     " WHERE p.application_id = $1"},                                    \
    {"receipt_put", /* signed at its first printing (p.14) */            \
     "INSERT INTO notice (id, application_id, applicant_iin, kind,"      \
     " canonical, signature, key_id) VALUES ($1, $2, $3, 'receipt', $4,"  \
     " $5, $6)"                                                          \
     " ON CONFLICT (application_id, kind) DO NOTHING"},                  \
    {"paper_notice",                                                     \
     "SELECT id, canonical, signature, key_id, kind FROM notice"         \
     " WHERE application_id = $1 AND kind = ANY (string_to_array($2,"    \
     " ',')) ORDER BY issued_at DESC LIMIT 1"},                          \
    {"issuance_put",                                                     \
     "INSERT INTO issuance (application_id, notice_id, authority_id,"    \
     " received_by, receiver_name, power_of_attorney, issued_at,"        \
     " recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8)" \
     " ON CONFLICT DO NOTHING"},                                         \
    {"journal",                                                          \
     "SELECT i.application_id, i.notice_id, i.received_by,"             \
     " i.receiver_name, coalesce(i.power_of_attorney, ''),"              \
     " extract(epoch FROM i.issued_at)::bigint, i.recorded_by"           \
     " FROM issuance i WHERE i.authority_id = $1"                        \
     " AND (i.issued_at AT TIME ZONE 'UTC' + interval '5 hours')::date"   \
     " = $2::date"                                                       \
     " ORDER BY i.issued_at, i.application_id"},                         \
    {"awaiting_pickup",                                                  \
     "SELECT count(*) FROM notice n JOIN paper_access a"                 \
     " ON a.application_id = n.application_id"                           \
     " WHERE n.kind IN ('registration_notice', 'refusal')"               \
     " AND a.channel IN ('office', 'centre') AND NOT EXISTS"             \
     " (SELECT 1 FROM issuance i WHERE i.application_id ="               \
     " n.application_id)"}

/* The handlers; ctx is the notify service's service_t. */
void paper_get_receipt(void *ctx, const http_req_t *req, http_resp_t *resp);
void paper_get_notice(void *ctx, const http_req_t *req, http_resp_t *resp);
void paper_get_ticket(void *ctx, const http_req_t *req, http_resp_t *resp);
void paper_post_issuance(void *ctx, const http_req_t *req,
                         http_resp_t *resp);
void paper_get_journal(void *ctx, const http_req_t *req, http_resp_t *resp);

/* Signs canonical with the authority's key (main.c; thread-safe):
 * sig gets the signature, *key_id the key's id. */
void notify_sign(const char *authority, const char *canonical,
                 char sig[128], const char **key_id);

/* The QR payload of a signed notice: "KEZEK1|<id>|<key_id>|<sig>". */
void paper_qr_payload(const char *notice_id, const char *key_id,
                      const char *sig, char *out, size_t len);

#endif
