/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Non-blocking TCP sockets: the only socket syscalls of the library (DNS
 * sockets belong to c-ares in dns.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn-private.h"

int xmppc__net_connect(const struct sockaddr *addr, socklen_t len, int *fd_out,
                       int *errno_out)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    IPPROTO_TCP);
    if (fd < 0) {
        *errno_out = errno;
        return xmppc__error(XMPPC_ECONNECT, "socket: %s", strerror(errno));
    }
    /* Stanzas are small and latency matters; we batch writes ourselves. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, addr, len) < 0 && errno != EINPROGRESS) {
        *errno_out = errno;
        char where[64];
        xmppc__net_format(addr, where, sizeof where);
        close(fd);
        return xmppc__error(XMPPC_ECONNECT, "connect to %s: %s", where,
                            strerror(*errno_out));
    }
    *fd_out = fd;
    return 0;
}

int xmppc__net_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

long xmppc__net_read(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return XMPPC_EAGAIN;
        return xmppc__error(XMPPC_EIO, "read: %s", strerror(errno));
    }
}

_Atomic unsigned long xmppc__net_write_calls;

long xmppc__net_write(int fd, const void *buf, size_t len)
{
    for (;;) {
        /* MSG_NOSIGNAL: a closed peer is an error code, not a SIGPIPE. */
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            atomic_fetch_add_explicit(&xmppc__net_write_calls, 1,
                                      memory_order_relaxed);
            return (long)n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return XMPPC_EAGAIN;
        return xmppc__error(XMPPC_EIO, "write: %s", strerror(errno));
    }
}

void xmppc__net_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

int xmppc__net_parse_ip(const char *host, unsigned int port,
                        struct sockaddr_storage *addr, socklen_t *len)
{
    char buf[64];
    size_t n = strlen(host);
    memset(addr, 0, sizeof *addr);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= sizeof buf)
            return XMPPC_EINVAL;
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return 0;
    }
    return XMPPC_EINVAL;
}

void xmppc__net_format(const struct sockaddr *addr, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    /* Copied out: a struct sockaddr may be less aligned than the family's
     * own structure. */
    if (addr->sa_family == AF_INET) {
        struct sockaddr_in v4;
        memcpy(&v4, addr, sizeof v4);
        inet_ntop(AF_INET, &v4.sin_addr, ip, sizeof ip);
        snprintf(buf, size, "%s:%u", ip, (unsigned)ntohs(v4.sin_port));
    } else if (addr->sa_family == AF_INET6) {
        struct sockaddr_in6 v6;
        memcpy(&v6, addr, sizeof v6);
        inet_ntop(AF_INET6, &v6.sin6_addr, ip, sizeof ip);
        snprintf(buf, size, "[%s]:%u", ip, (unsigned)ntohs(v6.sin6_port));
    } else {
        snprintf(buf, size, "(address family %d)", addr->sa_family);
    }
}
