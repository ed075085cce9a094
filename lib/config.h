/* config — `key = value` files with KEZEK_* environment overrides.
 *
 * Lookup order: environment KEZEK_<KEY> (key upper-cased, '.' and '-'
 * become '_'), then the file, then the caller's default. Lines starting
 * with '#' are comments. */
#ifndef KEZEK_CONFIG_H
#define KEZEK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct config config_t;

/* Loads path (NULL: environment and defaults only). Returns NULL and
 * fills err on a missing file or a malformed line. */
config_t *config_load(const char *path, char *err, size_t errlen);
void config_destroy(config_t **self_p);

/* The value, or def. The pointer lives as long as the config. */
const char *config_str(config_t *self, const char *key, const char *def);

/* Parses an integer in [min, max]; false and err on anything else. */
bool config_int(config_t *self, const char *key, long def, long min,
                long max, long *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
