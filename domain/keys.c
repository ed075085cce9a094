/* keys — the authorities' signing keys (keys.h). */
#include "keys.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool authority_keys_init(struct authority_keys *k, const char *default_path,
                         const char *dir, char *err, size_t errlen)
{
    memset(k, 0, sizeof(*k));
    if (pthread_mutex_init(&k->lock, NULL) != 0) {
        snprintf(err, errlen, "keys: cannot make a lock");
        return false;
    }
    k->dir = dir;
    if (!default_path) {
        snprintf(err, errlen, "signing_key is not set (kezek keys "
                 "generate)");
        return false;
    }
    return signer_load(&k->fallback, default_path, err, errlen);
}

void authority_keys_fini(struct authority_keys *k)
{
    sodium_memzero(&k->fallback, sizeof(k->fallback));
    for (int i = 0; i < k->n; i++)
        sodium_memzero(&k->entry[i].key, sizeof(k->entry[i].key));
    pthread_mutex_destroy(&k->lock);
}

/* Called under k->lock. */
static const struct signer *lookup(struct authority_keys *k,
                                   const char *authority)
{
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->entry[i].authority, authority) == 0)
            return k->entry[i].present ? &k->entry[i].key : &k->fallback;
    if (k->n == AUTHORITY_MAX_KEYS || !k->dir || strlen(authority) >= 64 ||
        strchr(authority, '/') || authority[0] == '.')
        return &k->fallback;
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/%s.key", k->dir, authority);
    int i = k->n++;
    snprintf(k->entry[i].authority, sizeof(k->entry[i].authority), "%s",
             authority);
    k->entry[i].present = access(path, R_OK) == 0 &&
                          signer_load(&k->entry[i].key, path, err,
                                      sizeof(err));
    return k->entry[i].present ? &k->entry[i].key : &k->fallback;
}

const struct signer *authority_key(struct authority_keys *k,
                                   const char *authority)
{
    pthread_mutex_lock(&k->lock);
    const struct signer *s = lookup(k, authority);
    pthread_mutex_unlock(&k->lock);
    return s;
}
