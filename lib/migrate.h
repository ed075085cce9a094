/* migrate — the schema migrations embedded at build time from
 * migrations/NNN_name.sql (see cmake/embed_migrations.cmake). */
#ifndef KEZEK_MIGRATE_H
#define KEZEK_MIGRATE_H

struct migration {
    const char *name;
    const char *sql;
};

/* Sorted by name, terminated by {NULL, NULL}. */
extern const struct migration kezek_migrations[];

#endif
