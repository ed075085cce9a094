/* The reference files (reference/NAME.jsonl) against the seed they were
 * parsed from.
 *
 * p.1 of the standard: the service is given by the authorized bodies of
 * appendix 1 and, as an alternative, by the public service centres of
 * appendix 2; p.13: documents are accepted at the addresses of appendix 1
 * and at the centres; p.21-22: complaints go to the akimat offices of
 * appendix 5.
 *
 * Every expected count here is derived from the seed at run time with
 * rules of this file's own (first tab field of a line, section markers),
 * independently of reference/extract.py; no count is typed in. The seed is
 * read as UTF-8 bytes with plain C string functions, the JSON lines with
 * jansson. Needs KEZEK_SOURCE_DIR (set by ctest). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_REL "/reference/seed/000_c11d2e3a86b7c3f8.txt"
#define MAXR 64    /* capacity for regions, not an expected count */
#define CELL 1024  /* longest tab field we copy */

/* ---------------------------------------------------------------- files */

static char *source_path(const char *rel)
{
    const char *dir = getenv("KEZEK_SOURCE_DIR");
    cr_assert_not_null(dir, "KEZEK_SOURCE_DIR is not set");
    size_t n = strlen(dir) + strlen(rel) + 1;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s%s", dir, rel);
    return p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* The seed as an array of lines (no '\n', no trailing '\r'). */
struct seed {
    char *buf;
    char **line;
    size_t n;
};

static void seed_load(struct seed *s)
{
    char *path = source_path(SEED_REL);
    s->buf = slurp(path);
    free(path);
    size_t cap = 1;
    for (const char *p = s->buf; *p; p++)
        cap += *p == '\n';
    s->line = calloc(cap, sizeof(*s->line));
    cr_assert_not_null(s->line);
    s->n = 0;
    char *p = s->buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        s->line[s->n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        p = nl + 1;
    }
}

static void seed_free(struct seed *s)
{
    free(s->line);
    free(s->buf);
}

/* JSON lines: one object a line. */
struct jl {
    json_t **v;
    size_t n;
};

static void jl_load(struct jl *j, const char *name)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "/reference/%s", name);
    char *path = source_path(rel);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 256;
    j->v = malloc(cap * sizeof(*j->v));
    j->n = 0;
    char *ln = NULL;
    size_t lncap = 0;
    ssize_t len;
    while ((len = getline(&ln, &lncap, f)) > 0) {
        json_error_t err;
        json_t *o = json_loads(ln, 0, &err);
        cr_assert(json_is_object(o), "%s:%zu: %s", name, j->n + 1,
                  err.text);
        if (j->n == cap) {
            cap *= 2;
            j->v = realloc(j->v, cap * sizeof(*j->v));
        }
        j->v[j->n++] = o;
    }
    free(ln);
    fclose(f);
    free(path);
}

static void jl_free(struct jl *j)
{
    for (size_t i = 0; i < j->n; i++)
        json_decref(j->v[i]);
    free(j->v);
}

/* The string member k of o, or NULL if it is missing or null. */
static const char *sget(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* -------------------------------------------------------- seed helpers */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Tab field k of line, whitespace runs collapsed to one space, trimmed. */
static const char *field(const char *line, int k, char *buf)
{
    const char *p = line;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, '\t');
        if (p)
            p++;
    }
    size_t n = 0;
    int gap = 0;
    for (; p && *p && *p != '\t'; p++) {
        if (is_space(*p)) {
            gap = n > 0;
            continue;
        }
        if (gap && n + 1 < CELL)
            buf[n++] = ' ';
        gap = 0;
        if (n + 1 < CELL)
            buf[n++] = *p;
    }
    buf[n] = '\0';
    return buf;
}

/* s without any whitespace; the caller frees. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    cr_assert_not_null(out);
    char *q = out;
    for (; *s; s++)
        if (!is_space(*s))
            *q++ = *s;
    *q = '\0';
    return out;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* '1', '1.', '1.7', '1.7.2': the outline numbering of appendix 2. */
static int is_outline(const char *s)
{
    if (*s < '0' || *s > '9')
        return 0;
    for (; *s; s++) {
        if (*s == '.' && s[1] == '\0')
            return 1;
        if (*s == '.' && (s[1] < '0' || s[1] > '9'))
            return 0;
        if (*s != '.' && (*s < '0' || *s > '9'))
            return 0;
    }
    return 1;
}

/* The '1 2 3 ...' row under each table header. */
static int is_column_numbers(const char *line)
{
    char a[CELL], b[CELL];
    return !strcmp(field(line, 0, a), "1") && !strcmp(field(line, 1, b), "2");
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* A line that is only 'N-қосымша' (the appendix marker); returns N. */
static int appendix_mark(const char *l)
{
    while (is_space(*l))
        l++;
    if (*l < '0' || *l > '9')
        return 0;
    char *end;
    int num = (int)strtol(l, &end, 10);
    static const char mark[] = "-қосымша";
    if (strncmp(end, mark, sizeof(mark) - 1))
        return 0;
    for (l = end + sizeof(mark) - 1; *l; l++)
        if (!is_space(*l))
            return 0;
    return num;
}

/* Lines [*from, *to) of appendix num: after its marker, before the next. */
static void appendix(const struct seed *s, int num, size_t *from,
                     size_t *to)
{
    size_t i = 0;
    while (i < s->n && appendix_mark(s->line[i]) != num)
        i++;
    cr_assert_lt(i, s->n, "appendix %d not found in the seed", num);
    *from = ++i;
    while (i < s->n && !appendix_mark(s->line[i]))
        i++;
    *to = i;
}

/* The region a heading names, as a key both appendices agree on: up to
 * the first 'облысы' or 'қаласы', without '«', spaces or hyphens.
 * 'Ақмола облысының ...' -> 'Ақмолаоблысы'; appendix 1's
 * 'Оңтүстік-Қазақстан облысының ...' and appendix 2's
 * '«Оңтүстік Қазақстан облысы ...' -> 'ОңтүстікҚазақстаноблысы'. */
static void region_key(const char *s, char *out)
{
    static const char *const kinds[] = {"облысы", "қаласы"};
    const char *end = NULL;
    for (int k = 0; k < 2; k++) {
        const char *p = strstr(s, kinds[k]);
        if (p && (!end || p < end))
            end = p + strlen(kinds[k]);
    }
    cr_assert_not_null(end, "no region in heading: %s", s);
    if (!strncmp(s, "«", strlen("«")))
        s += strlen("«");
    size_t n = 0;
    for (; s < end && n + 1 < CELL; s++)
        if (!is_space(*s) && *s != '-')
            out[n++] = *s;
    out[n] = '\0';
}

/* ------------------------------------------- what the seed itself says */

struct centre_no {
    int region;             /* index into derived.heading */
    char num[32];           /* '1', '1.7.2' (a trailing dot dropped) */
};

struct derived {
    struct seed s;
    size_t a1, a1_end, a2, a2_end, a5, a5_end;
    int nreg;                       /* appendix 1 region headings */
    char heading[MAXR][CELL];
    char key[MAXR][CELL];
    int authorities[MAXR];          /* numbered rows per region */
    int cont1;                      /* continuation lines, appendix 1 */
    int nbranch;                    /* appendix 2 branch headings */
    struct centre_no *centre;
    size_t ncentre;
    int cont2;
    int *appeal_no;                 /* appendix 5 № column, in order */
    size_t nappeal;
    int cont5;
};

/* A continuation line: empty first field, something in another one. */
static int is_continuation(const char *line)
{
    char a[CELL];
    if (*field(line, 0, a))
        return 0;
    for (const char *p = line; *p; p++)
        if (!is_space(*p))
            return 1;
    return 0;
}

static void derive(struct derived *d)
{
    memset(d, 0, sizeof(*d));
    seed_load(&d->s);
    appendix(&d->s, 1, &d->a1, &d->a1_end);
    appendix(&d->s, 2, &d->a2, &d->a2_end);
    appendix(&d->s, 5, &d->a5, &d->a5_end);
    char f0[CELL];

    /* Appendix 1: a heading is a line whose first field ends
     * with 'бөлімдері' (the departments of a region); a row is
     * a line whose first field is a number. */
    int r = -1;
    for (size_t i = d->a1; i < d->a1_end; i++) {
        const char *l = d->s.line[i];
        field(l, 0, f0);
        if (ends_with(f0, "бөлімдері")) {
            cr_assert_lt(d->nreg, MAXR);
            r = d->nreg++;
            strcpy(d->heading[r], f0);
            region_key(f0, d->key[r]);
        } else if (all_digits(f0) && !is_column_numbers(l)) {
            cr_assert_geq(r, 0, "appendix 1: row before a heading: %s", l);
            d->authorities[r]++;
        } else if (is_continuation(l)) {
            d->cont1++;
        }
    }

    /* Appendix 2: a branch heading names 'ХҚО' in its first field and
     * maps to the appendix 1 region with the same key; a centre is a line
     * whose first field is an outline number. */
    d->centre = calloc(d->a2_end - d->a2 + 1, sizeof(*d->centre));
    r = -1;
    for (size_t i = d->a2; i < d->a2_end; i++) {
        const char *l = d->s.line[i];
        field(l, 0, f0);
        if (strstr(f0, "ХҚО")) {
            char k[CELL];
            region_key(f0, k);
            r = -1;
            for (int j = 0; j < d->nreg; j++)
                if (!strcmp(k, d->key[j]))
                    r = j;
            cr_assert_geq(r, 0, "appendix 2: no appendix 1 region: %s", f0);
            d->nbranch++;
        } else if (is_outline(f0) && !is_column_numbers(l)) {
            cr_assert_geq(r, 0, "appendix 2: row before a branch: %s", l);
            struct centre_no *c = &d->centre[d->ncentre++];
            c->region = r;
            size_t n = strlen(f0);
            cr_assert_lt(n, sizeof(c->num), "appendix 2: number %s", f0);
            memcpy(c->num, f0, n + 1);
            if (c->num[n - 1] == '.')
                c->num[n - 1] = '\0';
        } else if (is_continuation(l)) {
            d->cont2++;
        }
    }

    /* Appendix 5: a row is a line whose first field (№) is a number. */
    d->appeal_no = calloc(d->a5_end - d->a5 + 1, sizeof(*d->appeal_no));
    for (size_t i = d->a5; i < d->a5_end; i++) {
        const char *l = d->s.line[i];
        field(l, 0, f0);
        if (all_digits(f0) && !is_column_numbers(l))
            d->appeal_no[d->nappeal++] = atoi(f0);
        else if (is_continuation(l))
            d->cont5++;
    }
}

static void derived_free(struct derived *d)
{
    free(d->centre);
    free(d->appeal_no);
    seed_free(&d->s);
}

static void region_id(int r, char *out, size_t n)
{
    snprintf(out, n, "r-%02d", r + 1);
}

/* Index of the appendix 1 region with id rid, or -1. */
static int region_of(const struct derived *d, const char *rid)
{
    char id[16];
    for (int r = 0; r < d->nreg; r++) {
        region_id(r, id, sizeof(id));
        if (rid && !strcmp(rid, id))
            return r;
    }
    return -1;
}

/* Ids of a file are unique. */
static void assert_unique_ids(const struct jl *j, const char *file)
{
    for (size_t a = 0; a < j->n; a++)
        for (size_t b = a + 1; b < j->n; b++)
            cr_assert_str_neq(sget(j->v[a], "id"), sget(j->v[b], "id"),
                              "%s: id repeats", file);
}

/* ------------------------------------------------------------ the tests */

/* Appendix 1 headings (one per region) are the regions; appendix 2 has one
 * branch per region. */
Test(reference, regions_are_the_appendix1_headings)
{
    struct derived d;
    derive(&d);
    struct jl reg;
    jl_load(&reg, "regions.jsonl");
    cr_assert_gt(d.nreg, 0);
    cr_assert_eq(d.nbranch, d.nreg, "appendix 2: %d branches, %d regions",
                 d.nbranch, d.nreg);
    cr_assert_eq(reg.n, (size_t)d.nreg, "regions.jsonl: %zu, seed: %d",
                 reg.n, d.nreg);
    for (int r = 0; r < d.nreg; r++) {
        char id[16];
        region_id(r, id, sizeof(id));
        cr_assert_str_eq(sget(reg.v[r], "id"), id);
        cr_assert_str_eq(sget(reg.v[r], "name"), d.heading[r]);
    }
    jl_free(&reg);
    derived_free(&d);
}

/* p.1, p.13, appendix 1: the authorized bodies of each region. */
Test(reference, authorities_per_region)
{
    struct derived d;
    derive(&d);
    struct jl au;
    jl_load(&au, "authorities.jsonl");
    int got[MAXR] = {0};
    size_t total = 0;
    for (size_t i = 0; i < au.n; i++) {
        const char *rid = sget(au.v[i], "region_id");
        int r = region_of(&d, rid);
        cr_assert_geq(r, 0, "authorities.jsonl: unknown region %s", rid);
        got[r]++;
        /* a-NN-MM: MM is the position within the region, in seed order */
        char want[32];
        snprintf(want, sizeof(want), "a-%02d-%02d", r + 1, got[r]);
        cr_assert_str_eq(sget(au.v[i], "id"), want);
        cr_assert_str_eq(sget(au.v[i], "region"), d.heading[r]);
    }
    for (int r = 0; r < d.nreg; r++) {
        cr_assert_eq(got[r], d.authorities[r],
                     "r-%02d (%s): %d authorities, seed has %d rows",
                     r + 1, d.key[r], got[r], d.authorities[r]);
        total += (size_t)d.authorities[r];
    }
    cr_assert_eq(au.n, total);
    assert_unique_ids(&au, "authorities.jsonl");
    jl_free(&au);
    derived_free(&d);
}

/* Appendix 1 (p.13: a body serves its district or city): one settlement
 * per authority, in the authority's region. */
Test(reference, one_settlement_per_authority)
{
    struct derived d;
    derive(&d);
    struct jl au, st;
    jl_load(&au, "authorities.jsonl");
    jl_load(&st, "settlements.jsonl");
    assert_unique_ids(&st, "settlements.jsonl");
    int *uses = calloc(au.n + 1, sizeof(*uses));
    for (size_t i = 0; i < st.n; i++) {
        const char *aid = sget(st.v[i], "authority_id");
        size_t a = 0;
        while (a < au.n && strcmp(sget(au.v[a], "id"), aid ? aid : ""))
            a++;
        cr_assert_lt(a, au.n, "settlement %s: no authority %s",
                     sget(st.v[i], "id"), aid);
        uses[a]++;
        cr_assert_str_eq(sget(st.v[i], "region_id"),
                         sget(au.v[a], "region_id"));
        cr_assert_not_null(sget(st.v[i], "name"));
    }
    for (size_t a = 0; a < au.n; a++)
        cr_assert_eq(uses[a], 1, "%s has %d settlements",
                     sget(au.v[a], "id"), uses[a]);
    free(uses);
    jl_free(&st);
    jl_free(&au);
    derived_free(&d);
}

/* p.13, appendix 1: the e-mail of an authority is printed in its address
 * cell, sometimes with spaces inside; it must be in the appendix 1 text
 * once spaces are removed. */
Test(reference, authority_emails_are_in_appendix1)
{
    struct derived d;
    derive(&d);
    struct jl au;
    jl_load(&au, "authorities.jsonl");
    size_t n = 0;
    for (size_t i = d.a1; i < d.a1_end; i++)
        n += strlen(d.s.line[i]) + 1;
    char *text = malloc(n + 1), *q = text;
    for (size_t i = d.a1; i < d.a1_end; i++)
        for (const char *p = d.s.line[i]; ; p++) {
            if (!*p) {
                *q++ = '\n';
                break;
            }
            if (*p != ' ')
                *q++ = *p;
        }
    *q = '\0';
    for (size_t i = 0; i < au.n; i++) {
        const char *mail = sget(au.v[i], "email");
        if (!mail)
            continue;
        cr_assert(strchr(mail, '@'), "%s: %s", sget(au.v[i], "id"), mail);
        cr_assert(strstr(text, mail), "%s: e-mail %s not in appendix 1",
                  sget(au.v[i], "id"), mail);
    }
    free(text);
    jl_free(&au);
    derived_free(&d);
}

/* The non-empty cells of column 2 (the names) of lines [from, to). */
struct cells {
    char **v;
    size_t n;
};

static void name_cells(const struct derived *d, size_t from, size_t to,
                       struct cells *c)
{
    c->v = calloc(to - from + 1, sizeof(*c->v));
    c->n = 0;
    char buf[CELL];
    for (size_t i = from; i < to; i++)
        if (*field(d->s.line[i], 1, buf))
            c->v[c->n++] = strdup(buf);
}

static void cells_free(struct cells *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
}

/* 0: name is not in the cells; 1: it is one cell (whitespace collapsed);
 * 2: it is two or three consecutive cells glued (a cell that wrapped
 * across a page break), compared with all whitespace removed. */
static int find_name(const struct cells *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i], name))
            return 1;
    char *want = squeeze(name);
    int found = 0;
    for (size_t i = 0; i < c->n && !found; i++) {
        size_t cap = strlen(want) + 1;
        char *got = calloc(cap, 1);
        size_t len = 0;
        for (size_t k = 0; k < 3 && i + k < c->n; k++) {
            char *part = squeeze(c->v[i + k]);
            size_t pl = strlen(part);
            int fits = len + pl < cap;
            if (fits) {
                memcpy(got + len, part, pl + 1);
                len += pl;
            }
            free(part);
            if (!fits || strncmp(want, got, len))
                break;
            if (k > 0 && !strcmp(want, got)) {
                found = 2;
                break;
            }
        }
        free(got);
    }
    free(want);
    return found;
}

/* Every name of file is in the name column of [from, to); glued names
 * are allowed, but no more of them than continuation lines there. */
static void assert_names(const struct derived *d, const char *file,
                         size_t from, size_t to, int continuations)
{
    struct jl j;
    jl_load(&j, file);
    struct cells c;
    name_cells(d, from, to, &c);
    int glued = 0;
    for (size_t i = 0; i < j.n; i++) {
        const char *name = sget(j.v[i], "name");
        cr_assert_not_null(name, "%s: %s has no name", file,
                           sget(j.v[i], "id"));
        int how = find_name(&c, name);
        cr_assert(how, "%s: %s: name not in the seed: %s", file,
                  sget(j.v[i], "id"), name);
        glued += how == 2;
    }
    cr_assert_leq(glued, continuations,
                  "%s: %d glued names, %d continuation lines", file, glued,
                  continuations);
    cr_log_info("%s: %zu names, %d glued from wrapped cells", file, j.n,
                glued);
    cells_free(&c);
    jl_free(&j);
}

/* Appendices 1, 2, 5: names are kept as printed. */
Test(reference, names_are_in_the_seed)
{
    struct derived d;
    derive(&d);
    assert_names(&d, "authorities.jsonl", d.a1, d.a1_end, d.cont1);
    assert_names(&d, "centres.jsonl", d.a2, d.a2_end, d.cont2);
    assert_names(&d, "appeal_instances.jsonl", d.a5, d.a5_end, d.cont5);
    derived_free(&d);
}

/* p.1, p.13, appendix 2: the centres of each region with their outline
 * numbering (1., 1.1, 1.1.1), in seed order. */
Test(reference, centres_per_region)
{
    struct derived d;
    derive(&d);
    struct jl ce;
    jl_load(&ce, "centres.jsonl");
    cr_assert_eq(ce.n, d.ncentre, "centres.jsonl: %zu, seed: %zu", ce.n,
                 d.ncentre);
    assert_unique_ids(&ce, "centres.jsonl");
    for (int r = 0; r < d.nreg; r++) {
        char rid[16];
        region_id(r, rid, sizeof(rid));
        size_t k = 0, seen = 0;
        for (size_t i = 0; i < ce.n; i++) {
            if (strcmp(sget(ce.v[i], "region_id"), rid))
                continue;
            seen++;
            while (k < d.ncentre && d.centre[k].region != r)
                k++;
            cr_assert_lt(k, d.ncentre, "%s: more centres than the seed",
                         rid);
            const char *num = d.centre[k++].num;
            cr_assert_str_eq(sget(ce.v[i], "number"), num, "%s", rid);
            char id[64];
            int n = snprintf(id, sizeof(id), "c-%02d-%s", r + 1, num);
            for (int p = 5; p < n; p++)
                if (id[p] == '.')
                    id[p] = '-';
            cr_assert_str_eq(sget(ce.v[i], "id"), id);
            /* the parent is the numbering minus its last part */
            const char *parent = sget(ce.v[i], "parent_id");
            char *dot = strrchr(id, '-');
            if (!strchr(num, '.')) {
                cr_assert_null(parent, "%s", id);
                continue;
            }
            *dot = '\0';
            cr_assert_str_eq(parent, id);
        }
        size_t want = 0;
        for (size_t i = 0; i < d.ncentre; i++)
            want += d.centre[i].region == r;
        cr_assert_eq(seen, want, "%s (%s): %zu centres, seed has %zu", rid,
                     d.key[r], seen, want);
    }
    for (size_t i = 0; i < ce.n; i++) {
        const char *parent = sget(ce.v[i], "parent_id");
        size_t k = 0;
        while (parent && k < ce.n && strcmp(sget(ce.v[k], "id"), parent))
            k++;
        cr_assert_lt(k, ce.n, "%s: no parent %s", sget(ce.v[i], "id"),
                     parent);
    }
    jl_free(&ce);
    derived_free(&d);
}

/* p.21-22, appendix 5: one appeal instance per row, by the № column. */
Test(reference, appeal_instances_by_row_number)
{
    struct derived d;
    derive(&d);
    struct jl ap;
    jl_load(&ap, "appeal_instances.jsonl");
    cr_assert_gt(d.nappeal, 0);
    cr_assert_eq(ap.n, d.nappeal, "appeal_instances.jsonl: %zu, seed: %zu",
                 ap.n, d.nappeal);
    assert_unique_ids(&ap, "appeal_instances.jsonl");
    int pos[MAXR] = {0};
    for (size_t i = 0; i < ap.n; i++) {
        /* the seed numbers its rows 1, 2, ... */
        cr_assert_eq(d.appeal_no[i], (int)i + 1, "seed row %zu is № %d",
                     i + 1, d.appeal_no[i]);
        json_t *no = json_object_get(ap.v[i], "number");
        cr_assert(json_is_integer(no));
        cr_assert_eq(json_integer_value(no), d.appeal_no[i]);
        const char *rid = sget(ap.v[i], "region_id");
        int r = region_of(&d, rid);
        cr_assert_geq(r, 0, "appeal № %d: unknown region %s",
                      d.appeal_no[i], rid);
        char want[32];
        snprintf(want, sizeof(want), "ap-%02d-%02d", r + 1, ++pos[r]);
        cr_assert_str_eq(sget(ap.v[i], "id"), want);
    }
    jl_free(&ap);
    derived_free(&d);
}
