/* paper — the printed forms: the receipt of p.14, the result documents
 * of p.5 / p.15 (registration notice, reasoned refusal of p.16) and the
 * complaint ticket of p.25, each one A4 page in Kazakh and Russian with
 * a QR code. Pure: no database, no network, no files.
 *
 * Fonts: "DejaVu Sans" through Pango and fontconfig (the package
 * fonts-dejavu-core); dates "YYYY-MM-DD[THH:MM…]" print as
 * "DD.MM.YYYY[ HH:MM]", anything missing or of the wrong type as "—". */
#ifndef KEZEK_PAPER_H
#define KEZEK_PAPER_H

#include <jansson.h>
#include <stddef.h>

enum paper_kind {
    PAPER_RECEIPT,              /* p.14: the receipt of CONTRACT's
                                 * POST /v1/applications reply */
    PAPER_REGISTRATION_NOTICE,  /* p.5, p.15: notice_registration() */
    PAPER_REFUSAL,              /* p.5, p.15, p.16: notice_refusal() */
    PAPER_COMPLAINT_TICKET,     /* p.25: {number, accepted_at,
                                 * documents[{name}], answer_due,
                                 * answer_place, accepted_by,
                                 * contact_official} */
    PAPER_APPLICATION_FORM      /* appendix 3, p.11 item 1: the
                                 * application, blank ({}) or filled
                                 * from the p.14 receipt {number,
                                 * accepted_at, applicant_name,
                                 * representative_name, documents} */
};

/* Renders one A4 page, Kazakh and Russian, laid out like an official
 * form: header with the authority's name (appendix 1), the document
 * title in both languages, document number and date, the fields, a
 * signature block, and a QR code carrying qr_payload (UTF-8 text) at
 * the bottom right. authority_name NULL: the doc's authority_name.
 * Long content is set in a smaller font to stay on one page.
 * Returns malloc'd PDF bytes (*len set; the caller frees), or NULL with
 * err set: unknown kind, empty qr_payload, a payload too long for a
 * printable QR code (more than about 580 bytes), content that does not
 * fit one page even at half size, or a Cairo failure. */
unsigned char *paper_render(enum paper_kind kind, json_t *doc,
                            const char *authority_name,
                            const char *qr_payload, size_t *len,
                            char *err, size_t errlen);

#endif
