/* The paper channel of kezek-notify (p.14, p.15): printable receipt and
 * result as PDF with a QR code, and the journal of hand-overs. */
#ifndef KEZEK_PAPER_API_H
#define KEZEK_PAPER_API_H

#include "http.h"

#include <stddef.h>

/* The handlers; ctx is the struct notify (notify.h). Their SQL is in
 * sql.c. */
void paper_get_receipt(void *ctx, const http_req_t *req, http_resp_t *resp);
void paper_get_notice(void *ctx, const http_req_t *req, http_resp_t *resp);
void paper_get_ticket(void *ctx, const http_req_t *req, http_resp_t *resp);
/* appendix 3: the blank application form (public), and one filled from
 * an application */
void paper_get_blank_form(void *ctx, const http_req_t *req,
                          http_resp_t *resp);
void paper_get_filled_form(void *ctx, const http_req_t *req,
                           http_resp_t *resp);
void paper_post_issuance(void *ctx, const http_req_t *req,
                         http_resp_t *resp);
void paper_get_journal(void *ctx, const http_req_t *req, http_resp_t *resp);

/* The QR payload of a signed notice: "KEZEK1|<id>|<key_id>|<sig>". */
void paper_qr_payload(const char *notice_id, const char *key_id,
                      const char *sig, char *out, size_t len);

#endif
