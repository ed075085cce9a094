/* Writes the seed corpus of fuzz_event: envelopes as the services
 * produce them (each event type with a real payload), the edges of the
 * limits, and frames event_decode must refuse.
 *   make_event_seeds DIR */
#include "event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;
static int count;

static void write_seed(const char *name, const uint8_t *buf, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    count++;
}

static void seed(const char *name, const event_t *ev)
{
    size_t len;
    uint8_t *buf = event_encode(ev, &len);
    if (!buf)
        exit(1);
    write_seed(name, buf, len);
    free(buf);
}

/* ev with msg packed as its payload */
static event_t with(int type, const char *key, const ProtobufCMessage *msg)
{
    event_t ev = {0};
    ev.seq = 41;
    ev.type = type;
    strcpy(ev.event_id, "0192b5e8c7a1f3d2e4b6a8c0d2e4f6a8");
    snprintf(ev.key, sizeof(ev.key), "%s", key);
    strcpy(ev.producer, "kezek-intake");
    ev.occurred_at_us = 1767225600000000LL;
    ev.schema_version = KEZEK_SCHEMA_VERSION;
    ev.payload_len = protobuf_c_message_get_packed_size(msg);
    ev.payload = malloc(ev.payload_len ? ev.payload_len : 1);
    protobuf_c_message_pack(msg, ev.payload);
    return ev;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_event_seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    const char *app = "0192b5e8c7a10000aaaabbbbccccdddd";

    Kezek__ApplicationAccepted acc = KEZEK__APPLICATION_ACCEPTED__INIT;
    acc.application_id = (char *)app;
    acc.authority_id = "a-01-02";
    acc.settlement_id = "s-01-02";
    acc.category = "wwii";
    acc.channel = "office";
    acc.accepted_at_us = 1767225600000000LL;
    acc.result_due = "2026-01-09";
    acc.application_json = "{\"applicant\":{\"iin\":\"250509301016\","
                           "\"surname\":\"Ахметов\"},\"fund\":\"communal\"}";
    acc.principal = "office:a-01-02";
    acc.applicant_iin = "250509301016";
    event_t ev = with(KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED, app,
                      &acc.base);
    seed("application_accepted", &ev);
    /* the limits: a 64-byte key, a 31-byte producer, the largest seq */
    memset(ev.key, 'k', EVENT_KEY_MAX);
    ev.key[EVENT_KEY_MAX] = '\0';
    memset(ev.producer, 'p', sizeof(ev.producer) - 1);
    ev.seq = UINT64_MAX;
    ev.occurred_at_us = INT64_MAX;
    seed("limits", &ev);
    /* refused: a key of 65 bytes (encoded by hand: event_t holds 64) */
    {
        Kezek__Envelope env = KEZEK__ENVELOPE__INIT;
        char key[EVENT_KEY_MAX + 2];
        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        env.event_id = ev.event_id;
        env.type = KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED;
        env.seq = 1;
        env.occurred_at_us = 1;
        env.schema_version = KEZEK_SCHEMA_VERSION;
        env.producer = "kezek-intake";
        env.key = key;
        env.payload.data = (uint8_t *)"x";
        env.payload.len = 1;
        uint8_t buf[512];
        write_seed("key_too_long", buf, kezek__envelope__pack(&env, buf));
    }
    strcpy(ev.key, app);
    strcpy(ev.producer, "kezek-intake");
    ev.seq = 41;
    ev.occurred_at_us = 1767225600000000LL;
    ev.schema_version = 2;
    seed("version_2", &ev);
    ev.schema_version = KEZEK_SCHEMA_VERSION;
    ev.type = 7;
    seed("type_7", &ev);
    ev.type = -1;
    seed("type_negative", &ev);
    ev.type = KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED;
    ev.event_id[31] = '\0';
    seed("id_31", &ev);
    strcpy(ev.event_id, "0192b5e8c7a1f3d2e4b6a8c0d2e4f6a8");
    {
        size_t len;
        uint8_t *buf = event_encode(&ev, &len);
        write_seed("truncated", buf, len - 3);
        free(buf);
    }
    event_clear(&ev);

    Kezek__Reason r1 = KEZEK__REASON__INIT, r2 = KEZEK__REASON__INIT;
    r1.code = "p6.residence";
    r1.paragraph = "6";
    r2.code = "p16.2";
    r2.paragraph = "16.2";
    Kezek__Reason *reasons[] = {&r1, &r2};
    Kezek__DecisionMade dec = KEZEK__DECISION_MADE__INIT;
    dec.application_id = (char *)app;
    dec.registered = false;
    dec.n_reasons = 2;
    dec.reasons = reasons;
    dec.decided_at_us = 1767225600000001LL;
    dec.authority_id = "a-01-02";
    dec.list = "vulnerable";
    dec.accepted_seq = 41;
    dec.applicant_iin = "880314401023";
    dec.email = "demo@example.kz";
    dec.outcome = "refused";
    ev = with(KEZEK__EVENT_TYPE__DECISION_MADE, app, &dec.base);
    strcpy(ev.producer, "kezek-eligibility");
    seed("decision_made", &ev);
    event_clear(&ev);

    Kezek__QueueNumberAssigned q = KEZEK__QUEUE_NUMBER_ASSIGNED__INIT;
    q.application_id = (char *)app;
    q.authority_id = "a-01-02";
    q.list = "wwii";
    q.number = 17;
    q.position = 3;
    q.accepted_seq = 41;
    q.applicant_iin = "250509301016";
    q.assigned_at_us = 1767225600000002LL;
    ev = with(KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED, app, &q.base);
    strcpy(ev.producer, "kezek-queue");
    seed("queue_number_assigned", &ev);
    event_clear(&ev);

    Kezek__NoticeDelivered nd = KEZEK__NOTICE_DELIVERED__INIT;
    nd.application_id = (char *)app;
    nd.notice_id = "n-0192b5e8c7a1";
    nd.kind = "registration_notice";
    nd.channel = "email";
    nd.delivered_at_us = 1767225600000003LL;
    ev = with(KEZEK__EVENT_TYPE__NOTICE_DELIVERED, app, &nd.base);
    strcpy(ev.producer, "kezek-notify");
    seed("notice_delivered", &ev);
    event_clear(&ev);

    Kezek__ComplaintEvent ce = KEZEK__COMPLAINT_EVENT__INIT;
    ce.complaint_id = "cm-0192b5e8c7a1";
    ce.complainant_iin = "880314401023";
    ce.authority_id = "a-01-02";
    ce.document_json = "{\"text\":\"Жауап берілмеді\"}";
    ev = with(KEZEK__EVENT_TYPE__COMPLAINT_RECEIVED, "cm-0192b5e8c7a1",
              &ce.base);
    seed("complaint_received", &ev);
    ev.type = KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED;
    seed("complaint_answered", &ev);
    /* refused: no payload */
    free(ev.payload);
    ev.payload = NULL;
    ev.payload_len = 0;
    seed("empty_payload", &ev);
    event_clear(&ev);

    write_seed("empty", (const uint8_t *)"", 0);
    printf("%d seeds in %s\n", count, dir);
    return 0;
}
