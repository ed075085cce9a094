/* notice — the result documents of p.5 / p.15 and their Ed25519
 * signatures over the RFC 8785 (JCS) canonical form.
 *
 * Documents hold only ASCII keys, strings, integers, booleans, null,
 * arrays and objects; for those, jansson's compact output with sorted
 * keys is the JCS form. */
#ifndef KEZEK_NOTICE_H
#define KEZEK_NOTICE_H

#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct signer {
    char key_id[64];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
};

/* Reads a key file written by kezek keys generate. */
bool signer_load(struct signer *s, const char *path, char *err,
                 size_t errlen) __attribute__((warn_unused_result));
/* Generates a key pair and writes it to path with mode 0600; pk_b64
 * (at least 64 bytes) gets the public key. */
bool signer_generate(const char *path, const char *key_id, char *pk_b64,
                     char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The canonical UTF-8 form (caller frees), NULL on failure. */
char *notice_canonical(json_t *doc);
/* Base64 signature of canonical into sig_b64 (at least 100 bytes). */
void notice_sign(const struct signer *s, const char *canonical,
                 char *sig_b64);
/* True when sig_b64 is pk_b64's signature of doc's canonical form. */
bool notice_verify(json_t *doc, const char *sig_b64, const char *pk_b64);

/* The notice texts: one template per kind and language, read from
 * data files (templates/), never from C literals. */
enum notice_kind { NOTICE_REGISTRATION, NOTICE_REFUSAL, NOTICE_ACCEPTANCE,
                   NOTICE_COMPLAINT_TICKET, NOTICE_COMPLAINT_ANSWER,
                   NOTICE_WITHDRAWAL, NOTICE_REMOVAL, NOTICE_LIST_CHANGE,
                   NOTICE_TRANSFER, NOTICE_KINDS };

struct notice_templates {
    char *text[NOTICE_KINDS][2]; /* [kind][0 = kk, 1 = ru] */
    json_t *lists;               /* {"kk": {list: name}, "ru": {…},
                                    "removal_reasons": {"kk": {…}, …}} */
};

/* Loads every template of dir; false with err naming the file at
 * fault (missing, unreadable, unknown placeholder). */
bool notice_templates_load(struct notice_templates *t, const char *dir,
                           char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The same for a set that covers some kinds only (the SMS texts,
 * templates/sms): a kind without its two files has none (NULL). */
bool notice_templates_load_some(struct notice_templates *t,
                                const char *dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void notice_templates_free(struct notice_templates *t);
const char *notice_kind_name(enum notice_kind k);
/* The kind named name, or NOTICE_KINDS. */
enum notice_kind notice_kind_of(const char *name);
/* Fills tmpl's {{name}} from vars (strings; an unknown name stays as
 * written); the caller frees. NULL when out of memory. */
char *notice_render(const char *tmpl, json_t *vars);

/* p.5: the registration notice with the number and position. */
json_t *notice_registration(const struct notice_templates *t,
                            const char *application_id, const char *iin,
                            const char *authority_id,
                            const char *authority_name, const char *list,
                            uint64_t number, uint64_t position,
                            int64_t at_us);
/* p.5, p.16: the reasoned refusal, every reason with its paragraph. */
json_t *notice_refusal(const struct notice_templates *t,
                       const char *application_id, const char *iin,
                       const char *authority_id, const char *authority_name,
                       const char *const *codes, size_t ncodes,
                       int64_t at_us);
/* p.14, second part: the portal's acceptance report. */
json_t *notice_acceptance(const struct notice_templates *t,
                          const char *application_id, const char *iin,
                          const char *authority_id,
                          const char *authority_name,
                          int64_t accepted_at_us, const char *result_due);

/* p.25 / p.20: the complaint's ticket or its answer, in the cabinet;
 * fields is the ticket (number, answer_due, answer_place, …) or the
 * answer (number, answer_text). */
json_t *notice_complaint(const struct notice_templates *t,
                         enum notice_kind kind, const char *iin,
                         const char *authority_id, json_t *fields,
                         int64_t at_us);

/* The withdrawal of an application before its decision (issue 22). */
json_t *notice_withdrawal(const struct notice_templates *t,
                          const char *application_id, const char *iin,
                          const char *authority_id,
                          const char *authority_name, int64_t at_us);

/* A change of the citizen's place after registration (issue 22): the
 * entry left its list (change "removed"), moved to another list
 * ("list_changed") or to another authority ("transferred"). */
struct notice_queue_change {
    const char *change_id, *application_id, *iin, *change, *reason, *on;
    const char *authority_id, *authority_name, *list;
    uint64_t number, last_position;
    const char *to_authority_id, *to_authority_name, *to_list;
    uint64_t to_number, to_position;
    int64_t at_us;
};
/* The notice kind of a change (NOTICE_KINDS: unknown change). */
enum notice_kind notice_queue_change_kind(const char *change);
json_t *notice_queue_change(const struct notice_templates *t,
                            const struct notice_queue_change *c);

#endif
