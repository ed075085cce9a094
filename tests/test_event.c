/* lib/event: the envelope decoder rejects oversize, truncated,
 * malformed and wrong-version frames with a counted error — the events
 * that carry acceptances (p.14), decisions and numbers (p.5) and
 * deliveries (p.15). */
#include "event.h"
#include "metrics.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static event_t sample(void)
{
    event_t ev = {0};
    ev.seq = 42;
    ev.type = KEZEK__EVENT_TYPE__DECISION_MADE;
    event_new_id(ev.event_id);
    strcpy(ev.key, "app-1");
    strcpy(ev.producer, "test");
    ev.occurred_at_us = now_us();
    ev.schema_version = KEZEK_SCHEMA_VERSION;
    ev.payload = (uint8_t *)strdup("payload");
    ev.payload_len = 7;
    return ev;
}

static double errors(const char *reason)
{
    char l[48];
    snprintf(l, sizeof(l), "reason=\"%s\"", reason);
    return metric_value(metrics_counter("kezek_event_decode_errors_total",
                                        "Event frames rejected at decode",
                                        l));
}

Test(event, round_trip)
{
    event_t ev = sample(), out;
    size_t len;
    uint8_t *buf = event_encode(&ev, &len);
    cr_assert_eq(event_decode(buf, len, &out), EVENT_OK);
    cr_assert_eq(out.seq, 42);
    cr_assert_str_eq(out.event_id, ev.event_id);
    cr_assert_eq(out.payload_len, 7);
    cr_assert_eq(memcmp(out.payload, "payload", 7), 0);
    free(buf);
    event_clear(&ev);
    event_clear(&out);
}

Test(event, truncated_frames_are_rejected_and_counted)
{
    event_t ev = sample(), out;
    size_t len;
    uint8_t *buf = event_encode(&ev, &len);
    double before = errors("malformed") + errors("invalid") +
                    errors("version");
    int rejected = 0;
    for (size_t cut = 1; cut < len; cut++)
        if (event_decode(buf, cut, &out) != EVENT_OK)
            rejected++;
        else
            event_clear(&out);
    /* every cut short of the full frame loses a required field */
    cr_assert_eq(rejected, (int)len - 1);
    cr_assert_eq(errors("malformed") + errors("invalid") + errors("version"),
                 before + rejected);
    free(buf);
    event_clear(&ev);
}

Test(event, oversize_is_rejected)
{
    uint8_t *big = calloc(1, EVENT_MAX_BYTES + 1);
    event_t out;
    double before = errors("oversize");
    cr_assert_eq(event_decode(big, EVENT_MAX_BYTES + 1, &out),
                 EVENT_OVERSIZE);
    cr_assert_eq(errors("oversize"), before + 1);
    free(big);
}

Test(event, wrong_version_is_rejected)
{
    event_t ev = sample(), out;
    ev.schema_version = 99;
    size_t len;
    uint8_t *buf = event_encode(&ev, &len);
    cr_assert_eq(event_decode(buf, len, &out), EVENT_VERSION);
    free(buf);
    event_clear(&ev);
}

Test(event, garbage_is_rejected)
{
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    event_t out;
    cr_assert_neq(event_decode(junk, sizeof(junk), &out), EVENT_OK);
}
