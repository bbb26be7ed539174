// CSwiftletSocket: batched datagram I/O (recvmmsg/sendmmsg) for the UDP workers; Swift's Glibc lacks mmsghdr.
#ifndef CSWIFTLET_SOCKET_H
#define CSWIFTLET_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/// One worker's batch: `count` slots, each with a packet buffer of `buffer_size` octets and a peer address.
/// Allocated once per worker (swiftlet_batch_create) and reused for every receive and send.
typedef struct swiftlet_batch swiftlet_batch;

swiftlet_batch *swiftlet_batch_create(unsigned count, size_t buffer_size);
void swiftlet_batch_destroy(swiftlet_batch *batch);

/// Receives up to the batch's count of datagrams without waiting (the caller polls first); returns how many, or -1
/// with errno (EAGAIN when none is queued).
int swiftlet_batch_receive(int fd, swiftlet_batch *batch);

/// The received or to-be-sent packet of slot `index`, its length, and its peer address.
uint8_t *swiftlet_batch_buffer(swiftlet_batch *batch, unsigned index);
size_t swiftlet_batch_length(const swiftlet_batch *batch, unsigned index);
struct sockaddr_storage *swiftlet_batch_address(swiftlet_batch *batch, unsigned index);
socklen_t swiftlet_batch_address_length(const swiftlet_batch *batch, unsigned index);

/// A second set of buffers for replies: slot `index` of the reply side.
uint8_t *swiftlet_batch_reply_buffer(swiftlet_batch *batch, unsigned index);
size_t swiftlet_batch_buffer_size(const swiftlet_batch *batch);

/// Marks reply slot `index` to be sent with `length` octets to receive slot `peer`'s address.
void swiftlet_batch_set_reply(swiftlet_batch *batch, unsigned index, unsigned peer, size_t length);

/// Sends the first `count` replies; returns how many were sent, or -1 with errno.
int swiftlet_batch_send(int fd, swiftlet_batch *batch, unsigned count);

/// A UDP socket bound to `address` with SO_REUSEPORT (and IPV6_V6ONLY for IPv6) and buffers of `buffer_bytes`;
/// returns the fd or -1 with errno. It is read without waiting, after the worker's reactor polled it.
int swiftlet_udp_socket(const struct sockaddr *address, socklen_t length, int buffer_bytes);

/// A UDP port on `address` that no socket holds, and whose number no TCP socket holds either (the TCP listener binds
/// it next), or -1 with errno: what a listener asked for port 0 binds its workers' sockets to. The workers' own SO_REUSEPORT sockets cannot ask the kernel for it: bind(2) to port 0 with SO_REUSEPORT
/// may return a port another process's SO_REUSEPORT sockets (same user) hold, and the two would then share its queries.
int swiftlet_free_udp_port(const struct sockaddr *address, socklen_t length);

/// epoll for a UDP worker's reactor (Swift cannot portably lay out the packed epoll_event): a level-triggered
/// watch for input on `fd`, its removal, and a wait that writes the ready descriptors to `fds` (at most `max`) and
/// returns how many, or -1 with errno.
int swiftlet_epoll_create(void);
int swiftlet_epoll_watch(int epoll_fd, int fd);
int swiftlet_epoll_unwatch(int epoll_fd, int fd);
int swiftlet_epoll_wait(int epoll_fd, int *fds, int max, int timeout_ms);

/// A non-blocking eventfd, its increment (a wake-up) and its reset.
int swiftlet_eventfd_create(void);
void swiftlet_eventfd_signal(int fd);
void swiftlet_eventfd_drain(int fd);

/// A non-blocking CLOCK_MONOTONIC timerfd; its arming for the absolute time `deadline_ns` (a time already past fires
/// at once), returning 0 or -1 with errno; and its reset (the expiry count read).
int swiftlet_timerfd_create(void);
int swiftlet_timerfd_arm(int fd, uint64_t deadline_ns);
void swiftlet_timerfd_drain(int fd);

/// A non-blocking UDP socket for talking to `server`, on a kernel-chosen random port: connected to it when `connect_it`
/// (the kernel then drops datagrams from anyone else, and reports ICMP errors), else bound to the wildcard address
/// (datagrams from anyone arrive, to be checked). Returns the fd or -1 with errno.
int swiftlet_udp_server_socket(const struct sockaddr *server, socklen_t length, int connect_it);

/// Receives one datagram without waiting; `*from_server` says whether its source is `server` (address and port).
/// Returns its length, or -1 with errno.
ssize_t swiftlet_udp_receive(int fd, void *buffer, size_t size, const struct sockaddr *server, int *from_server);

/// getrandom(2): `length` bytes from the kernel's CSPRNG; returns how many, or -1 with errno.
ssize_t swiftlet_getrandom(void *buffer, size_t length);

/// Sleeps `nanoseconds` of CLOCK_MONOTONIC through the raw system call, so no library that fakes or wraps the clock
/// (libfaketime's LD_PRELOAD, a test harness) can stretch it: the shutdown watchdog's clock. Returns 0, or -1 with
/// errno set.
int swiftlet_sleep_monotonic(unsigned long long nanoseconds);

#endif
