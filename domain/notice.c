#include "notice.h"

#include "calendar.h"
#include "reasons.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define B64 sodium_base64_VARIANT_ORIGINAL

bool signer_load(struct signer *s, const char *path, char *err,
                 size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        snprintf(err, errlen, "key %s: %s", path, je.text);
        return false;
    }
    const char *id = json_string_value(json_object_get(j, "key_id"));
    const char *sk = json_string_value(json_object_get(j, "secret_key"));
    size_t n = 0;
    bool ok = id && sk && strlen(id) < sizeof(s->key_id) &&
              sodium_base642bin(s->sk, sizeof(s->sk), sk, strlen(sk), NULL,
                                &n, NULL, B64) == 0 &&
              n == sizeof(s->sk);
    if (ok) {
        snprintf(s->key_id, sizeof(s->key_id), "%s", id);
        crypto_sign_ed25519_sk_to_pk(s->pk, s->sk);
    } else {
        snprintf(err, errlen, "key %s: not a Kezek Ed25519 key file", path);
    }
    json_decref(j);
    return ok;
}

bool signer_generate(const char *path, const char *key_id, char *pk_b64,
                     char *err, size_t errlen)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char sk_b64[sodium_base64_ENCODED_LEN(crypto_sign_SECRETKEYBYTES, B64)];
    crypto_sign_keypair(pk, sk);
    sodium_bin2base64(sk_b64, sizeof(sk_b64), sk, sizeof(sk), B64);
    sodium_bin2base64(pk_b64, 64, pk, sizeof(pk), B64);
    sodium_memzero(sk, sizeof(sk));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        sodium_memzero(sk_b64, sizeof(sk_b64));
        return false;
    }
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"key_id\":\"%s\",\"alg\":\"Ed25519\","
                     "\"public_key\":\"%s\",\"secret_key\":\"%s\"}\n",
                     key_id, pk_b64, sk_b64);
    bool ok = n > 0 && write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    sodium_memzero(sk_b64, sizeof(sk_b64));
    sodium_memzero(buf, sizeof(buf));
    if (!ok)
        snprintf(err, errlen, "%s: write failed", path);
    return ok;
}

char *notice_canonical(json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
}

void notice_sign(const struct signer *s, const char *canonical,
                 char *sig_b64)
{
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)canonical,
                         strlen(canonical), s->sk);
    sodium_bin2base64(sig_b64, 100, sig, sizeof(sig), B64);
}

bool notice_verify(json_t *doc, const char *sig_b64, const char *pk_b64)
{
    unsigned char sig[crypto_sign_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
    size_t n1 = 0, n2 = 0;
    if (sodium_base642bin(sig, sizeof(sig), sig_b64, strlen(sig_b64), NULL,
                          &n1, NULL, B64) != 0 || n1 != sizeof(sig) ||
        sodium_base642bin(pk, sizeof(pk), pk_b64, strlen(pk_b64), NULL, &n2,
                          NULL, B64) != 0 || n2 != sizeof(pk))
        return false;
    char *c = notice_canonical(doc);
    if (!c)
        return false;
    bool ok = crypto_sign_verify_detached(sig, (const unsigned char *)c,
                                          strlen(c), pk) == 0;
    free(c);
    return ok;
}

static const char *const kind_names[NOTICE_KINDS] = {
    "registration_notice", "refusal", "acceptance_report",
    "complaint_ticket", "complaint_answer", "withdrawal_notice",
    "removal_notice", "list_change_notice", "transfer_notice"};
static const char *const langs[2] = {"kk", "ru"};
static const char *const placeholders[] = {
    "authority_name", "list_name", "number", "position", "reasons",
    "accepted_at", "result_due", "answer_due", "answer_place",
    "answer_text", "last_position", "reason", "date", "to_authority_name",
    "to_list_name", "to_number", NULL};

const char *notice_kind_name(enum notice_kind k)
{
    return kind_names[k];
}

enum notice_kind notice_kind_of(const char *name)
{
    int k = 0;
    while (k < NOTICE_KINDS && strcmp(kind_names[k], name ? name : "") != 0)
        k++;
    return (enum notice_kind)k;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, '\0', f);
    fclose(f);
    if (n <= 0 || n > 16384) {
        free(buf);
        return NULL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

/* True when every {{name}} of text is a known placeholder. */
static bool placeholders_known(const char *text, char *bad, size_t len)
{
    for (const char *p = strstr(text, "{{"); p; p = strstr(p + 2, "{{")) {
        const char *e = strstr(p, "}}");
        bool ok = false;
        for (int i = 0; e && placeholders[i]; i++)
            ok = ok || ((size_t)(e - p - 2) == strlen(placeholders[i]) &&
                        strncmp(p + 2, placeholders[i],
                                strlen(placeholders[i])) == 0);
        if (!ok) {
            snprintf(bad, len, "%.40s", p);
            return false;
        }
    }
    return true;
}

/* Loads dir's templates; a kind without a file is an error when all,
 * else it has none (NULL). */
static bool templates_load(struct notice_templates *t, const char *dir,
                           bool all, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    char path[1024], bad[64];
    for (int k = 0; k < NOTICE_KINDS; k++) {
        for (int l = 0; l < 2; l++) {
            snprintf(path, sizeof(path), "%s/%s.%s.txt", dir, kind_names[k],
                     langs[l]);
            if (!all && access(path, F_OK) != 0)
                continue;
            t->text[k][l] = read_file(path);
            if (!t->text[k][l]) {
                snprintf(err, errlen, "template %s: missing or unreadable",
                         path);
                notice_templates_free(t);
                return false;
            }
            if (!placeholders_known(t->text[k][l], bad, sizeof(bad))) {
                snprintf(err, errlen, "template %s: unknown placeholder %s",
                         path, bad);
                notice_templates_free(t);
                return false;
            }
        }
        if (!all && (t->text[k][0] == NULL) != (t->text[k][1] == NULL)) {
            snprintf(err, errlen, "templates %s/%s: kk and ru go together",
                     dir, kind_names[k]);
            notice_templates_free(t);
            return false;
        }
    }
    snprintf(path, sizeof(path), "%s/lists.json", dir);
    json_error_t je;
    t->lists = json_load_file(path, 0, &je);
    if (!json_is_object(json_object_get(t->lists, "kk")) ||
        !json_is_object(json_object_get(t->lists, "ru"))) {
        snprintf(err, errlen, "template %s: needs kk and ru objects", path);
        notice_templates_free(t);
        return false;
    }
    return true;
}

bool notice_templates_load(struct notice_templates *t, const char *dir,
                           char *err, size_t errlen)
{
    return templates_load(t, dir, true, err, errlen);
}

bool notice_templates_load_some(struct notice_templates *t,
                                const char *dir, char *err, size_t errlen)
{
    return templates_load(t, dir, false, err, errlen);
}

void notice_templates_free(struct notice_templates *t)
{
    for (int k = 0; k < NOTICE_KINDS; k++)
        for (int l = 0; l < 2; l++)
            free(t->text[k][l]);
    json_decref(t->lists);
    memset(t, 0, sizeof(*t));
}

char *notice_render(const char *tmpl, json_t *vars)
{
    size_t cap = strlen(tmpl) + 1024, n = 0;
    char *out = malloc(cap);
    for (const char *p = tmpl; out && *p;) {
        const char *v = NULL;
        size_t skip = 1;
        if (p[0] == '{' && p[1] == '{') {
            const char *e = strstr(p, "}}");
            if (e) {
                char name[32];
                snprintf(name, sizeof(name), "%.*s", (int)(e - p - 2), p + 2);
                v = json_string_value(json_object_get(vars, name));
                skip = (size_t)(e - p) + 2;
            }
        }
        size_t add = v ? strlen(v) : 1;
        if (n + add + 1 > cap) {
            cap = (n + add + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        if (v) {
            memcpy(out + n, v, add);
            n += add;
            p += skip;
        } else {
            out[n++] = *p++;
        }
    }
    if (out)
        out[n] = '\0';
    return out;
}

/* Adds text_kk and text_ru rendered from kind's templates to doc. */
static void add_texts(const struct notice_templates *t, enum notice_kind k,
                      json_t *doc, json_t *vars_kk, json_t *vars_ru)
{
    json_t *vars[2] = {vars_kk, vars_ru};
    static const char *const keys[2] = {"text_kk", "text_ru"};
    for (int l = 0; l < 2; l++) {
        char *text = notice_render(t->text[k][l], vars[l]);
        json_object_set_new(doc, keys[l], json_string(text ? text : ""));
        free(text);
    }
}

json_t *notice_registration(const struct notice_templates *t,
                            const char *application_id, const char *iin,
                            const char *authority_id,
                            const char *authority_name, const char *list,
                            uint64_t number, uint64_t position,
                            int64_t at_us)
{
    char at[26], num[24], pos[24];
    almaty_timestamp(at_us / 1000000, at);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)number);
    snprintf(pos, sizeof(pos), "%llu", (unsigned long long)position);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                            " s:{s:s, s:I, s:I}}",
        "kind", "registration_notice", "outcome", "registered",
        "application_id", application_id, "applicant_iin", iin,
        "authority_id", authority_id, "authority_name", authority_name,
        "issued_at", at, "paragraph", "5", "queue", "list", list, "number",
        (json_int_t)number, "position_at_issue", (json_int_t)position);
    json_t *v[2];
    for (int l = 0; l < 2; l++) {
        const char *ln = json_string_value(json_object_get(
            json_object_get(t->lists, langs[l]), list));
        v[l] = json_pack("{s:s, s:s, s:s, s:s}", "authority_name",
                         authority_name, "list_name", ln ? ln : list,
                         "number", num, "position", pos);
    }
    add_texts(t, NOTICE_REGISTRATION, doc, v[0], v[1]);
    json_decref(v[0]);
    json_decref(v[1]);
    return doc;
}

json_t *notice_refusal(const struct notice_templates *t,
                       const char *application_id, const char *iin,
                       const char *authority_id, const char *authority_name,
                       const char *const *codes, size_t ncodes,
                       int64_t at_us)
{
    char at[26];
    almaty_timestamp(at_us / 1000000, at);
    json_t *reasons = json_array();
    size_t cap = 4096;
    char *lines[2] = {calloc(1, cap), calloc(1, cap)};
    for (size_t i = 0; i < ncodes; i++) {
        const struct reason *r = reason_find(codes[i]);
        const char *para = r ? r->paragraph : "";
        const char *texts[2] = {r ? r->text_kk : codes[i],
                                r ? r->text_ru : codes[i]};
        json_array_append_new(reasons, json_pack(
            "{s:s, s:s, s:s, s:s}", "code", codes[i], "paragraph", para,
            "text_kk", texts[0], "text_ru", texts[1]));
        for (int l = 0; l < 2 && lines[l]; l++) {
            size_t n = strlen(lines[l]);
            snprintf(lines[l] + n, cap - n, "%s%s %s: %s",
                     i ? "\n" : "", l ? "п." : "т.", para, texts[l]);
        }
    }
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
        "kind", "refusal", "outcome", "refused", "application_id",
        application_id, "applicant_iin", iin, "authority_id", authority_id,
        "authority_name", authority_name, "issued_at", at, "paragraph",
        "16", "reasons", reasons);
    json_t *v[2];
    for (int l = 0; l < 2; l++)
        v[l] = json_pack("{s:s, s:s}", "authority_name", authority_name,
                         "reasons", lines[l] ? lines[l] : "");
    add_texts(t, NOTICE_REFUSAL, doc, v[0], v[1]);
    json_decref(v[0]);
    json_decref(v[1]);
    free(lines[0]);
    free(lines[1]);
    return doc;
}

json_t *notice_acceptance(const struct notice_templates *t,
                          const char *application_id, const char *iin,
                          const char *authority_id,
                          const char *authority_name,
                          int64_t accepted_at_us, const char *result_due)
{
    char at[26];
    almaty_timestamp(accepted_at_us / 1000000, at);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
        "kind", "acceptance_report", "application_id", application_id,
        "applicant_iin", iin, "authority_id", authority_id,
        "authority_name", authority_name, "accepted_at", at, "result_due",
        result_due, "issued_at", at, "paragraph", "14");
    json_t *v = json_pack("{s:s, s:s, s:s}", "authority_name",
                          authority_name, "accepted_at", at, "result_due",
                          result_due);
    add_texts(t, NOTICE_ACCEPTANCE, doc, v, v);
    json_decref(v);
    return doc;
}

json_t *notice_complaint(const struct notice_templates *t,
                         enum notice_kind kind, const char *iin,
                         const char *authority_id, json_t *fields,
                         int64_t at_us)
{
    char at[26];
    almaty_timestamp(at_us / 1000000, at);
    json_t *doc = json_deep_copy(fields);
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = json_object();
    }
    json_object_set_new(doc, "kind", json_string(kind_names[kind]));
    json_object_set_new(doc, "applicant_iin", json_string(iin));
    json_object_set_new(doc, "authority_id", json_string(authority_id));
    json_object_set_new(doc, "issued_at", json_string(at));
    /* nested objects stay in the document; texts use the strings */
    json_t *v = json_object();
    const char *key;
    json_t *val;
    json_object_foreach(fields, key, val)
        if (json_is_string(val))
            json_object_set(v, key, val);
    add_texts(t, kind, doc, v, v);
    json_decref(v);
    return doc;
}

json_t *notice_withdrawal(const struct notice_templates *t,
                          const char *application_id, const char *iin,
                          const char *authority_id,
                          const char *authority_name, int64_t at_us)
{
    char at[26];
    almaty_timestamp(at_us / 1000000, at);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
        "withdrawal_notice", "outcome", "withdrawn", "application_id",
        application_id, "applicant_iin", iin, "authority_id", authority_id,
        "authority_name", authority_name, "issued_at", at);
    json_t *v = json_pack("{s:s}", "authority_name", authority_name);
    add_texts(t, NOTICE_WITHDRAWAL, doc, v, v);
    json_decref(v);
    return doc;
}

enum notice_kind notice_queue_change_kind(const char *change)
{
    return strcmp(change, "removed") == 0        ? NOTICE_REMOVAL
           : strcmp(change, "list_changed") == 0 ? NOTICE_LIST_CHANGE
           : strcmp(change, "transferred") == 0  ? NOTICE_TRANSFER
                                                 : NOTICE_KINDS;
}

/* The name of key in the group of lists.json for language l (the key
 * itself when it has none). */
static const char *named(const struct notice_templates *t,
                         const char *group, int l, const char *key)
{
    json_t *g = group ? json_object_get(t->lists, group) : t->lists;
    const char *n = json_string_value(json_object_get(
        json_object_get(g, langs[l]), key));
    return n ? n : key;
}

json_t *notice_queue_change(const struct notice_templates *t,
                            const struct notice_queue_change *c)
{
    enum notice_kind k = notice_queue_change_kind(c->change);
    bool moved = k != NOTICE_REMOVAL;
    char at[26], num[24], last[24], to_num[24], pos[24];
    almaty_timestamp(c->at_us / 1000000, at);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)c->number);
    snprintf(last, sizeof(last), "%llu",
             (unsigned long long)c->last_position);
    snprintf(to_num, sizeof(to_num), "%llu",
             (unsigned long long)c->to_number);
    snprintf(pos, sizeof(pos), "%llu", (unsigned long long)c->to_position);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                            " s:s, s:{s:s, s:s, s:I, s:I}}",
        "kind", kind_names[k], "change_id", c->change_id, "application_id",
        c->application_id, "applicant_iin", c->iin, "authority_id",
        c->authority_id, "authority_name", c->authority_name, "reason",
        c->reason, "date", c->on, "issued_at", at, "paragraph", "5", "left",
        "authority_id", c->authority_id, "list", c->list, "number", (json_int_t)c->number, "last_position",
        (json_int_t)c->last_position);
    if (moved)
        json_object_set_new(doc, "queue", json_pack(
            "{s:s, s:s, s:s, s:I, s:I}", "authority_id", c->to_authority_id,
            "authority_name", c->to_authority_name, "list", c->to_list,
            "number", (json_int_t)c->to_number, "position_at_issue",
            (json_int_t)c->to_position));
    json_t *v[2];
    for (int l = 0; l < 2; l++)
        v[l] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                         " s:s}", "authority_name", c->authority_name,
                         "list_name", named(t, NULL, l, c->list), "number",
                         num, "last_position", last, "reason",
                         named(t, "removal_reasons", l, c->reason), "date",
                         c->on, "to_authority_name",
                         moved ? c->to_authority_name : "", "to_list_name",
                         moved ? named(t, NULL, l, c->to_list) : "",
                         "to_number", to_num, "position", pos);
    add_texts(t, k, doc, v[0], v[1]);
    json_decref(v[0]);
    json_decref(v[1]);
    return doc;
}
