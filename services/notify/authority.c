/* What a notice of kezek-notify says of its authority: the key it is
 * signed with and the name it carries. */
#include "notify.h"

#include "refname.h"

#include <stdio.h>
#include <string.h>

void notify_sign(struct notify *n, const char *authority,
                 const char *canonical, char sig[128], const char **key_id)
{
    const struct signer *key = authority_key(&n->keys, authority);
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
