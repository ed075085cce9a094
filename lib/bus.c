#include "bus.h"

#include "log.h"
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

struct bus {
    void *ctx;
    void *sock;
    pthread_mutex_t lock; /* a PUB is shared by the process's producers */
    metric_t *out, *in;
    /* a publisher's ZAP handler (with authentication) */
    void *zap;
    pthread_t zap_thread;
    bool zap_started;
    _Atomic bool stopping;
};

/* The process's bus identity (bus_auth_set). */
#define BUS_MAX_KEYS 64
static struct {
    bool on;
    char dir[256];
    char public_z85[41], secret_z85[41];
    uint8_t known[BUS_MAX_KEYS][32];   /* admitted subscribers */
    int nknown;
} auth;

/* Reads "public=…" and "secret=…" (Z85, 40 characters) from path. */
static bool read_keypair(const char *path, char *pub, char *sec)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[128];
    pub[0] = sec[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "public=", 7) == 0 && strlen(line + 7) == 40)
            memcpy(pub, line + 7, 41);
        else if (strncmp(line, "secret=", 7) == 0 && strlen(line + 7) == 40)
            memcpy(sec, line + 7, 41);
    }
    fclose(f);
    return pub[0] && sec[0];
}

/* Reads the Z85 public key of keys_dir/<name>.pub into z85 (41). */
static bool read_public(const char *dir, const char *name, size_t namelen,
                        char *z85)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%.*s.pub", dir, (int)namelen, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[128] = "";
    bool ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    uint8_t raw[32];
    ok = ok && strlen(line) == 40 && zmq_z85_decode(raw, line);
    if (ok)
        memcpy(z85, line, 41);
    return ok;
}

bool bus_keys_generate(const char *keys_dir, const char *name, char *err,
                       size_t errlen)
{
    char path[512], pub[41], sec[41];
    mkdir(keys_dir, 0700);
    snprintf(path, sizeof(path), "%s/%s.key", keys_dir, name);
    if (read_keypair(path, pub, sec))
        return true;
    if (zmq_curve_keypair(pub, sec) != 0) {
        snprintf(err, errlen, "bus: no CURVE in this libzmq");
        return false;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || fprintf(f, "public=%s\nsecret=%s\n", pub, sec) < 0 ||
        fclose(f) != 0) {
        snprintf(err, errlen, "bus: cannot write %s: %s", path,
                 strerror(errno));
        if (!f && fd >= 0)
            close(fd);
        return false;
    }
    snprintf(path, sizeof(path), "%s/%s.pub", keys_dir, name);
    f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", pub) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "bus: cannot write %s", path);
        return false;
    }
    return true;
}

bool bus_auth_set(const char *keys_dir, const char *name, char *err,
                  size_t errlen)
{
    char path[512];
    snprintf(auth.dir, sizeof(auth.dir), "%s", keys_dir);
    snprintf(path, sizeof(path), "%s/%s.key", keys_dir, name);
    if (!read_keypair(path, auth.public_z85, auth.secret_z85)) {
        snprintf(err, errlen, "bus: no key pair in %s (kezek keys "
                 "generate-bus)", path);
        return false;
    }
    DIR *d = opendir(keys_dir);
    if (!d) {
        snprintf(err, errlen, "bus: cannot read %s", keys_dir);
        return false;
    }
    auth.nknown = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && auth.nknown < BUS_MAX_KEYS) {
        size_t n = strlen(e->d_name);
        char z85[41];
        if (n > 4 && strcmp(e->d_name + n - 4, ".pub") == 0 &&
            read_public(keys_dir, e->d_name, n - 4, z85))
            zmq_z85_decode(auth.known[auth.nknown++], z85);
    }
    closedir(d);
    if (auth.nknown == 0) {
        snprintf(err, errlen, "bus: no public keys in %s", keys_dir);
        return false;
    }
    auth.on = true;
    log_info("bus.auth", "CURVE on the bus; %d known keys", auth.nknown);
    return true;
}

/* ZAP (RFC 27): answers the publisher's handshakes — 200 for a known
 * subscriber key, 400 for any other. */
static void *zap_loop(void *arg)
{
    bus_t *self = arg;
    metric_t *refused = metrics_counter("kezek_bus_auth_refused_total",
        "Bus subscribers refused (unknown CURVE key)", NULL);
    while (!atomic_load(&self->stopping)) {
        zmq_pollitem_t item = {self->zap, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        /* version, request id, domain, address, identity, mechanism,
         * credentials… */
        zmq_msg_t part[8];
        int n = 0;
        bool more = true;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, self->zap, 0) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (n < 8)
                part[n++] = m;
            else
                zmq_msg_close(&m);
        }
        bool ok = n >= 7 && zmq_msg_size(&part[5]) == 5 &&
                  memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0 &&
                  zmq_msg_size(&part[6]) == 32;
        bool known = false;
        for (int i = 0; ok && i < auth.nknown && !known; i++)
            known = memcmp(zmq_msg_data(&part[6]), auth.known[i], 32) == 0;
        if (!known)
            metric_inc(refused);
        if (n >= 2) {
            zmq_send(self->zap, "1.0", 3, ZMQ_SNDMORE);
            zmq_send(self->zap, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]),
                     ZMQ_SNDMORE);
            zmq_send(self->zap, known ? "200" : "400", 3, ZMQ_SNDMORE);
            zmq_send(self->zap, known ? "OK" : "unknown key",
                     known ? 2 : 11, ZMQ_SNDMORE);
            zmq_send(self->zap, "", 0, ZMQ_SNDMORE);
            zmq_send(self->zap, "", 0, 0);
        }
        for (int i = 0; i < n; i++)
            zmq_msg_close(&part[i]);
    }
    return NULL;
}

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

/* A publisher as a CURVE server behind its own ZAP handler (bound in
 * its context before the socket listens, so that no handshake goes
 * unanswered). */
static bool pub_auth(bus_t *self, char *err, size_t errlen)
{
    self->zap = zmq_socket(self->ctx, ZMQ_REP);
    int linger = 0, server = 1;
    if (!self->zap ||
        zmq_setsockopt(self->zap, ZMQ_LINGER, &linger, sizeof(linger)) ||
        zmq_bind(self->zap, "inproc://zeromq.zap.01") != 0) {
        snprintf(err, errlen, "bus: ZAP handler: %s", zmq_strerror(errno));
        return false;
    }
    if (pthread_create(&self->zap_thread, NULL, zap_loop, self) != 0) {
        snprintf(err, errlen, "bus: cannot start the ZAP handler");
        return false;
    }
    self->zap_started = true;
    if (zmq_setsockopt(self->sock, ZMQ_ZAP_DOMAIN, "kezek", 5) ||
        zmq_setsockopt(self->sock, ZMQ_CURVE_SERVER, &server,
                       sizeof(server)) ||
        zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, auth.secret_z85,
                       40)) {
        snprintf(err, errlen, "bus: CURVE: %s", zmq_strerror(errno));
        return false;
    }
    return true;
}

bus_t *bus_pub_new(const char *endpoint, char *err, size_t errlen)
{
    bus_t *self = bus_new(ZMQ_PUB, err, errlen);
    if (self && auth.on && !pub_auth(self, err, errlen))
        bus_destroy(&self);
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
    if (auth.on &&
        (zmq_setsockopt(self->sock, ZMQ_CURVE_PUBLICKEY, auth.public_z85,
                        40) ||
         zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, auth.secret_z85,
                        40))) {
        snprintf(err, errlen, "bus: CURVE: %s", zmq_strerror(errno));
        bus_destroy(&self);
        return NULL;
    }
    char *list = strdup(endpoints), *save = NULL;
    for (char *ep = strtok_r(list, ",", &save); ep;
         ep = strtok_r(NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        if (!*ep)
            continue;
        /* "name@endpoint": the publisher's name, for its public key */
        char *at = strchr(ep, '@');
        const char *name = at ? ep : NULL;
        size_t namelen = at ? (size_t)(at - ep) : 0;
        if (at)
            ep = at + 1;
        if (auth.on) {
            char server[41];
            if (!name || !read_public(auth.dir, name, namelen, server)) {
                snprintf(err, errlen, "bus: %s: no public key of its "
                         "publisher (write the endpoint name@…, with "
                         "name.pub in %s)", ep, auth.dir);
                bus_destroy(&self);
                break;
            }
            /* applies to the connects that follow */
            zmq_setsockopt(self->sock, ZMQ_CURVE_SERVERKEY, server, 40);
        }
        if (zmq_connect(self->sock, ep) != 0) {
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
    /* the socket first: no handshake may find the ZAP handler gone */
    if (self->sock)
        zmq_close(self->sock);
    atomic_store(&self->stopping, true);
    if (self->zap_started)
        pthread_join(self->zap_thread, NULL);
    if (self->zap)
        zmq_close(self->zap);
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
