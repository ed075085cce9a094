/* lib/event.c event_decode, the bus boundary: any frame is decoded or
 * refused without a fault; a refused one leaves nothing behind; an
 * accepted one is valid (event_validate), and decode → encode → decode
 * gives the same event, encode being canonical (byte-identical the
 * second time). */
#include "fuzz.h"

#include "event.h"

static void same_event(const event_t *a, const event_t *b)
{
    CHECK(a->seq == b->seq);
    CHECK(a->type == b->type);
    CHECK(strcmp(a->event_id, b->event_id) == 0);
    CHECK(strcmp(a->key, b->key) == 0);
    CHECK(strcmp(a->producer, b->producer) == 0);
    CHECK(a->occurred_at_us == b->occurred_at_us);
    CHECK(a->schema_version == b->schema_version);
    CHECK(a->payload_len == b->payload_len);
    CHECK(memcmp(a->payload, b->payload, a->payload_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_t ev;
    enum event_rc rc = event_decode(data, size, &ev);
    CHECK(rc >= EVENT_OK && rc <= EVENT_INVALID);
    CHECK(event_rc_str(rc) != NULL);
    if (rc != EVENT_OK) {
        static const event_t zero;
        CHECK(memcmp(&ev, &zero, sizeof(ev)) == 0); /* owns nothing */
        return 0;
    }
    CHECK(event_validate(&ev) == EVENT_OK);
    CHECK(strlen(ev.event_id) == 32 && ev.key[0] && ev.producer[0]);
    CHECK(ev.payload != NULL && ev.payload_len > 0 && ev.payload_len <= size);
    CHECK(strcmp(event_type_name(ev.type), "unknown") != 0);

    size_t len;
    uint8_t *buf = event_encode(&ev, &len);
    CHECK(buf != NULL);
    event_t again;
    CHECK(event_decode(buf, len, &again) == EVENT_OK);
    same_event(&ev, &again);
    size_t len2;
    uint8_t *buf2 = event_encode(&again, &len2);
    CHECK(buf2 != NULL && len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
    event_clear(&again);
    event_clear(&ev);
    CHECK(ev.payload == NULL);
    return 0;
}
