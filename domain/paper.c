#include "paper.h"

#include "calendar.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <ctype.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_W 595.276 /* A4, points */
#define PAGE_H 841.890
#define MARGIN 42.0
#define FONT "DejaVu Sans"
#define DASH "—"
#define MAX_ROWS 16
#define MIN_SCALE 0.5
#define QR_QUIET 4        /* modules of white around the code */
#define QR_MODULE 3.0     /* points, preferred */
#define QR_MODULE_MIN 2.5 /* points; below this print scanners struggle */
#define QR_SIDE_PREF 160.0
#define QR_SIDE_MIN 100.0
#define QR_SIDE_MAX 250.0

/* ROW_FIELD: label over an indented value; ROW_KEY: the same with the
 * value large and bold (the queue number); ROW_TEXT: label over a
 * full-width paragraph. */
enum row_style { ROW_FIELD, ROW_KEY, ROW_TEXT };

struct row {
    const char *label; /* "kk / ru", static */
    char *value;       /* owned */
    enum row_style style;
};

/* One page's content, independent of how it is drawn. */
struct form {
    const char *authority; /* borrowed */
    const char *title_kk, *title_ru, *cite, *sign_label;
    bool citizen_signs;           /* no seal under the signature */
    char *number, *date, *signer; /* owned; signer may be NULL */
    struct row rows[MAX_ROWS];
    size_t nrows;
    bool oom;
};

/* Drawing state: paint false only measures. */
struct pen {
    cairo_t *cr;
    PangoContext *pc;
    double s; /* font scale, 1.0 = full size */
    bool paint;
};

struct qr_box {
    QRcode *code;
    double module, side;
};

struct out {
    unsigned char *p;
    size_t n, cap;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- values ---------------------------------------------------------- */

/* A printable scalar: a non-empty string, an integer (written into
 * buf), or DASH for anything else. The result lives as long as v or
 * buf. */
static const char *val(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v) && json_string_value(v)[0] != '\0')
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return DASH;
}

/* True when s[0..n) are all ASCII digits. */
static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* True when s starts with an ISO date "YYYY-MM-DD". */
static bool iso_date(const char *s)
{
    return s && strlen(s) >= 10 && digits(s, 4) && s[4] == '-' &&
           digits(s + 5, 2) && s[7] == '-' && digits(s + 8, 2);
}

/* A date as printed on the forms: "YYYY-MM-DD" → "DD.MM.YYYY",
 * "YYYY-MM-DDTHH:MM…" → "DD.MM.YYYY HH:MM" (Almaty local time, as
 * every Kezek timestamp is), any other string as it is, else as val(). */
static const char *when(json_t *v, char *buf, size_t len)
{
    const char *s = json_string_value(v);
    if (!iso_date(s))
        return val(v, buf, len);
    if (s[10] == '\0') {
        snprintf(buf, len, "%.2s.%.2s.%.4s", s + 8, s + 5, s);
    } else if ((s[10] == 'T' || s[10] == ' ') && strlen(s) >= 16 &&
               digits(s + 11, 2) && s[13] == ':' && digits(s + 14, 2)) {
        snprintf(buf, len, "%.2s.%.2s.%.4s %.5s", s + 8, s + 5, s, s + 11);
    } else {
        return s;
    }
    return buf;
}

/* A formatted, malloc'd string; NULL (and f->oom) on failure. */
static char *dupf(struct form *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *dupf(struct form *f, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        f->oom = true;
        return NULL;
    }
    return s;
}

/* Closes a memory stream opened on *p; its text, or NULL and f->oom. */
static char *mem_close(struct form *f, FILE *m, char *const *p)
{
    if (fclose(m) != 0 || !*p) {
        free(*p);
        f->oom = true;
        return NULL;
    }
    return *p;
}

/* Adds a row taking ownership of value (NULL after a failed dupf: the
 * form is already marked oom). */
static void form_add(struct form *f, enum row_style style,
                     const char *label, char *value)
{
    if (!value || f->nrows == MAX_ROWS) {
        free(value);
        f->oom = true;
        return;
    }
    f->rows[f->nrows++] = (struct row){label, value, style};
}

/* Adds a row whose value is one scalar field of doc. */
static void form_field(struct form *f, const char *label, json_t *v)
{
    char buf[32];
    form_add(f, ROW_FIELD, label, dupf(f, "%s", val(v, buf, sizeof(buf))));
}

/* Adds a row whose value is a date field of doc. */
static void form_when(struct form *f, const char *label, json_t *v)
{
    char buf[32];
    form_add(f, ROW_FIELD, label, dupf(f, "%s", when(v, buf, sizeof(buf))));
}

/* "Барлығы / Всего: N" and one numbered line per document, its name
 * (or code); a non-array counts as none. */
static char *doc_list(struct form *f, json_t *docs)
{
    char *p = NULL, buf[32];
    size_t sz = 0, n = json_is_array(docs) ? json_array_size(docs) : 0;
    FILE *m = open_memstream(&p, &sz);
    if (!m) {
        f->oom = true;
        return NULL;
    }
    fprintf(m, "Барлығы / Всего: %zu", n);
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(docs, i);
        json_t *name = json_object_get(d, "name");
        if (!json_is_string(name))
            name = json_is_object(d) ? json_object_get(d, "code") : d;
        fprintf(m, "\n%zu. %s", i + 1, val(name, buf, sizeof(buf)));
    }
    return mem_close(f, m, &p);
}

/* The scalars of v joined by sep: an array's items, an object's values
 * (in their order), or v itself; DASH when there are none. */
static char *joined(struct form *f, json_t *v, const char *sep)
{
    char *p = NULL, buf[32];
    size_t sz = 0, k = 0;
    FILE *m = open_memstream(&p, &sz);
    if (!m) {
        f->oom = true;
        return NULL;
    }
    if (json_is_array(v) || json_is_object(v)) {
        size_t i;
        const char *key;
        json_t *item;
        if (json_is_array(v)) {
            json_array_foreach(v, i, item) {
                const char *s = val(item, buf, sizeof(buf));
                if (strcmp(s, DASH) != 0)
                    fprintf(m, "%s%s", k++ ? sep : "", s);
            }
        } else {
            json_object_foreach(v, key, item) {
                const char *s = val(item, buf, sizeof(buf));
                if (strcmp(s, DASH) != 0)
                    fprintf(m, "%s%s", k++ ? sep : "", s);
            }
        }
    } else if (strcmp(val(v, buf, sizeof(buf)), DASH) != 0) {
        fprintf(m, "%s", val(v, buf, sizeof(buf)));
        k++;
    }
    if (k == 0)
        fputs(DASH, m);
    return mem_close(f, m, &p);
}

/* p.16: each reason numbered, with its paragraph, Kazakh over
 * Russian. */
static char *reason_list(struct form *f, json_t *reasons)
{
    char *p = NULL, b1[32], b2[32], b3[32];
    size_t sz = 0;
    size_t n = json_is_array(reasons) ? json_array_size(reasons) : 0;
    FILE *m = open_memstream(&p, &sz);
    if (!m) {
        f->oom = true;
        return NULL;
    }
    if (n == 0)
        fputs(DASH, m);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(reasons, i);
        const char *para = val(json_object_get(r, "paragraph"), b1, 32);
        fprintf(m, "%s%zu. (т. %s) %s\n     (п. %s) %s", i ? "\n" : "",
                i + 1, para, val(json_object_get(r, "text_kk"), b2, 32),
                para, val(json_object_get(r, "text_ru"), b3, 32));
    }
    return mem_close(f, m, &p);
}

/* Kazakh paragraph, blank line, Russian paragraph. */
static char *two_texts(struct form *f, json_t *doc)
{
    char b1[32], b2[32];
    return dupf(f, "%s\n\n%s",
                val(json_object_get(doc, "text_kk"), b1, sizeof(b1)),
                val(json_object_get(doc, "text_ru"), b2, sizeof(b2)));
}

/* ---- the four forms -------------------------------------------------- */

#define L_APP_NO "Өтініш нөмірі / Номер заявления"
#define L_IIN "Өтініш берушінің ЖСН / ИИН заявителя"
#define L_AUTH "Уәкілетті орган / Уполномоченный орган"
#define L_ISSUED "Берілген күні / Дата выдачи"
#define L_TEXT "Хабарлама мәтіні / Текст уведомления"
#define L_HEAD "Уәкілетті органның басшысы (уәкілетті адамы) / " \
               "Руководитель (уполномоченное лицо) уполномоченного органа"

/* p.14: every field of the receipt. */
static void form_receipt(struct form *f, json_t *d)
{
    char b1[32], b2[32];
    f->title_kk = "Құжаттарды қабылдау туралы қолхат";
    f->title_ru = "Расписка о приёме документов";
    f->cite = "Мемлекеттік көрсетілетін қызмет стандартының 14-тармағы / "
              "Пункт 14 стандарта государственной услуги";
    f->sign_label = "Құжаттарды қабылдаған қызметкер / "
                    "Сотрудник, принявший документы";
    form_field(f, "Сұрау нөмірі / Номер запроса",
               json_object_get(d, "number"));
    form_when(f, "Қабылданған күні / Дата принятия",
              json_object_get(d, "accepted_at"));
    form_field(f, "Қызмет түрі / Вид услуги",
               json_object_get(d, "service"));
    form_add(f, ROW_FIELD, "Құжаттар саны мен атаулары / "
             "Количество и наименования документов",
             doc_list(f, json_object_get(d, "documents")));
    form_add(f, ROW_FIELD, "Нәтиже беру күні мен орны / "
             "Дата и место выдачи результата",
             dupf(f, "%s\n%s",
                  when(json_object_get(d, "result_due"), b1, 32),
                  val(json_object_get(d, "result_place"), b2, 32)));
    form_field(f, "Құжаттарды қабылдаған қызметкер / "
               "Сотрудник, принявший документы",
               json_object_get(d, "accepted_by"));
    form_field(f, "Өтініш беруші / Заявитель",
               json_object_get(d, "applicant_name"));
    /* p.14: the representative, with the phone */
    json_t *rep_phone = json_object_get(d, "representative_phone");
    if (json_is_string(rep_phone))
        form_add(f, ROW_FIELD, "Өкіл / Представитель",
                 dupf(f, "%s, %s",
                      val(json_object_get(d, "representative_name"), b1, 32),
                      json_string_value(rep_phone)));
    else
        form_field(f, "Өкіл / Представитель",
                   json_object_get(d, "representative_name"));
    form_add(f, ROW_FIELD, "Байланыс телефондары / Контактные телефоны",
             joined(f, json_object_get(d, "phones"), ", "));
    f->number = dupf(f, "%s", val(json_object_get(d, "number"), b1, 32));
    f->date = dupf(f, "%s", when(json_object_get(d, "accepted_at"), b1, 32));
    f->signer = dupf(f, "%s", val(json_object_get(d, "accepted_by"), b1, 32));
}

/* p.5, p.15: the registration notice with the queue number. */
static void form_notice(struct form *f, json_t *d)
{
    char b1[32], b2[32];
    json_t *q = json_object_get(d, "queue");
    json_t *kk = json_object_get(q, "list_name_kk");
    json_t *ru = json_object_get(q, "list_name_ru");
    f->title_kk = "Тұрғын үйге мұқтаж азаматтар есебіне алу туралы "
                  "хабарлама";
    f->title_ru = "Уведомление о постановке на учёт граждан, "
                  "нуждающихся в жилище";
    f->cite = "Мемлекеттік көрсетілетін қызмет стандартының 5, "
              "15-тармақтары / Пункты 5, 15 стандарта государственной "
              "услуги";
    f->sign_label = L_HEAD;
    form_field(f, L_APP_NO, json_object_get(d, "application_id"));
    form_field(f, L_IIN, json_object_get(d, "applicant_iin"));
    form_field(f, L_AUTH, json_object_get(d, "authority_name"));
    form_when(f, L_ISSUED, json_object_get(d, "issued_at"));
    if (json_is_string(kk) && json_is_string(ru))
        form_add(f, ROW_FIELD, "Кезек тізімі / Список очереди",
                 dupf(f, "%s / %s", json_string_value(kk),
                      json_string_value(ru)));
    else
        form_field(f, "Кезек тізімі / Список очереди",
                   json_object_get(q, "list"));
    form_add(f, ROW_KEY, "Кезектегі реттік нөмірі / "
             "Порядковый номер в очереди",
             dupf(f, "%s", val(json_object_get(q, "number"), b2, 32)));
    form_field(f, "Хабарлама берілген күнгі кезектегі орны / "
               "Место в очереди на день выдачи уведомления",
               json_object_get(q, "position_at_issue"));
    /* issue 24: the receipt of place in the queue's public log, to be
     * checked later (docs/transparency.md) — the secret is the key of
     * the leaf's commitment to this IIN */
    json_t *t = json_object_get(d, "transparency");
    json_t *sth = json_object_get(t, "sth");
    if (json_is_object(t) && json_is_object(sth)) {
        char at[26], shown[32];
        almaty_timestamp(json_integer_value(json_object_get(
                             sth, "timestamp_ms")) / 1000, at);
        json_t *atj = json_string(at);
        form_add(f, ROW_TEXT, "Кезектің ашық журналындағы орын түбіртегі / "
                 "Квитанция места в открытом журнале очереди",
                 dupf(f, "%s · жапырақ / лист %lld · ағаш / дерево %lld · "
                      "%s\nтүбір / корень %s\nқұпия кілт / секрет %s",
                      json_string_value(json_object_get(sth,
                                                        "authority_id")) ?: "",
                      (long long)json_integer_value(json_object_get(
                          t, "leaf_index")),
                      (long long)json_integer_value(json_object_get(
                          sth, "tree_size")),
                      when(atj, shown, sizeof(shown)),
                      json_string_value(json_object_get(sth, "root_hash"))
                          ?: "",
                      json_string_value(json_object_get(t, "secret"))
                          ?: ""));
        json_decref(atj);
    }
    form_add(f, ROW_TEXT, L_TEXT, two_texts(f, d));
    f->number = dupf(f, "%s",
                     val(json_object_get(d, "application_id"), b1, 32));
    f->date = dupf(f, "%s", when(json_object_get(d, "issued_at"), b1, 32));
}

/* p.5, p.15, p.16: the reasoned refusal, every reason with its
 * paragraph in both languages. */
static void form_refusal(struct form *f, json_t *d)
{
    char b1[32];
    f->title_kk = "Тұрғын үйге мұқтаж азаматтар есебіне алудан дәлелді "
                  "бас тарту";
    f->title_ru = "Мотивированный отказ в постановке на учёт граждан, "
                  "нуждающихся в жилище";
    f->cite = "Мемлекеттік көрсетілетін қызмет стандартының 5, 15, "
              "16-тармақтары / Пункты 5, 15, 16 стандарта "
              "государственной услуги";
    f->sign_label = L_HEAD;
    form_field(f, L_APP_NO, json_object_get(d, "application_id"));
    form_field(f, L_IIN, json_object_get(d, "applicant_iin"));
    form_field(f, L_AUTH, json_object_get(d, "authority_name"));
    form_when(f, L_ISSUED, json_object_get(d, "issued_at"));
    form_add(f, ROW_FIELD, "Бас тарту негіздері / Основания отказа",
             reason_list(f, json_object_get(d, "reasons")));
    form_add(f, ROW_TEXT, L_TEXT, two_texts(f, d));
    f->number = dupf(f, "%s",
                     val(json_object_get(d, "application_id"), b1, 32));
    f->date = dupf(f, "%s", when(json_object_get(d, "issued_at"), b1, 32));
}

/* p.25: every field of the complaint ticket. */
static void form_ticket(struct form *f, json_t *d)
{
    char b1[32], b2[32];
    f->title_kk = "Шағымды қабылдау туралы талон";
    f->title_ru = "Талон о принятии жалобы";
    f->cite = "Мемлекеттік көрсетілетін қызмет стандартының 25-тармағы / "
              "Пункт 25 стандарта государственной услуги";
    f->sign_label = "Шағымды қабылдаған қызметкер / "
                    "Сотрудник, принявший жалобу";
    form_field(f, "Талон нөмірі / Номер талона",
               json_object_get(d, "number"));
    form_when(f, "Шағымның қабылданған күні / Дата принятия жалобы",
              json_object_get(d, "accepted_at"));
    form_add(f, ROW_FIELD, "Қоса берілген құжаттар саны мен атаулары / "
             "Количество и наименования приложенных документов",
             doc_list(f, json_object_get(d, "documents")));
    form_add(f, ROW_FIELD, "Жауап беру күні, уақыты және орны / "
             "Дата, время и место ответа",
             dupf(f, "%s\n%s",
                  when(json_object_get(d, "answer_due"), b1, 32),
                  val(json_object_get(d, "answer_place"), b2, 32)));
    form_field(f, "Шағымды қабылдаған қызметкер / "
               "Сотрудник, принявший жалобу",
               json_object_get(d, "accepted_by"));
    form_add(f, ROW_FIELD, "Шағымның қаралу барысы туралы ақпарат беретін "
             "лауазымды адамның байланыс деректері / Контакты "
             "должностного лица, информирующего о ходе рассмотрения "
             "жалобы",
             joined(f, json_object_get(d, "contact_official"), ", "));
    f->number = dupf(f, "%s", val(json_object_get(d, "number"), b1, 32));
    f->date = dupf(f, "%s", when(json_object_get(d, "accepted_at"), b1, 32));
    f->signer = dupf(f, "%s", val(json_object_get(d, "accepted_by"), b1, 32));
}

/* A value of the filled form, or a line to write on in the blank one. */
static const char *or_line(json_t *v, const char *line)
{
    return json_is_string(v) && json_string_value(v)[0]
               ? json_string_value(v)
               : line;
}

/* Appendix 3 (p.11 item 1): the application, as the seed lays it out —
 * to the head of the housing department of the district or city, from
 * the applicant residing at an address, the request to be registered,
 * the attachments, the date and signature — in Kazakh and Russian; blank
 * to fill by hand, or filled from the receipt of an application
 * accepted (its number and date in the header). */
static void form_application(struct form *f, json_t *d)
{
    static const char *const line = "________________________________";
    char b1[32];
    bool filled = json_is_string(json_object_get(d, "applicant_name"));
    f->title_kk = "Өтініш";
    f->title_ru = "Заявление";
    f->cite = "Мемлекеттік көрсетілетін қызмет стандартының 3-қосымшасы / "
              "Приложение 3 к стандарту государственной услуги";
    f->sign_label = "Өтініш беруші (күні, қолы) / "
                    "Заявитель (дата, подпись)";
    f->citizen_signs = true;
    const char *to = json_string_value(json_object_get(d,
                                                       "authority_name"));
    if (to && *to) /* the department by its name (appendix 1) */
        form_add(f, ROW_FIELD, "Кімге / Кому",
                 dupf(f, "%s бастығына\nНачальнику: %s\n%s (аты-жөні / "
                      "Ф.И.О.)", to, to, line));
    else
        form_add(f, ROW_FIELD, "Кімге / Кому",
                 dupf(f, "%s қаласының / ауданының тұрғын үй "
                      "басқармасының (бөлімінің) бастығына\nНачальнику "
                      "жилищного управления (отдела) города / района %s\n"
                      "%s (аты-жөні / Ф.И.О.)", line, line, line));
    form_add(f, ROW_FIELD, "Кімнен / От кого",
             dupf(f, "%s\n(тегі, аты, әкесінің аты / фамилия, имя, "
                  "отчество)", or_line(json_object_get(d,
                  "applicant_name"), line)));
    if (json_is_string(json_object_get(d, "representative_name")))
        form_field(f, "Өкіл / Представитель",
                   json_object_get(d, "representative_name"));
    form_add(f, ROW_FIELD, "Мекенжайы / Адрес",
             dupf(f, "%s мекенжайда тұратын\nпроживающего по адресу %s",
                  line, line));
    form_add(f, ROW_TEXT, "Өтініш / Заявление",
             dupf(f, "Мені мемлекеттік тұрғын үй қорынан тұрғын үй / жеке "
                  "тұрғын үй қорынан жергілікті атқарушы орган жалдаған "
                  "тұрғын үй алу үшін есепке қоюды сұраймын.\n\nПрошу "
                  "поставить меня на учёт для получения жилища из "
                  "государственного жилищного фонда / жилища, арендованного "
                  "местным исполнительным органом в частном жилищном "
                  "фонде."));
    json_t *docs = json_object_get(d, "documents");
    form_add(f, ROW_FIELD, "Қосымша / Приложение",
             json_array_size(docs) ? doc_list(f, docs)
                                   : dupf(f, "%s\n%s", line, line));
    f->number = filled ? dupf(f, "%s", val(json_object_get(d, "number"),
                                           b1, 32))
                       : dupf(f, "____________");
    f->date = filled ? dupf(f, "%s", when(json_object_get(d,
                                                          "accepted_at"),
                                          b1, 32))
                     : dupf(f, "«___» ____________ 20___");
    f->signer = filled ? dupf(f, "%s", val(json_object_get(d,
                                                           "applicant_name"),
                                           b1, 32))
                       : NULL;
}

static void form_free(struct form *f)
{
    for (size_t i = 0; i < f->nrows; i++)
        free(f->rows[i].value);
    free(f->number);
    free(f->date);
    free(f->signer);
}

/* ---- drawing --------------------------------------------------------- */

/* Sets text (DASH if not UTF-8) at (x, y) in a box w wide, size points
 * at full scale; returns its height. Draws only when p->paint. */
static double put(struct pen *p, const char *text, double x, double y,
                  double w, double size, bool bold, PangoAlignment align)
{
    PangoLayout *l = pango_layout_new(p->pc);
    PangoFontDescription *fd = pango_font_description_from_string(FONT);
    int lw = 0, lh = 0;
    pango_font_description_set_size(fd, (int)(size * p->s * PANGO_SCALE));
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD
                                               : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    pango_layout_set_text(l, g_utf8_validate(text, -1, NULL) ? text : DASH,
                          -1);
    pango_layout_get_size(l, &lw, &lh);
    if (p->paint) {
        cairo_move_to(p->cr, x, y);
        pango_cairo_show_layout(p->cr, l);
    }
    g_object_unref(l);
    return (double)lh / PANGO_SCALE;
}

/* A horizontal rule across [x, x + w] at y. */
static void rule(struct pen *p, double x, double y, double w, double width,
                 double grey)
{
    if (!p->paint)
        return;
    cairo_set_source_rgb(p->cr, grey, grey, grey);
    cairo_set_line_width(p->cr, width);
    cairo_move_to(p->cr, x, y);
    cairo_line_to(p->cr, x + w, y);
    cairo_stroke(p->cr);
    cairo_set_source_rgb(p->cr, 0, 0, 0);
}

/* Header, titles, number and date, and the rows from the top margin
 * down; returns the y where they end. */
static double draw_body(struct pen *p, const struct form *f)
{
    const double x = MARGIN, w = PAGE_W - 2 * MARGIN, s = p->s;
    double y = MARGIN, h1, h2;
    char meta[160];
    cairo_set_source_rgb(p->cr, 0, 0, 0);
    y += put(p, f->authority, x, y, w, 11, true, PANGO_ALIGN_CENTER);
    y += 5 * s;
    rule(p, x, y, w, 1.0, 0);
    y += 12 * s;
    y += put(p, f->title_kk, x, y, w, 13.5, true, PANGO_ALIGN_CENTER);
    y += 3 * s;
    y += put(p, f->title_ru, x, y, w, 13.5, true, PANGO_ALIGN_CENTER);
    y += 4 * s;
    y += put(p, f->cite, x, y, w, 7.5, false, PANGO_ALIGN_CENTER);
    y += 10 * s;
    snprintf(meta, sizeof(meta), "№ %s", f->number ? f->number : DASH);
    h1 = put(p, meta, x, y, w / 2, 10.5, true, PANGO_ALIGN_LEFT);
    snprintf(meta, sizeof(meta), "Күні / Дата: %s",
             f->date ? f->date : DASH);
    h2 = put(p, meta, x + w / 2, y, w / 2, 10.5, true, PANGO_ALIGN_RIGHT);
    y += (h1 > h2 ? h1 : h2) + 5 * s;
    rule(p, x, y, w, 0.6, 0);
    y += 7 * s;
    for (size_t i = 0; i < f->nrows; i++) {
        const struct row *r = &f->rows[i];
        double in = r->style == ROW_TEXT ? 0 : 12 * s;
        double size = r->style == ROW_KEY ? 16 : r->style == ROW_TEXT
                                                     ? 9.5 : 10.5;
        cairo_set_source_rgb(p->cr, 0.3, 0.3, 0.3);
        y += put(p, r->label, x, y, w, 8, true, PANGO_ALIGN_LEFT);
        cairo_set_source_rgb(p->cr, 0, 0, 0);
        y += 2 * s;
        y += put(p, r->value, x + in, y, w - in, size,
                 r->style == ROW_KEY, PANGO_ALIGN_LEFT);
        y += 4 * s;
        if (i + 1 < f->nrows)
            rule(p, x, y, w, 0.4, 0.7);
        y += 5 * s;
    }
    return y;
}

/* The signature block at (x, y), w wide; returns its height. */
static double draw_sign(struct pen *p, const struct form *f, double x,
                        double y, double w)
{
    const double y0 = y, s = p->s;
    cairo_set_source_rgb(p->cr, 0.3, 0.3, 0.3);
    y += put(p, f->sign_label, x, y, w, 8, true, PANGO_ALIGN_LEFT);
    cairo_set_source_rgb(p->cr, 0, 0, 0);
    y += 4 * s;
    if (f->signer) {
        y += put(p, f->signer, x, y, w, 10.5, false, PANGO_ALIGN_LEFT);
        y += 4 * s;
    }
    y += 22 * s;
    y += put(p, "Қолы / Подпись: ______________________", x, y, w, 10,
             false, PANGO_ALIGN_LEFT);
    if (!f->citizen_signs) {
        y += 14 * s;
        y += put(p, "М.О. / М.П.", x, y, w, 10, false, PANGO_ALIGN_LEFT);
    }
    return y - y0;
}

/* Encodes payload (8-bit, level M) and sizes it: about 3-point modules
 * with a 4-module quiet zone, at least QR_SIDE_MIN wide. False with err
 * when it cannot be encoded or would not fit QR_SIDE_MAX. */
static bool qr_make(struct qr_box *q, const char *payload, char *err,
                    size_t errlen)
{
    q->code = QRcode_encodeString8bit(payload, 0, QR_ECLEVEL_M);
    if (!q->code) {
        set_err(err, errlen, "qr_payload of %zu bytes: %s",
                strlen(payload), strerror(errno));
        return false;
    }
    double n = q->code->width + 2 * QR_QUIET;
    q->module = QR_MODULE;
    if (n * q->module > QR_SIDE_PREF)
        q->module = QR_SIDE_PREF / n;
    if (q->module < QR_MODULE_MIN)
        q->module = QR_MODULE_MIN;
    if (n * q->module < QR_SIDE_MIN)
        q->module = QR_SIDE_MIN / n;
    q->side = n * q->module;
    if (q->side > QR_SIDE_MAX) {
        set_err(err, errlen, "qr_payload of %zu bytes needs a %d-module "
                "code, too large to print", strlen(payload),
                q->code->width);
        QRcode_free(q->code);
        q->code = NULL;
        return false;
    }
    return true;
}

/* Paints q's quiet zone white and its dark modules black, one path. */
static void qr_draw(cairo_t *cr, const struct qr_box *q, double x, double y)
{
    const int w = q->code->width;
    const double m = q->module;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x, y, q->side, q->side);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int r = 0; r < w; r++) {
        for (int c = 0; c < w;) {
            int e = c;
            while (e < w && (q->code->data[r * w + e] & 1))
                e++;
            if (e > c)
                cairo_rectangle(cr, x + (QR_QUIET + c) * m,
                                y + (QR_QUIET + r) * m, (e - c) * m, m);
            c = e > c ? e : c + 1;
        }
    }
    cairo_fill(cr);
}

/* cairo's write callback: appends to a growing buffer. */
static cairo_status_t out_write(void *closure, const unsigned char *data,
                                unsigned int length)
{
    struct out *o = closure;
    if (o->n + length > o->cap) {
        size_t cap = (o->n + length) * 2;
        unsigned char *p = realloc(o->p, cap);
        if (!p)
            return CAIRO_STATUS_WRITE_ERROR;
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, data, length);
    o->n += length;
    return CAIRO_STATUS_SUCCESS;
}

/* Lays f out at the largest scale (1.0 down to MIN_SCALE) at which the
 * body ends above the signature-and-QR band, then paints it. False
 * when nothing fits. */
static bool draw_page(cairo_t *cr, PangoContext *pc, const struct form *f,
                      const struct qr_box *q)
{
    struct pen p = {cr, pc, 1.0, false};
    const double sign_w = PAGE_W - 2 * MARGIN - q->side - 16;
    double band = q->side;
    bool fits = false;
    for (int step = 0; !fits && step <= 10; step++) {
        p.s = 1.0 - step * (1.0 - MIN_SCALE) / 10;
        double body = draw_body(&p, f);
        double sign = draw_sign(&p, f, MARGIN, 0, sign_w);
        band = sign > q->side ? sign : q->side;
        fits = body + 12 <= PAGE_H - MARGIN - band;
    }
    if (!fits)
        return false;
    p.paint = true;
    draw_body(&p, f);
    draw_sign(&p, f, MARGIN, PAGE_H - MARGIN - band, sign_w);
    qr_draw(cr, q, PAGE_W - MARGIN - q->side, PAGE_H - MARGIN - q->side);
    return true;
}

/* Sets the PDF's title and, for byte-identical output from identical
 * input, its creation date from the document's own date. */
static void set_metadata(cairo_surface_t *surf, const struct form *f,
                         json_t *doc)
{
    char title[512];
    snprintf(title, sizeof(title), "%s / %s", f->title_kk, f->title_ru);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR,
                                   "Kezek");
    static const char *const keys[] = {"accepted_at", "issued_at", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *s = json_string_value(json_object_get(doc, keys[i]));
        if (iso_date(s) && strlen(s) == 25 && s[10] == 'T') {
            cairo_pdf_surface_set_metadata(
                surf, CAIRO_PDF_METADATA_CREATE_DATE, s);
            break;
        }
    }
}

unsigned char *paper_render(enum paper_kind kind, json_t *doc,
                            const char *authority_name,
                            const char *qr_payload, size_t *len,
                            char *err, size_t errlen)
{
    static void (*const build[])(struct form *, json_t *) = {
        [PAPER_RECEIPT] = form_receipt,
        [PAPER_REGISTRATION_NOTICE] = form_notice,
        [PAPER_REFUSAL] = form_refusal,
        [PAPER_COMPLAINT_TICKET] = form_ticket,
        [PAPER_APPLICATION_FORM] = form_application,
    };
    struct form f = {0};
    struct qr_box q = {0};
    struct out o = {0};
    cairo_surface_t *surf = NULL;
    cairo_t *cr = NULL;
    PangoContext *pc = NULL;
    cairo_font_options_t *fo = NULL;
    bool ok = false;

    if (len)
        *len = 0;
    if (!len || (unsigned)kind >= sizeof(build) / sizeof(build[0])) {
        set_err(err, errlen, "paper: unknown kind %d or no len", (int)kind);
        return NULL;
    }
    if (!qr_payload || !*qr_payload) {
        set_err(err, errlen, "paper: qr_payload is required");
        return NULL;
    }
    if (!qr_make(&q, qr_payload, err, errlen))
        return NULL;
    build[kind](&f, doc);
    f.authority = authority_name && *authority_name ? authority_name
        : json_is_string(json_object_get(doc, "authority_name"))
            ? json_string_value(json_object_get(doc, "authority_name"))
            : DASH;
    if (f.oom) {
        set_err(err, errlen, "paper: out of memory");
        goto out;
    }
    surf = cairo_pdf_surface_create_for_stream(out_write, &o, PAGE_W,
                                               PAGE_H);
    set_metadata(surf, &f, doc);
    cr = cairo_create(surf);
    pc = pango_cairo_create_context(cr);
    pango_cairo_context_set_resolution(pc, 72.0); /* sizes in points */
    fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(pc, fo);
    if (!draw_page(cr, pc, &f, &q)) {
        set_err(err, errlen, "paper: the content does not fit one page");
        goto out;
    }
    cairo_show_page(cr);
    cairo_destroy(cr);
    cr = NULL;
    cairo_surface_finish(surf);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        set_err(err, errlen, "paper: cairo: %s",
                cairo_status_to_string(cairo_surface_status(surf)));
        goto out;
    }
    ok = true;
out:
    if (fo)
        cairo_font_options_destroy(fo);
    if (pc)
        g_object_unref(pc);
    if (cr)
        cairo_destroy(cr);
    if (surf)
        cairo_surface_destroy(surf);
    if (q.code)
        QRcode_free(q.code);
    form_free(&f);
    if (!ok) {
        free(o.p);
        return NULL;
    }
    *len = o.n;
    return o.p;
}
