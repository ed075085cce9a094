/* paper — the printed forms, read back the way a person or a scanner
 * would: pdfinfo (one A4 page), pdftotext -layout (every field value
 * and the labels in both languages, including Kazakh-only and
 * Russian-only words), pdftoppm at 150 dpi + zbarimg (the QR code
 * decodes to exactly the payload). p.14 receipt, p.5/p.15 registration
 * notice, p.16 refusal, p.25 complaint ticket; the notice and refusal
 * documents come from notice_registration / notice_refusal with the
 * real templates (KEZEK_SOURCE_DIR/templates).
 *
 * Samples are written to $KEZEK_PAPER_OUT (created if missing) or /tmp
 * as kezek-paper-NAME.pdf and .png. Needs poppler-utils, zbar-tools and
 * fonts-dejavu-core. Text is compared with all white space removed, so
 * that line wrapping and column padding do not matter. */
#include "notice.h"
#include "paper.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTHORITY "«Астана қаласының тұрғын үй және тұрғын үй инспекциясы " \
                  "басқармасы» ММ / ГУ «Управление жилья и жилищной "    \
                  "инспекции города Астаны»"
#define AT_US 1795583700000000LL  /* 2026-11-25T10:15:00+05:00 */
#define DEC_US 1797939600000000LL /* 2026-12-22T16:40:00+05:00 */

/* What the tools read back from one rendered form. */
struct readback {
    int pages;
    char *text; /* pdftotext -layout, white space removed */
    char *qr;   /* zbarimg --raw, without its final newline */
};

/* The directory for the samples; created when missing. */
static const char *out_dir(void)
{
    const char *d = getenv("KEZEK_PAPER_OUT");
    if (!d || !*d)
        return "/tmp";
    if (mkdir(d, 0755) != 0 && errno != EEXIST)
        cr_assert_fail("mkdir %s: %s", d, strerror(errno));
    return d;
}

/* The templates directory: KEZEK_SOURCE_DIR's, else this file's
 * repository's. */
static void templates_dir(char *out, size_t len)
{
    const char *src = getenv("KEZEK_SOURCE_DIR");
    if (src && *src) {
        snprintf(out, len, "%s/templates", src);
        return;
    }
    snprintf(out, len, "%s", __FILE__);
    char *slash = strrchr(out, '/');
    if (slash)
        snprintf(slash, len - (size_t)(slash - out), "/../templates");
    else
        snprintf(out, len, "../templates");
}

/* The whole output of cmd (malloc'd), and its exit status. */
static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 4096 > cap) {
            cap = (n + 4096) * 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        got = fread(buf + n, 1, cap - n - 1, p);
        n += got;
    } while (got > 0);
    buf[n] = '\0';
    *status = pclose(p);
    return buf;
}

/* s without any white space, in place. */
static char *squeeze(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++)
        if (!strchr(" \t\r\n\f\v", *r))
            *w++ = *r;
    *w = '\0';
    return s;
}

/* Renders doc as name, writes the PDF to a per-process file, reads it
 * back with pdfinfo, pdftotext, pdftoppm and zbarimg, and only then
 * renames the PDF and PNG to their sample names (so that two test runs
 * sharing the directory never read each other's half-written files). */
static struct readback render(enum paper_kind kind, json_t *doc,
                              const char *payload, const char *name)
{
    char err[256] = "", tmp[600], png[620], path[600], cmd[1400];
    size_t len = 0;
    int st;
    const char *dir = out_dir();
    cr_assert_null(strchr(dir, '\''), "quote in %s", dir);
    unsigned char *pdf = paper_render(kind, doc, AUTHORITY, payload, &len,
                                      err, sizeof(err));
    cr_assert_not_null(pdf, "%s: %s", name, err);
    cr_assert_gt(len, 1000);
    cr_assert(memcmp(pdf, "%PDF-", 5) == 0);

    snprintf(tmp, sizeof(tmp), "%s/kezek-paper-%s.%d", dir, name,
             (int)getpid());
    FILE *f = fopen(tmp, "wb");
    cr_assert_not_null(f, "%s: %s", tmp, strerror(errno));
    cr_assert_eq(fwrite(pdf, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    free(pdf);

    struct readback rb = {0};
    snprintf(cmd, sizeof(cmd), "pdfinfo '%s'", tmp);
    char *info = run(cmd, &st);
    cr_assert_eq(st, 0, "pdfinfo: %s", info);
    const char *pages = strstr(info, "Pages:");
    rb.pages = pages ? atoi(pages + 6) : -1;
    cr_expect_not_null(strstr(info, "595.276 x 841.89"), "not A4: %s",
                       info);
    free(info);

    snprintf(cmd, sizeof(cmd), "pdftotext -layout '%s' -", tmp);
    rb.text = run(cmd, &st);
    cr_assert_eq(st, 0, "pdftotext failed");
    squeeze(rb.text);

    snprintf(cmd, sizeof(cmd), "pdftoppm -r 150 -png -singlefile '%s' '%s'",
             tmp, tmp);
    free(run(cmd, &st));
    cr_assert_eq(st, 0, "pdftoppm failed");
    snprintf(png, sizeof(png), "%s.png", tmp);
    snprintf(cmd, sizeof(cmd), "zbarimg --nodbus --raw -q '%s'", png);
    rb.qr = run(cmd, &st);
    size_t n = strlen(rb.qr);
    if (n && rb.qr[n - 1] == '\n')
        rb.qr[n - 1] = '\0';

    snprintf(path, sizeof(path), "%s/kezek-paper-%s.pdf", dir, name);
    cr_assert_eq(rename(tmp, path), 0, "rename: %s", strerror(errno));
    snprintf(path, sizeof(path), "%s/kezek-paper-%s.png", dir, name);
    cr_assert_eq(rename(png, path), 0, "rename: %s", strerror(errno));
    cr_log_info("%s: %s/kezek-paper-%s.pdf", name, dir, name);
    return rb;
}

/* Expects needle (white space ignored) in the read-back text. */
static void has(const struct readback *rb, const char *needle)
{
    char *n = squeeze(strdup(needle));
    cr_expect_not_null(strstr(rb->text, n), "missing «%s»", needle);
    free(n);
}

/* One page, and the QR code reads back as exactly payload. */
static void page_and_qr(const struct readback *rb, const char *payload)
{
    cr_expect_eq(rb->pages, 1, "pages: %d", rb->pages);
    cr_expect_str_eq(rb->qr, payload);
}

static void readback_free(struct readback *rb)
{
    free(rb->text);
    free(rb->qr);
}

/* A receipt as POST /v1/applications returns it. */
static json_t *receipt(void)
{
    return json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}],"
        " s:s, s:s, s:s, s:s, s:s, s:[s, s]}",
        "number", "R-0102-2026-000417",
        "accepted_at", "2026-11-25T10:15:00+05:00",
        "service", "Тұрғын үйге мұқтаж азаматтарды есепке қою / "
                   "Постановка на учёт граждан, нуждающихся в жилище",
        "documents",
        "code", "application_form", "name",
        "Өтініш (3-қосымша) / Заявление (приложение 3)",
        "code", "vulnerable_status_document", "name",
        "Әлеуметтік осал топқа жататынын растайтын құжат / Документ, "
        "подтверждающий принадлежность к социально уязвимой группе",
        "code", "income_certificate", "name",
        "Отбасының табысы туралы анықтама / Справка о доходах семьи",
        "result_due", "2026-12-25",
        "result_place", "Астана қ., Бейбітшілік к-сі, 11, 104-кабинет",
        "accepted_by", "Сәрсенбаева Гүлнұр Қайратқызы",
        "applicant_name", "Өтебаев Ерғали Нұрланұлы",
        "representative_name", "Жұмабекова Әйгерім Серікқызы",
        "phones", "+7 701 123 45 67", "+7 717 255 10 20");
}

Test(paper, p14_receipt_prints_every_field_in_both_languages)
{
    json_t *doc = receipt();
    const char *payload = "https://kezek.gov.kz/r/R-0102-2026-000417"
                          "?t=2026-11-25T10:15:00%2B05:00";
    struct readback rb = render(PAPER_RECEIPT, doc, payload, "receipt");
    page_and_qr(&rb, payload);
    static const char *const want[] = {
        /* p.14 labels, Kazakh / Russian */
        "Сұрау нөмірі / Номер запроса",
        "Қабылданған күні / Дата принятия", "Қызмет түрі / Вид услуги",
        "Құжаттар саны мен атаулары / Количество и наименования "
        "документов",
        "Нәтиже беру күні мен орны / Дата и место выдачи результата",
        "Құжаттарды қабылдаған қызметкер / Сотрудник, принявший "
        "документы",
        "Өтініш беруші / Заявитель", "Өкіл / Представитель",
        "Байланыс телефондары / Контактные телефоны",
        /* Kazakh-only and Russian-only words of the title */
        "қолхат", "Расписка", "14-тармағы", "Пункт 14",
        /* the values */
        AUTHORITY, "R-0102-2026-000417", "25.11.2026 10:15",
        "Постановка на учёт граждан, нуждающихся в жилище",
        "Барлығы / Всего: 3", "1. Өтініш (3-қосымша)",
        "2. Әлеуметтік осал топқа жататынын растайтын құжат",
        "социально уязвимой группе",
        "3. Отбасының табысы туралы анықтама / Справка о доходах семьи",
        "25.12.2026", "Астана қ., Бейбітшілік к-сі, 11, 104-кабинет",
        "Сәрсенбаева Гүлнұр Қайратқызы", "Өтебаев Ерғали Нұрланұлы",
        "Жұмабекова Әйгерім Серікқызы",
        "+7 701 123 45 67, +7 717 255 10 20",
        "Қолы / Подпись", "М.О. / М.П.", NULL};
    for (int i = 0; want[i]; i++)
        has(&rb, want[i]);
    readback_free(&rb);
    json_decref(doc);
}

Test(paper, p14_receipt_missing_and_mistyped_fields_print_a_dash)
{
    json_t *doc = receipt();
    json_object_set_new(doc, "representative_name", json_null());
    json_object_set_new(doc, "phones", json_string("+7 702 000 11 22"));
    json_object_set_new(doc, "documents", json_integer(5));
    json_object_del(doc, "accepted_by");
    json_object_set_new(doc, "result_place", json_true());
    const char *payload = "R-0102-2026-000417";
    struct readback rb = render(PAPER_RECEIPT, doc, payload,
                                "receipt-dashes");
    page_and_qr(&rb, payload);
    has(&rb, "Өкіл / Представитель —");
    has(&rb, "Байланыс телефондары / Контактные телефоны "
             "+7 702 000 11 22");
    has(&rb, "Барлығы / Всего: 0");
    has(&rb, "Дата и место выдачи результата 25.12.2026 —");
    has(&rb, "Сотрудник, принявший документы —");
    readback_free(&rb);
    json_decref(doc);
}

/* Templates for notice_registration / notice_refusal. */
static void load_templates(struct notice_templates *t)
{
    char dir[600], err[256];
    templates_dir(dir, sizeof(dir));
    cr_assert(notice_templates_load(t, dir, err, sizeof(err)), "%s", err);
}

Test(paper, p5_p15_registration_notice_with_queue_number)
{
    struct notice_templates t;
    load_templates(&t);
    json_t *doc = notice_registration(
        &t, "0f9a3c2e-5b1d-4e8a-9c47-2d6b1e8f0a13", "791028300018",
        "a-01-02", "Астана қаласының тұрғын үй басқармасы / Управление "
        "жилья города Астаны", "vulnerable", 417, 128, DEC_US);
    /* issue 24: the receipt of place in the queue's public log */
    json_object_set_new(doc, "transparency", json_pack(
        "{s:s, s:i, s:s, s:s, s:{s:s, s:i, s:s, s:I, s:s, s:s}}", "format",
        "kezek-tlog-v1", "leaf_index", 5120, "secret",
        "9d1c0e3b7a5f42d8b6e1c3a9f07d2e4b5c8a1f3e6d9b2c4a7e0f1d3b5c7a9e2f",
        "entry", "{}", "sth", "authority_id", "a-01-02", "tree_size", 5121,
        "root_hash",
        "73a4f6e94ce4763f883fab21d20b214a81de602fef837533a9810048913e9e31",
        "timestamp_ms", (json_int_t)(DEC_US / 1000), "key_id", "key-a-01-02",
        "signature", "c2lnbmF0dXJl"));
    const char *payload =
        "kezek:v1:registration_notice:0f9a3c2e-5b1d-4e8a-9c47-2d6b1e8f0a13:"
        "key-a-01-02:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9v"
        "YmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYg==";
    struct readback rb = render(PAPER_REGISTRATION_NOTICE, doc, payload,
                                "registration-notice");
    page_and_qr(&rb, payload);
    static const char *const want[] = {
        "хабарлама", "Уведомление", "5, 15-тармақтары", "Пункты 5, 15",
        "Өтініш нөмірі / Номер заявления",
        "0f9a3c2e-5b1d-4e8a-9c47-2d6b1e8f0a13",
        "Өтініш берушінің ЖСН / ИИН заявителя 791028300018",
        "Уәкілетті орган / Уполномоченный орган",
        "Управление жилья города Астаны",
        "Берілген күні / Дата выдачи 22.12.2026 16:40",
        "Кезек тізімі / Список очереди vulnerable",
        "Кезектегі реттік нөмірі / Порядковый номер в очереди 417",
        "Хабарлама берілген күнгі кезектегі орны / Место в очереди на "
        "день выдачи уведомления 128",
        "Кезектің ашық журналындағы орын түбіртегі / Квитанция места в "
        "открытом журнале очереди",
        "a-01-02 · жапырақ / лист 5120 · ағаш / дерево 5121 · 22.12.2026 16:40",
        "түбір / корень 73a4f6e94ce4763f883fab21d20b214a81de602fef837533a9810048913e9e31",
        "құпия кілт / секрет 9d1c0e3b7a5f42d8b6e1c3a9f07d2e4b5c8a1f3e6d9b2c4a7e0f1d3b5c7a9e2f",
        "Хабарлама мәтіні / Текст уведомления", NULL};
    for (int i = 0; want[i]; i++)
        has(&rb, want[i]);
    has(&rb, json_string_value(json_object_get(doc, "text_kk")));
    has(&rb, json_string_value(json_object_get(doc, "text_ru")));
    readback_free(&rb);
    json_decref(doc);
    notice_templates_free(&t);
}

/* Renders a refusal of codes and checks every reason, with its
 * paragraph, in both languages, and the notice texts. */
static void check_refusal(const char *const *codes, size_t n,
                          const char *name, const char *payload)
{
    struct notice_templates t;
    load_templates(&t);
    json_t *doc = notice_refusal(
        &t, "7c1e9b40-2a6f-4d3b-8e15-90f2c4a7d6e1", "791028300018",
        "a-01-02", "Астана қаласының тұрғын үй басқармасы / Управление "
        "жилья города Астаны", codes, n, DEC_US);
    struct readback rb = render(PAPER_REFUSAL, doc, payload, name);
    page_and_qr(&rb, payload);
    has(&rb, "бас тарту");
    has(&rb, "Мотивированный отказ");
    has(&rb, "16-тармақтары");
    has(&rb, "Пункты 5, 15, 16");
    has(&rb, "Бас тарту негіздері / Основания отказа");
    has(&rb, "7c1e9b40-2a6f-4d3b-8e15-90f2c4a7d6e1");
    has(&rb, "Берілген күні / Дата выдачи 22.12.2026 16:40");
    json_t *reasons = json_object_get(doc, "reasons");
    cr_assert_eq(json_array_size(reasons), n);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(reasons, i);
        const char *para = json_string_value(json_object_get(r, "paragraph"));
        char line[1024];
        snprintf(line, sizeof(line), "%zu. (т. %s) %s", i + 1, para,
                 json_string_value(json_object_get(r, "text_kk")));
        has(&rb, line);
        snprintf(line, sizeof(line), "(п. %s) %s", para,
                 json_string_value(json_object_get(r, "text_ru")));
        has(&rb, line);
    }
    has(&rb, json_string_value(json_object_get(doc, "text_kk")));
    has(&rb, json_string_value(json_object_get(doc, "text_ru")));
    readback_free(&rb);
    json_decref(doc);
    notice_templates_free(&t);
}

Test(paper, p16_refusal_prints_every_reason_with_its_paragraph)
{
    static const char *const codes[] = {"p16.1", "p16.2", "p6.income"};
    check_refusal(codes, 3, "refusal",
                  "kezek:v1:refusal:7c1e9b40-2a6f-4d3b-8e15-90f2c4a7d6e1");
}

Test(paper, p16_refusal_with_every_reason_stays_on_one_page)
{
    static const char *const codes[] = {
        "p6.citizenship", "p6.residence", "p6.category", "p6.income",
        "p6.orphan_age", "p6.need.1", "p6.need.2", "p6.need.3",
        "p6.need.4", "p6.need.5", "p6.need.6", "p16.1", "p16.2", "p16.3",
        "p16.4", "p16.5"};
    check_refusal(codes, sizeof(codes) / sizeof(codes[0]), "refusal-long",
                  "kezek:v1:refusal:7c1e9b40-2a6f-4d3b-8e15-90f2c4a7d6e1:"
                  "key-a-01-02:c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2ln"
                  "bmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0"
                  "dXJl");
}

Test(paper, p25_complaint_ticket_prints_every_field)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:[{s:s}, {s:s}], s:s, s:s, s:s,"
        " s:{s:s, s:s, s:s}}",
        "number", "Ж-0102-2026-000031",
        "accepted_at", "2026-12-28T11:05:00+05:00",
        "documents", "name", "Шағым / Жалоба",
        "name", "Бас тарту хабарламасының көшірмесі / Копия уведомления "
                "об отказе",
        "answer_due", "2027-01-15T15:00:00+05:00",
        "answer_place", "Астана қ. әкімдігі, Бейбітшілік к-сі, 11, "
                        "312-кабинет",
        "accepted_by", "Нұрмағанбетов Дәулет Ғабитұлы",
        "contact_official",
        "name", "Иманғалиева Сәуле Бекқызы",
        "phone", "+7 717 255 30 40",
        "email", "s.imangalieva@astana.gov.kz");
    /* Kazakh letters in the payload: the code carries UTF-8 bytes. */
    const char *payload = "Талон Ж-0102-2026-000031 · ә ғ қ ң ө ұ ү һ і";
    struct readback rb = render(PAPER_COMPLAINT_TICKET, doc, payload,
                                "complaint-ticket");
    page_and_qr(&rb, payload);
    static const char *const want[] = {
        "талон", "Талон о принятии жалобы", "25-тармағы", "Пункт 25",
        "Талон нөмірі / Номер талона Ж-0102-2026-000031",
        "Шағымның қабылданған күні / Дата принятия жалобы "
        "28.12.2026 11:05",
        "Қоса берілген құжаттар саны мен атаулары / Количество и "
        "наименования приложенных документов Барлығы / Всего: 2",
        "1. Шағым / Жалоба",
        "2. Бас тарту хабарламасының көшірмесі / Копия уведомления об "
        "отказе",
        "Жауап беру күні, уақыты және орны / Дата, время и место ответа "
        "15.01.2027 15:00",
        "Астана қ. әкімдігі, Бейбітшілік к-сі, 11, 312-кабинет",
        "Шағымды қабылдаған қызметкер / Сотрудник, принявший жалобу "
        "Нұрмағанбетов Дәулет Ғабитұлы",
        "лауазымды адамның байланыс деректері / Контакты должностного "
        "лица, информирующего о ходе рассмотрения жалобы",
        "Иманғалиева Сәуле Бекқызы, +7 717 255 30 40, "
        "s.imangalieva@astana.gov.kz", NULL};
    for (int i = 0; want[i]; i++)
        has(&rb, want[i]);
    readback_free(&rb);
    json_decref(doc);
}

Test(paper, p14_p15_p25_any_doc_shape_renders_without_crashing)
{
    json_t *docs[] = {NULL, json_array(), json_object(),
                      json_pack("{s:i, s:[i], s:{}, s:b, s:[n, s], s:s,"
                                " s:[{s:i}], s:i}",
                                "number", 5, "accepted_at", 7, "queue",
                                "reasons", true, "documents", "x",
                                "contact_official", "", "phones", "name",
                                3, "text_kk", 1)};
    for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
        for (int k = PAPER_RECEIPT; k <= PAPER_COMPLAINT_TICKET; k++) {
            char err[256] = "";
            size_t len = 0;
            unsigned char *pdf = paper_render((enum paper_kind)k, docs[d],
                                              NULL, "x", &len, err,
                                              sizeof(err));
            cr_expect_not_null(pdf, "doc %zu kind %d: %s", d, k, err);
            cr_expect(pdf && len > 1000 && memcmp(pdf, "%PDF-", 5) == 0);
            free(pdf);
        }
        json_decref(docs[d]);
    }
}

Test(paper, p14_same_receipt_gives_the_same_bytes)
{
    json_t *doc = receipt();
    char err[256];
    size_t n1 = 0, n2 = 0;
    unsigned char *a = paper_render(PAPER_RECEIPT, doc, AUTHORITY, "q",
                                    &n1, err, sizeof(err));
    unsigned char *b = paper_render(PAPER_RECEIPT, doc, AUTHORITY, "q",
                                    &n2, err, sizeof(err));
    cr_assert(a && b, "%s", err);
    cr_expect(n1 == n2 && memcmp(a, b, n1) == 0,
              "a repeated request must get the same receipt");
    free(a);
    free(b);
    json_decref(doc);
}

Test(paper, p14_p15_p25_no_paper_without_a_printable_qr_payload)
{
    json_t *doc = receipt();
    char err[256], big[1400];
    size_t len = 99;
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err[0] = '\0';
    cr_expect_null(paper_render(PAPER_RECEIPT, doc, NULL, "", &len, err,
                                sizeof(err)));
    cr_expect_eq(len, 0);
    cr_expect_neq(err[0], '\0');
    err[0] = '\0';
    cr_expect_null(paper_render(PAPER_RECEIPT, doc, NULL, NULL, &len, err,
                                sizeof(err)));
    cr_expect_neq(err[0], '\0');
    err[0] = '\0';
    cr_expect_null(paper_render((enum paper_kind)42, doc, NULL, "x", &len,
                                err, sizeof(err)));
    cr_expect_neq(err[0], '\0');
    err[0] = '\0';
    cr_expect_null(paper_render(PAPER_RECEIPT, doc, NULL, big, &len, err,
                                sizeof(err)));
    cr_expect_not_null(strstr(err, "too large"), "%s", err);
    json_decref(doc);
}
