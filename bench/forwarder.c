/*
 * forwarder.c - the trivial DNS forwarder: the floor of a forwarded cache miss on this machine's kernel.
 *
 * What any forwarder must do for a miss and nothing more: one thread blocked in poll(2) on two UDP sockets; a query
 * from a client is sent unchanged to the upstream on one connected socket, and the upstream's datagram is sent back
 * to the client that asked with that ID (a 65,536-entry table of client addresses). No cache, no checks, no
 * randomisation: it costs the two extra system calls and the extra wake-up of one loopback hop, so its latency ratio
 * to the upstream is the least a real forwarder can show in bench/cachemiss.sh.
 *
 * usage: forwarder LISTEN_PORT UPSTREAM_PORT      (both on 127.0.0.1). Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in clients[65536];

static int udp_socket(unsigned short port, int connect_to)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || (connect_to ? connect(fd, (struct sockaddr *)&address, sizeof address)
                              : bind(fd, (struct sockaddr *)&address, sizeof address)) < 0) {
        perror("forwarder: socket");
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: forwarder LISTEN_PORT UPSTREAM_PORT\n");
        return 2;
    }
    int server = udp_socket((unsigned short)atoi(argv[1]), 0);
    int upstream = udp_socket((unsigned short)atoi(argv[2]), 1);
    struct pollfd fds[2] = { { .fd = server, .events = POLLIN }, { .fd = upstream, .events = POLLIN } };
    unsigned char packet[65536];
    for (;;) {
        if (poll(fds, 2, -1) < 0)
            continue;
        if (fds[0].revents & POLLIN) {
            struct sockaddr_in client;
            socklen_t length = sizeof client;
            ssize_t n = recvfrom(server, packet, sizeof packet, MSG_DONTWAIT, (struct sockaddr *)&client, &length);
            if (n >= 12) {
                clients[(packet[0] << 8) | packet[1]] = client;
                send(upstream, packet, (size_t)n, 0);
            }
        }
        if (fds[1].revents & POLLIN) {
            ssize_t n = recv(upstream, packet, sizeof packet, MSG_DONTWAIT);
            if (n >= 12) {
                struct sockaddr_in *client = &clients[(packet[0] << 8) | packet[1]];
                if (client->sin_family == AF_INET)
                    sendto(server, packet, (size_t)n, 0, (struct sockaddr *)client, sizeof *client);
            }
        }
    }
}
