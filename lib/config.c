#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX 128

struct config {
    int n;
    char *keys[CONFIG_MAX];
    char *vals[CONFIG_MAX];
};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

config_t *config_load(const char *path, char *err, size_t errlen)
{
    config_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!path)
        return self;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "config %s: %s", path, strerror(errno));
        free(self);
        return NULL;
    }
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq || self->n == CONFIG_MAX) {
            snprintf(err, errlen, "config %s:%d: expected key = value",
                     path, lineno);
            fclose(f);
            config_destroy(&self);
            return NULL;
        }
        *eq = '\0';
        self->keys[self->n] = strdup(trim(s));
        self->vals[self->n] = strdup(trim(eq + 1));
        self->n++;
    }
    fclose(f);
    return self;
}

void config_destroy(config_t **self_p)
{
    config_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->n; i++) {
        free(self->keys[i]);
        free(self->vals[i]);
    }
    free(self);
    *self_p = NULL;
}

const char *config_str(config_t *self, const char *key, const char *def)
{
    char env[128] = "KEZEK_";
    size_t n = strlen(env);
    for (const char *k = key; *k && n + 1 < sizeof(env); k++)
        env[n++] = (*k == '.' || *k == '-') ? '_'
                                            : (char)toupper((unsigned char)*k);
    env[n] = '\0';
    const char *v = getenv(env);
    if (v)
        return v;
    for (int i = 0; self && i < self->n; i++)
        if (strcmp(self->keys[i], key) == 0)
            return self->vals[i];
    return def;
}

bool config_int(config_t *self, const char *key, long def, long min,
                long max, long *out, char *err, size_t errlen)
{
    const char *v = config_str(self, key, NULL);
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || x < min || x > max) {
        snprintf(err, errlen, "config %s: expected an integer in [%ld, %ld]",
                 key, min, max);
        return false;
    }
    *out = x;
    return true;
}
