/*
 * latency.c - one query at a time: the round-trip time of each, as a distribution.
 *
 * dnsperf reports an average at a fixed rate, which a few slow outliers (a VM's vCPU waking late) swing by tens of
 * percent from run to run, and a VM's speed drifts over minutes. This client sends the names of QUERYFILE ("name
 * TYPE" lines, dnsperf's format) one after the other, each when the previous one was answered (or after a 1 s
 * timeout), GAP_US microseconds apart, and prints the median, mean and tail of the round-trip times. Given several
 * ports, it asks each name of every server in turn, so all servers see the same names under the same conditions.
 *
 * usage: latency PORT[,PORT...] QUERYFILE [GAP_US]      (127.0.0.1; GAP_US 200 by default)
 * prints, a line per port: port P answered N lost N p50_us X mean_us X p90_us X p99_us X
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned type_code(const char *type)
{
    static const struct { const char *name; unsigned code; } types[] = {
        { "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 }, { "MX", 15 }, { "TXT", 16 },
        { "AAAA", 28 }, { "SRV", 33 }, { "DS", 43 }, { "DNSKEY", 48 }, { "HTTPS", 65 }, { "ANY", 255 },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(type, types[i].name) == 0)
            return types[i].code;
    return 1;
}

/* A query for NAME/TYPE with ID, RD set and an OPT record (payload 1232): its length, or 0 when NAME is bad. */
static size_t build(unsigned char *q, unsigned id, const char *name, unsigned type)
{
    unsigned char header[12] = { id >> 8, id & 0xFF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1 };
    memcpy(q, header, 12);
    size_t p = 12;
    const char *label = name;
    while (*label && !(label[0] == '.' && label[1] == 0)) {
        const char *dot = strchr(label, '.');
        size_t length = dot ? (size_t)(dot - label) : strlen(label);
        if (length == 0 || length > 63 || p + length + 1 > 260)
            return 0;
        q[p++] = (unsigned char)length;
        memcpy(q + p, label, length);
        p += length;
        label += length + (dot ? 1 : 0);
    }
    q[p++] = 0;
    unsigned char tail[15] = { type >> 8, type & 0xFF, 0, 1, 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0 };
    memcpy(q + p, tail, 15);
    return p + 15;
}

struct server {
    int port, fd;
    size_t capacity, answered, lost;
    double *rtts;
};

/* Asks SERVER one query (ID, NAME, TYPE) and waits at most 1 s for its answer: the round-trip time is recorded, or
 * the query counted as lost. */
static void ask(struct server *server, unsigned id, const char *name, unsigned type)
{
    unsigned char query[300], answer[4096];
    size_t length = build(query, id, name, type);
    if (length == 0)
        return;
    double sent = now_us(), deadline = sent + 1e6, received = 0;
    send(server->fd, query, length, 0);
    for (;;) {
        double left = deadline - now_us();
        struct pollfd wait = { .fd = server->fd, .events = POLLIN };
        if (left <= 0 || poll(&wait, 1, (int)(left / 1000) + 1) <= 0)
            break;
        ssize_t n = recv(server->fd, answer, sizeof answer, 0);
        if (n >= 12 && ((answer[0] << 8) | answer[1]) == id) {
            received = now_us();
            break;
        }
    }
    if (received == 0) {
        server->lost++;
        return;
    }
    if (server->answered == server->capacity)
        server->rtts = realloc(server->rtts, (server->capacity *= 2) * sizeof *server->rtts);
    server->rtts[server->answered++] = received - sent;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: latency PORT[,PORT...] QUERYFILE [GAP_US]\n");
        return 2;
    }
    useconds_t gap = argc > 3 ? (useconds_t)atoi(argv[3]) : 200;
    FILE *file = fopen(argv[2], "r");
    if (!file) {
        perror(argv[2]);
        return 2;
    }
    enum { MAX_PORTS = 16 };
    struct server servers[MAX_PORTS];
    int count = 0;
    for (char *port = strtok(argv[1], ","); port && count < MAX_PORTS; port = strtok(NULL, ","), count++) {
        struct server *s = &servers[count];
        *s = (struct server){ .port = atoi(port), .fd = socket(AF_INET, SOCK_DGRAM, 0), .capacity = 1024 };
        s->rtts = malloc(s->capacity * sizeof *s->rtts);
        struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)s->port) };
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&address, sizeof address) < 0) {
            perror("latency: socket");
            return 2;
        }
    }
    char line[512], name[300], type[16];
    unsigned id = (unsigned)getpid();
    while (fgets(line, sizeof line, file)) {
        int fields = sscanf(line, "%299s %15s", name, type);
        if (fields < 1)
            continue;
        if (fields < 2)
            strcpy(type, "A");
        for (struct server *s = servers; s < servers + count; s++) {
            id = (id + 1) & 0xFFFF;
            ask(s, id, name, type_code(type));
            if (gap)
                usleep(gap);
        }
    }
    int status = 0;
    for (struct server *s = servers; s < servers + count; s++) {
        if (s->answered == 0) {
            printf("port %d answered 0 lost %zu\n", s->port, s->lost);
            status = 1;
            continue;
        }
        double sum = 0;
        for (size_t i = 0; i < s->answered; i++)
            sum += s->rtts[i];
        qsort(s->rtts, s->answered, sizeof *s->rtts, compare);
        printf("port %d answered %zu lost %zu p50_us %.1f mean_us %.1f p90_us %.1f p99_us %.1f\n", s->port,
               s->answered, s->lost, s->rtts[s->answered / 2], sum / s->answered, s->rtts[s->answered * 9 / 10],
               s->rtts[s->answered * 99 / 100]);
    }
    return status;
}
