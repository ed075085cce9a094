#include "event.h"

#include "metrics.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *rc_names[] = {"ok", "oversize", "malformed", "version",
                                 "invalid"};

const char *event_rc_str(enum event_rc rc)
{
    return rc_names[rc];
}

const char *event_type_name(int type)
{
    switch (type) {
    case KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED:
        return "application_accepted";
    case KEZEK__EVENT_TYPE__DECISION_MADE:
        return "decision_made";
    case KEZEK__EVENT_TYPE__QUEUE_NUMBER_ASSIGNED:
        return "queue_number_assigned";
    case KEZEK__EVENT_TYPE__NOTICE_DELIVERED:
        return "notice_delivered";
    case KEZEK__EVENT_TYPE__COMPLAINT_RECEIVED:
        return "complaint_received";
    case KEZEK__EVENT_TYPE__COMPLAINT_ANSWERED:
        return "complaint_answered";
    case KEZEK__EVENT_TYPE__QUEUE_CHANGED:
        return "queue_changed";
    default:
        return "unknown";
    }
}

static enum event_rc counted(enum event_rc rc)
{
    if (rc != EVENT_OK) {
        char labels[48];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", rc_names[rc]);
        metric_inc(metrics_counter("kezek_event_decode_errors_total",
                                   "Event frames rejected at decode",
                                   labels));
    }
    return rc;
}

enum event_rc event_validate(const event_t *ev)
{
    if (ev->schema_version != KEZEK_SCHEMA_VERSION)
        return EVENT_VERSION;
    if (strlen(ev->event_id) != 32 || ev->key[0] == '\0' ||
        ev->payload_len == 0 ||
        ev->producer[0] == '\0' || ev->occurred_at_us <= 0)
        return EVENT_INVALID;
    if (ev->type < KEZEK__EVENT_TYPE__APPLICATION_ACCEPTED ||
        ev->type > KEZEK__EVENT_TYPE__QUEUE_CHANGED)
        return EVENT_INVALID;
    return EVENT_OK;
}

static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        return false;
    memcpy(dst, src ? src : "", n + 1);
    return true;
}

enum event_rc event_decode(const uint8_t *buf, size_t len, event_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len > EVENT_MAX_BYTES)
        return counted(EVENT_OVERSIZE);
    Kezek__Envelope *env = kezek__envelope__unpack(NULL, len, buf);
    if (!env)
        return counted(EVENT_MALFORMED);
    enum event_rc rc = EVENT_OK;
    out->seq = env->seq;
    out->type = env->type;
    out->occurred_at_us = env->occurred_at_us;
    out->schema_version = env->schema_version;
    if (!copy_str(out->event_id, sizeof(out->event_id), env->event_id) ||
        !copy_str(out->key, sizeof(out->key), env->key) ||
        !copy_str(out->producer, sizeof(out->producer), env->producer))
        rc = EVENT_INVALID;
    if (rc == EVENT_OK && env->payload.len > 0) {
        out->payload = malloc(env->payload.len);
        if (!out->payload)
            rc = EVENT_INVALID;
        else
            memcpy(out->payload, env->payload.data, env->payload.len);
        out->payload_len = env->payload.len;
    }
    if (rc == EVENT_OK)
        rc = event_validate(out);
    kezek__envelope__free_unpacked(env, NULL);
    if (rc != EVENT_OK)
        event_clear(out);
    return counted(rc);
}

uint8_t *event_encode(const event_t *ev, size_t *len)
{
    Kezek__Envelope env = KEZEK__ENVELOPE__INIT;
    env.event_id = (char *)ev->event_id;
    env.type = (Kezek__EventType)ev->type;
    env.seq = ev->seq;
    env.occurred_at_us = ev->occurred_at_us;
    env.schema_version = ev->schema_version;
    env.producer = (char *)ev->producer;
    env.key = (char *)ev->key;
    env.payload.data = ev->payload;
    env.payload.len = ev->payload_len;
    *len = kezek__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        kezek__envelope__pack(&env, buf);
    return buf;
}

void event_clear(event_t *ev)
{
    free(ev->payload);
    memset(ev, 0, sizeof(*ev));
}

void event_new_id(char out[33])
{
    /* 48 bits of milliseconds, then 80 random bits: unique, unguessable,
     * and increasing with time, so that the indexes keyed by these ids
     * (applications, notices, decisions, queue entries) grow at their
     * right edge instead of on a random leaf each */
    unsigned char raw[16];
    uint64_t ms = (uint64_t)(now_us() / 1000);
    for (int i = 0; i < 6; i++)
        raw[i] = (unsigned char)(ms >> (40 - 8 * i));
    randombytes_buf(raw + 6, sizeof(raw) - 6);
    sodium_bin2hex(out, 33, raw, sizeof(raw));
}

int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
