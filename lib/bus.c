#include "bus.h"

#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct bus {
    void *ctx;
    void *sock;
    pthread_mutex_t lock; /* a PUB is shared by the process's producers */
    metric_t *out, *in;
};

static bus_t *bus_new(int type, char *err, size_t errlen)
{
    bus_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->ctx = zmq_ctx_new();
    self->sock = zmq_socket(self->ctx, type);
    if (!self->sock) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        bus_destroy(&self);
        return NULL;
    }
    int linger = 0, hwm = 100000;
    int64_t maxsize = EVENT_MAX_BYTES;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxsize, sizeof(maxsize));
    int ivl = 100, ivl_max = 5000; /* reconnect backoff */
    zmq_setsockopt(self->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
    zmq_setsockopt(self->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max,
                   sizeof(ivl_max));
    self->out = metrics_counter("kezek_bus_published_total",
                                "Events published on the bus", NULL);
    self->in = metrics_counter("kezek_bus_received_total",
                               "Event frames received from the bus", NULL);
    return self;
}

bus_t *bus_pub_new(const char *endpoint, char *err, size_t errlen)
{
    bus_t *self = bus_new(ZMQ_PUB, err, errlen);
    if (self && zmq_bind(self->sock, endpoint) != 0) {
        snprintf(err, errlen, "bind %s: %s", endpoint, zmq_strerror(errno));
        bus_destroy(&self);
    }
    return self;
}

bus_t *bus_sub_new(const char *endpoints, char *err, size_t errlen)
{
    bus_t *self = bus_new(ZMQ_SUB, err, errlen);
    if (!self)
        return NULL;
    zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, "", 0);
    char *list = strdup(endpoints), *save = NULL;
    for (char *ep = strtok_r(list, ",", &save); ep;
         ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (*ep && zmq_connect(self->sock, ep) != 0) {
            snprintf(err, errlen, "connect %s: %s", ep, zmq_strerror(errno));
            bus_destroy(&self);
            break;
        }
    }
    free(list);
    return self;
}

void bus_destroy(bus_t **self_p)
{
    bus_t *self = *self_p;
    if (!self)
        return;
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

bool bus_publish(bus_t *self, const event_t *ev)
{
    size_t len;
    uint8_t *buf = event_encode(ev, &len);
    if (!buf)
        return false;
    /* ZeroMQ sockets are not thread-safe; the mutex also gives the
     * full memory barrier they need between threads */
    pthread_mutex_lock(&self->lock);
    int rc = zmq_send(self->sock, buf, len, ZMQ_DONTWAIT);
    pthread_mutex_unlock(&self->lock);
    free(buf);
    if (rc < 0)
        return false;
    metric_inc(self->out);
    return true;
}

int bus_recv(bus_t *self, int timeout_ms, event_t *ev)
{
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, timeout_ms);
    if (rc <= 0 || !(item.revents & ZMQ_POLLIN))
        return 0;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, self->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        return 0;
    }
    metric_inc(self->in);
    enum event_rc erc = event_decode(zmq_msg_data(&msg),
                                     zmq_msg_size(&msg), ev);
    bool more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
    while (more) { /* we send single frames; discard any extra parts */
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->sock, ZMQ_DONTWAIT) < 0)
            more = false;
        else
            more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);
        if (erc == EVENT_OK) {
            event_clear(ev);
            erc = EVENT_MALFORMED;
        }
    }
    if (erc != EVENT_OK) {
        log_warn("bus.reject", "frame rejected: %s", event_rc_str(erc));
        return -1;
    }
    return 1;
}
