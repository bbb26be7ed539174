/*
 * spoof.c - a flood of queries from spoofed sources: as fast as one core sends, for SECONDS, each datagram from a
 * random address in 127.64.0.0/10 (every 127/8 address is local on Linux, so IP_PKTINFO may set any as the source)
 * (one source port: a socket cannot spoof that), asking a random name of bench.test (n0..n99999, A). Replies go to addresses nobody listens on.
 *
 * usage: spoof PORT SECONDS [NAMES]    (to 127.0.0.1; NAMES 100000 by default)
 * prints: sent N pps X sources 4194304
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned long long state = 0x9E3779B97F4A7C15ULL;
static unsigned int next_random(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned int)(state >> 11);
}

/* A query for nN.bench.test A with EDNS (1232), ID random. Returns its length. */
static int make_query(unsigned char *p, unsigned int n)
{
    unsigned int id = next_random() & 0xFFFF;
    unsigned char header[12] = {id >> 8, id & 0xFF, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    memcpy(p, header, 12);
    int len = 12;
    char label[16];
    int l = snprintf(label, sizeof label, "n%u", n);
    p[len++] = (unsigned char)l;
    memcpy(p + len, label, l);
    len += l;
    p[len++] = 5;
    memcpy(p + len, "bench", 5);
    len += 5;
    p[len++] = 4;
    memcpy(p + len, "test", 4);
    len += 4;
    p[len++] = 0;
    unsigned char tail[15] = {0, 1, 0, 1, 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0};
    memcpy(p + len, tail, 15);
    return len + 15;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spoof PORT SECONDS [NAMES]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    double seconds = atof(argv[2]);
    unsigned int names = argc > 3 ? (unsigned int)atoi(argv[3]) : 100000;
    if (names == 0) names = 1;
    state ^= (unsigned long long)time(NULL) * 0x2545F4914F6CDD1DULL;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_in target = {0};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    target.sin_addr.s_addr = htonl(0x7F000001);

    static unsigned char packets[BATCH][64];
    static char controls[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct mmsghdr messages[BATCH];
    struct iovec iov[BATCH];
    unsigned long long sent = 0;
    double start = now_s(), end = start + seconds;
    while (now_s() < end) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = packets[i];
            iov[i].iov_len = make_query(packets[i], next_random() % names);
            memset(&messages[i], 0, sizeof messages[i]);
            messages[i].msg_hdr.msg_name = &target;
            messages[i].msg_hdr.msg_namelen = sizeof target;
            messages[i].msg_hdr.msg_iov = &iov[i];
            messages[i].msg_hdr.msg_iovlen = 1;
            messages[i].msg_hdr.msg_control = controls[i];
            messages[i].msg_hdr.msg_controllen = sizeof controls[i];
            struct cmsghdr *cmsg = CMSG_FIRSTHDR(&messages[i].msg_hdr);
            cmsg->cmsg_level = IPPROTO_IP;
            cmsg->cmsg_type = IP_PKTINFO;
            cmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
            struct in_pktinfo info = {0};
            info.ipi_spec_dst.s_addr = htonl(0x7F400000u | (next_random() & 0x3FFFFF));
            memcpy(CMSG_DATA(cmsg), &info, sizeof info);
        }
        int n = sendmmsg(fd, messages, BATCH, 0);
        if (n > 0) sent += (unsigned long long)n;
    }
    double elapsed = now_s() - start;
    printf("sent %llu pps %.0f sources 4194304\n", sent, sent / elapsed);
    return 0;
}
