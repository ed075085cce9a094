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

static const char *list_kk(const char *list)
{
    if (strcmp(list, "wwii") == 0)
        return "Ұлы Отан соғысының мүгедектері мен қатысушылары";
    if (strcmp(list, "vulnerable") == 0)
        return "халықтың әлеуметтік осал топтары";
    if (strcmp(list, "public_sector") == 0)
        return "мемлекеттік қызметшілер, бюджеттік ұйымдардың қызметкерлері";
    return "авариялық тұрғын үйдің иелері";
}

static const char *list_ru(const char *list)
{
    if (strcmp(list, "wwii") == 0)
        return "инвалиды и участники Великой Отечественной войны";
    if (strcmp(list, "vulnerable") == 0)
        return "социально уязвимые слои населения";
    if (strcmp(list, "public_sector") == 0)
        return "государственные служащие, работники бюджетных организаций";
    return "владельцы единственного аварийного жилища";
}

json_t *notice_registration(const char *application_id, const char *iin,
                            const char *authority_id, const char *list,
                            uint64_t number, uint64_t position,
                            int64_t at_us)
{
    char at[26], kk[512], ru[512];
    almaty_timestamp(at_us / 1000000, at);
    snprintf(kk, sizeof(kk),
             "Сіз тұрғын үйге мұқтаж азаматтар есебіне алындыңыз (%s). "
             "Кезектегі нөміріңіз: %llu.", list_kk(list),
             (unsigned long long)number);
    snprintf(ru, sizeof(ru),
             "Вы поставлены на учёт граждан, нуждающихся в жилище (%s). "
             "Ваш порядковый номер в очереди: %llu.", list_ru(list),
             (unsigned long long)number);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:I, s:I},"
                     " s:s, s:s, s:s}",
                     "kind", "registration_notice", "outcome", "registered",
                     "application_id", application_id, "applicant_iin", iin,
                     "authority_id", authority_id, "issued_at", at,
                     "paragraph", "5", "queue", "list", list, "number",
                     (json_int_t)number, "position_at_issue",
                     (json_int_t)position, "text_kk", kk, "text_ru", ru,
                     "service", "p.5");
}

json_t *notice_refusal(const char *application_id, const char *iin,
                       const char *authority_id, const char *const *codes,
                       size_t ncodes, int64_t at_us)
{
    char at[26];
    almaty_timestamp(at_us / 1000000, at);
    json_t *reasons = json_array();
    for (size_t i = 0; i < ncodes; i++) {
        const struct reason *r = reason_find(codes[i]);
        json_array_append_new(reasons, json_pack(
            "{s:s, s:s, s:s, s:s}", "code", codes[i], "paragraph",
            r ? r->paragraph : "", "text_kk", r ? r->text_kk : "",
            "text_ru", r ? r->text_ru : ""));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}",
                     "kind", "refusal", "outcome", "refused",
                     "application_id", application_id, "applicant_iin", iin,
                     "authority_id", authority_id, "issued_at", at,
                     "reasons", reasons, "text_kk",
                     "Есепке алудан бас тартылды. Негіздері төменде.",
                     "text_ru", "В постановке на учёт отказано. Основания "
                     "указаны ниже.", "service", "p.5");
}

json_t *notice_acceptance(const char *application_id, const char *iin,
                          const char *authority_id, int64_t accepted_at_us,
                          const char *result_due)
{
    char at[26], kk[300], ru[300];
    almaty_timestamp(accepted_at_us / 1000000, at);
    snprintf(kk, sizeof(kk),
             "Сіздің өтінішіңіз %s қабылданды. Нәтиже %s дейін беріледі.",
             at, result_due);
    snprintf(ru, sizeof(ru),
             "Ваш запрос принят %s. Результат будет выдан до %s.", at,
             result_due);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "kind", "acceptance_report", "application_id",
                     application_id, "applicant_iin", iin, "authority_id",
                     authority_id, "accepted_at", at, "result_due",
                     result_due, "issued_at", at, "paragraph", "14",
                     "text_kk", kk, "text_ru", ru);
}
