// CSwiftletSocket: batched datagram I/O (recvmmsg/sendmmsg) for the UDP workers.
#define _GNU_SOURCE
#include "CSwiftletSocket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct swiftlet_batch {
    unsigned count;
    size_t buffer_size;
    uint8_t *buffers;          // count × buffer_size, received packets
    uint8_t *replies;          // count × buffer_size, replies
    struct sockaddr_storage *addresses;
    struct iovec *receive_iov;
    struct mmsghdr *receive;
    struct iovec *send_iov;
    struct mmsghdr *send;
};

swiftlet_batch *swiftlet_batch_create(unsigned count, size_t buffer_size) {
    swiftlet_batch *batch = calloc(1, sizeof(*batch));
    if (!batch) return NULL;
    batch->count = count;
    batch->buffer_size = buffer_size;
    batch->buffers = calloc(count, buffer_size);
    batch->replies = calloc(count, buffer_size);
    batch->addresses = calloc(count, sizeof(struct sockaddr_storage));
    batch->receive_iov = calloc(count, sizeof(struct iovec));
    batch->receive = calloc(count, sizeof(struct mmsghdr));
    batch->send_iov = calloc(count, sizeof(struct iovec));
    batch->send = calloc(count, sizeof(struct mmsghdr));
    if (!batch->buffers || !batch->replies || !batch->addresses || !batch->receive_iov || !batch->receive ||
        !batch->send_iov || !batch->send) {
        swiftlet_batch_destroy(batch);
        return NULL;
    }
    // The receive headers point at fixed buffers: set once; each receive only resets what the kernel overwrites.
    for (unsigned i = 0; i < count; i++) {
        batch->receive_iov[i].iov_base = batch->buffers + i * buffer_size;
        batch->receive_iov[i].iov_len = buffer_size;
        struct msghdr *header = &batch->receive[i].msg_hdr;
        header->msg_name = &batch->addresses[i];
        header->msg_iov = &batch->receive_iov[i];
        header->msg_iovlen = 1;
    }
    return batch;
}

void swiftlet_batch_destroy(swiftlet_batch *batch) {
    if (!batch) return;
    free(batch->buffers);
    free(batch->replies);
    free(batch->addresses);
    free(batch->receive_iov);
    free(batch->receive);
    free(batch->send_iov);
    free(batch->send);
    free(batch);
}

int swiftlet_batch_receive(int fd, swiftlet_batch *batch) {
    for (unsigned i = 0; i < batch->count; i++) {
        batch->receive[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        batch->receive[i].msg_hdr.msg_flags = 0;
        batch->receive[i].msg_len = 0;
    }
    return recvmmsg(fd, batch->receive, batch->count, MSG_DONTWAIT, NULL);
}

uint8_t *swiftlet_batch_buffer(swiftlet_batch *batch, unsigned index) {
    return batch->buffers + index * batch->buffer_size;
}

size_t swiftlet_batch_length(const swiftlet_batch *batch, unsigned index) { return batch->receive[index].msg_len; }

struct sockaddr_storage *swiftlet_batch_address(swiftlet_batch *batch, unsigned index) {
    return &batch->addresses[index];
}

socklen_t swiftlet_batch_address_length(const swiftlet_batch *batch, unsigned index) {
    return batch->receive[index].msg_hdr.msg_namelen;
}

uint8_t *swiftlet_batch_reply_buffer(swiftlet_batch *batch, unsigned index) {
    return batch->replies + index * batch->buffer_size;
}

size_t swiftlet_batch_buffer_size(const swiftlet_batch *batch) { return batch->buffer_size; }

void swiftlet_batch_set_reply(swiftlet_batch *batch, unsigned index, unsigned peer, size_t length) {
    batch->send_iov[index].iov_base = batch->replies + index * batch->buffer_size;
    batch->send_iov[index].iov_len = length;
    struct msghdr *header = &batch->send[index].msg_hdr;
    memset(header, 0, sizeof(*header));
    header->msg_name = &batch->addresses[peer];
    header->msg_namelen = batch->receive[peer].msg_hdr.msg_namelen;
    header->msg_iov = &batch->send_iov[index];
    header->msg_iovlen = 1;
}

int swiftlet_batch_send(int fd, swiftlet_batch *batch, unsigned count) {
    unsigned sent = 0;
    while (sent < count) {
        int result = sendmmsg(fd, batch->send + sent, count - sent, 0);
        if (result < 0) {
            if (errno == EINTR) continue;
            // Skip the datagram the kernel refused (e.g. an unreachable peer) and go on with the rest.
            sent += 1;
            continue;
        }
        sent += (unsigned)result;
    }
    return (int)sent;
}

int swiftlet_udp_socket(const struct sockaddr *address, socklen_t length, int buffer_bytes) {
    int fd = socket(address->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) goto fail;
    if (address->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) goto fail;
    if (buffer_bytes > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof(buffer_bytes));
    }
    if (bind(fd, address, length) < 0) goto fail;
    return fd;
fail: {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
}

int swiftlet_free_udp_port(const struct sockaddr *address, socklen_t length) {
    // A port no UDP socket holds (without SO_REUSEPORT the kernel picks one) whose number no TCP socket holds either:
    // the TCP listener takes the same number, and a client's ephemeral TCP port may have it. Up to 16 draws.
    int port = -1;
    int saved = EADDRINUSE;
    for (int attempt = 0; attempt < 16 && port < 0; attempt++) {
        int fd = socket(address->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        struct sockaddr_storage bound;
        socklen_t bound_length = sizeof(bound);
        if (bind(fd, address, length) != 0 || getsockname(fd, (struct sockaddr *)&bound, &bound_length) != 0) {
            saved = errno;
            close(fd);
            break;
        }
        int tcp = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (tcp >= 0 && setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            bind(tcp, (struct sockaddr *)&bound, bound_length) == 0) {
            port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                     : ((struct sockaddr_in *)&bound)->sin_port);
        }
        if (tcp >= 0) close(tcp);
        close(fd);
    }
    if (port < 0) errno = saved;
    return port;
}

int swiftlet_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int swiftlet_epoll_watch(int epoll_fd, int fd) {
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

int swiftlet_epoll_unwatch(int epoll_fd, int fd) { return epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL); }

int swiftlet_epoll_wait(int epoll_fd, int *fds, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int count = epoll_wait(epoll_fd, events, max, timeout_ms);
    for (int i = 0; i < count; i++) fds[i] = events[i].data.fd;
    return count;
}

int swiftlet_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void swiftlet_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof(one));
    (void)ignored;
}

void swiftlet_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof(value));
    (void)ignored;
}

int swiftlet_timerfd_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

int swiftlet_timerfd_arm(int fd, uint64_t deadline_ns) {
    // An all-zero it_value would disarm the timer: the earliest time that arms it is 1 ns.
    if (deadline_ns == 0) deadline_ns = 1;
    struct itimerspec value = {0};
    value.it_value.tv_sec = (time_t)(deadline_ns / 1000000000u);
    value.it_value.tv_nsec = (long)(deadline_ns % 1000000000u);
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &value, NULL);
}

void swiftlet_timerfd_drain(int fd) {
    uint64_t expirations;
    ssize_t ignored = read(fd, &expirations, sizeof(expirations));
    (void)ignored;
}

int swiftlet_udp_server_socket(const struct sockaddr *server, socklen_t length, int connect_it) {
    int fd = socket(server->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int result;
    if (connect_it) {
        result = connect(fd, server, length);
    } else {
        struct sockaddr_storage any;
        memset(&any, 0, sizeof(any));
        any.ss_family = server->sa_family;
        result = bind(fd, (struct sockaddr *)&any,
                      server->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    }
    if (result < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int same_address(const struct sockaddr_storage *a, const struct sockaddr *b) {
    if (a->ss_family != b->sa_family) return 0;
    if (b->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (b->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a, *y = (const struct sockaddr_in6 *)b;
        return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    return 0;
}

ssize_t swiftlet_udp_receive(int fd, void *buffer, size_t size, const struct sockaddr *server, int *from_server) {
    struct sockaddr_storage source;
    socklen_t length = sizeof(source);
    ssize_t count = recvfrom(fd, buffer, size, MSG_DONTWAIT, (struct sockaddr *)&source, &length);
    if (count >= 0) *from_server = same_address(&source, server);
    return count;
}

ssize_t swiftlet_getrandom(void *buffer, size_t length) { return getrandom(buffer, length, 0); }

int swiftlet_sleep_monotonic(unsigned long long nanoseconds) {
    struct timespec left = { .tv_sec = (time_t)(nanoseconds / 1000000000ULL), .tv_nsec = (long)(nanoseconds % 1000000000ULL) };
    for (;;) {
        struct timespec remaining = { 0, 0 };
        /* The raw call, not the libc wrapper: clock_nanosleep returns the error number, the syscall sets errno. */
        long result = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &left, &remaining);
        if (result == 0) return 0;
        if (errno != EINTR) return -1;
        left = remaining;
    }
}
