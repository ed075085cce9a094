/* keys — the authorities' signing keys (Ed25519, notice.h): each
 * authority's own when keys_dir holds <authority_id>.key, else the
 * deployment's default key. What kezek-notify signs its notices with
 * and kezek-queue the heads of its transparency log (issue 24); the
 * public halves are in signing_key (GET /v1/reference/keys). */
#ifndef KEZEK_KEYS_H
#define KEZEK_KEYS_H

#include "notice.h"

#include <pthread.h>
#include <stdbool.h>

#define AUTHORITY_MAX_KEYS 256

/* Keys are loaded at their first use and then kept: entries are added,
 * never moved, under lock, so threads may share them. */
struct authority_keys {
    pthread_mutex_t lock;
    const char *dir;                /* NULL: the default key only */
    struct signer fallback;
    struct {
        char authority[64];
        struct signer key;
        bool present;
    } entry[AUTHORITY_MAX_KEYS];
    int n;
};

/* Loads the default key from default_path (required) and notes dir
 * (may be NULL); false with err saying why. */
bool authority_keys_init(struct authority_keys *k, const char *default_path,
                         const char *dir, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void authority_keys_fini(struct authority_keys *k);
/* The key authority signs with (thread-safe; never NULL). */
const struct signer *authority_key(struct authority_keys *k,
                                   const char *authority);

#endif
