/* What a notice of kezek-notify says of its authority: the key it is
 * signed with and the name it carries. */
#include "notify.h"

#include "refname.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The authority's key, loaded from keys->dir at its first use; the
 * default when there is none. Called under keys->lock. */
static const struct signer *key_lookup(struct notify_keys *keys,
                                       const char *authority)
{
    for (int i = 0; i < keys->n; i++)
        if (strcmp(keys->entry[i].authority, authority) == 0)
            return keys->entry[i].present ? &keys->entry[i].key
                                          : &keys->fallback;
    if (keys->n == NOTIFY_MAX_KEYS || !keys->dir || strlen(authority) >= 64)
        return &keys->fallback;
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/%s.key", keys->dir, authority);
    int i = keys->n++;
    snprintf(keys->entry[i].authority, sizeof(keys->entry[i].authority),
             "%s", authority);
    keys->entry[i].present = access(path, R_OK) == 0 &&
                             signer_load(&keys->entry[i].key, path, err,
                                         sizeof(err));
    return keys->entry[i].present ? &keys->entry[i].key : &keys->fallback;
}

void notify_sign(struct notify *n, const char *authority,
                 const char *canonical, char sig[128], const char **key_id)
{
    pthread_mutex_lock(&n->keys.lock);
    const struct signer *key = key_lookup(&n->keys, authority);
    pthread_mutex_unlock(&n->keys.lock);
    notice_sign(key, canonical, sig);
    *key_id = key->key_id;
}

bool notify_authority_name(PGconn *conn, const char *id, char *out,
                           size_t len)
{
    int rc = refname_get(conn, "authority_name", id, out, len);
    if (rc <= 0)
        snprintf(out, len, "%s", id);
    return rc >= 0;
}
