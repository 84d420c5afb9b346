/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * What the libxmppc sides of the interoperability tests share
 * (test-interop.c and test-interop-muc.c, driven by interop_slixmpp.py and
 * interop_muc_slixmpp.py through interop_common.py): one connection to the
 * server of tests/fixtures/xmppc_fixture.py (XMPPC_TEST_HOST, _PORT, _CA,
 * _PASSWORD), events reported on stdout one a line, commands read from
 * stdin one a line, and giving up after GIVE_UP_MS.
 */
#ifndef XMPPC_INTEROP_H
#define XMPPC_INTEROP_H

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xmppc/xmppc.h>

#define GIVE_UP_MS 50000

/* The loop, the connection and how they fare. */
typedef struct interop {
    xmppc_loop *loop;
    xmppc_conn *conn;
    int ready;  /* online */
    int failed; /* an error was reported: exit status 1 */
    int done;   /* disconnected */
} interop;

/* Carries out command @p verb with up to two arguments (NULL if absent);
 * called once online, never for "quit". */
typedef void (*interop_command_fn)(void *ctx, const char *verb,
                                   const char *arg1, const char *arg2);

/* One line on stdout, flushed. */
static void emit(const char *fmt, ...) XMPPC_PRINTF(1, 2);
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* An environment variable the fixture sets; exits without it. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        emit("error %s is not set: run under tests/fixtures/xmppc_fixture.py",
             name);
        exit(1);
    }
    return v;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                      const char *message, void *userdata)
{
    (void)conn;
    (void)userdata;
    printf("# [%s %s] %s\n", xmppc_log_level_name(level), area, message);
    fflush(stdout);
}

/* @p text hex-encoded into @p out, "-" for NULL. */
static const char *hex(const char *text, char *out, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    if (!text)
        return "-";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text;
         *p && n + 3 <= size; p++) {
        out[n++] = digits[*p >> 4];
        out[n++] = digits[*p & 15];
    }
    out[n] = '\0';
    return out;
}

/* Creates the loop and a connection of @p jid to the fixture's server with
 * @p on_state (and, with XMPPC_TEST_TRACE set, the library's log as
 * comments); -1 if a call fails (see xmppc_error_last()). */
static int interop_open(interop *io, const char *jid, xmppc_state_cb on_state,
                        void *userdata)
{
    if (xmppc_loop_new(&io->loop) < 0 ||
        xmppc_conn_new(&io->conn, jid, env("XMPPC_TEST_PASSWORD")) < 0 ||
        xmppc_conn_set_server(io->conn, env("XMPPC_TEST_HOST"),
                              (unsigned)atoi(env("XMPPC_TEST_PORT"))) < 0 ||
        xmppc_conn_set_ca_file(io->conn, env("XMPPC_TEST_CA")) < 0)
        return -1;
    xmppc_conn_set_state_cb(io->conn, on_state, userdata);
    if (getenv("XMPPC_TEST_TRACE"))
        xmppc_conn_set_log_cb(io->conn, print_log, NULL, XMPPC_LOG_TRACE);
    return 0;
}

/* For the state callback on XMPPC_STATE_DISCONNECTED: an error if @p err,
 * and the loop stops. */
static void interop_disconnected(interop *io, const xmppc_error *err)
{
    if (err) {
        emit("error disconnected: %s", err->message);
        io->failed = 1;
    }
    io->done = 1;
    xmppc_loop_stop(io->loop);
}

/* Carries out one command line; returns 1 for quit. */
static int interop_line(interop *io, char *line, interop_command_fn command,
                        void *ctx)
{
    char *save = NULL;
    char *verb = strtok_r(line, " \t\r", &save);
    char *arg1 = strtok_r(NULL, " \t\r", &save);
    char *arg2 = strtok_r(NULL, " \t\r", &save);
    if (!verb)
        return 0;
    if (strcmp(verb, "quit") == 0)
        return 1;
    if (!io->ready) {
        emit("error command before ready: %s", verb);
        io->failed = 1;
        return 0;
    }
    command(ctx, verb, arg1, arg2);
    return 0;
}

/* Reads what stdin has without blocking into @p buf (@p len used of
 * @p size) and carries out its complete lines; returns 1 on quit or EOF. */
static int interop_read(interop *io, interop_command_fn command, void *ctx,
                        char *buf, size_t *len, size_t size)
{
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    while (poll(&pfd, 1, 0) > 0) {
        if (*len + 1 >= size) {
            emit("error command line too long");
            return 1;
        }
        ssize_t n = read(0, buf + *len, size - *len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 1;
        *len += (size_t)n;
        buf[*len] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            int quit = interop_line(io, buf, command, ctx);
            size_t used = (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, *len - used + 1);
            *len -= used;
            if (quit)
                return 1;
        }
    }
    return 0;
}

/* Runs the loop, reading commands from stdin into @p buf between turns
 * and calling @p tick (if not NULL) after each turn once online, until
 * disconnected, quit, end of input or GIVE_UP_MS (an error); then
 * disconnects if still connected. Returns -1 if the loop failed while
 * disconnecting (see xmppc_error_last()). */
static int interop_run(interop *io, interop_command_fn command,
                       void (*tick)(void *ctx), void *ctx, char *buf,
                       size_t size)
{
    size_t len = 0;
    long give_up = now_ms() + GIVE_UP_MS;
    int quit = 0;
    while (!io->done && !quit) {
        xmppc_loop_run_once(io->loop, 50);
        if (tick && io->ready)
            tick(ctx);
        quit = interop_read(io, command, ctx, buf, &len, size);
        if (now_ms() > give_up) {
            emit("error gave up after %d ms", GIVE_UP_MS);
            io->failed = 1;
            break;
        }
    }
    if (!io->done) {
        xmppc_conn_disconnect(io->conn);
        if (xmppc_loop_run(io->loop) < 0)
            return -1;
    }
    return 0;
}

/* Frees the loop and the connection, says "bye" unless something failed;
 * returns the exit status. */
static int interop_close(interop *io)
{
    xmppc_loop_free(io->loop);
    xmppc_conn_unref(io->conn);
    xmppc_error_clear();
    if (!io->failed)
        emit("bye");
    return io->failed ? 1 : 0;
}

#endif /* XMPPC_INTEROP_H */
