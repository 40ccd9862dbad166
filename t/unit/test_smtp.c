/*
 * SMTP submission against a scripted server on loopback: AUTH, dot-stuffing,
 * partly refused recipients, and how 4xx/5xx answers at each step map to
 * TRANSIENT/REJECTED/AUTH, which a real MTA in a test stack cannot be made
 * to answer on demand.
 */
#include "tap.h"
#include "eas_smtp.h"

#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>

static apr_pool_t *p;

/* What the server answers where it may fail; NULL: the usual success. */
typedef struct script_t {
    const char *auth, *mail, *data_end;
    char auth_line[256];        /* what it received */
    char data[4096];
    int rcpts;
} script_t;

static int listen_fd, port;

static int read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size && read(fd, buf + n, 1) == 1)
        if (buf[n++] == '\n')
            break;
    buf[n] = '\0';
    return (int)n;
}

static void say(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) < 0)
        return;
}

static void *APR_THREAD_FUNC server(apr_thread_t *t, void *data)
{
    script_t *sc = data;
    char line[1024];
    int fd = accept(listen_fd, NULL, NULL), in_data = 0;

    say(fd, "220 fake ESMTP\r\n");
    while (fd >= 0 && read_line(fd, line, sizeof(line)) > 0) {
        if (in_data) {
            if (!strcmp(line, ".\r\n")) {
                in_data = 0;
                say(fd, sc->data_end ? sc->data_end : "250 2.0.0 queued\r\n");
            }
            else if (strlen(sc->data) + strlen(line) < sizeof(sc->data))
                strcat(sc->data, line);
            continue;
        }
        if (!strncasecmp(line, "EHLO", 4))
            say(fd, "250-fake\r\n250-AUTH PLAIN\r\n250 SIZE 1000000\r\n");
        else if (!strncasecmp(line, "AUTH", 4)) {
            apr_cpystrn(sc->auth_line, line, sizeof(sc->auth_line));
            if (!strcasecmp(line, "AUTH PLAIN\r\n")) {      /* no initial response */
                say(fd, "334 \r\n");
                read_line(fd, line, sizeof(line));
                apr_cpystrn(sc->auth_line, line, sizeof(sc->auth_line));
            }
            say(fd, sc->auth ? sc->auth : "235 2.7.0 ok\r\n");
        }
        else if (!strncasecmp(line, "MAIL", 4))
            say(fd, sc->mail ? sc->mail : "250 ok\r\n");
        else if (!strncasecmp(line, "RCPT", 4)) {
            sc->rcpts++;
            say(fd, strstr(line, "<bad") ? "550 5.1.1 no such user\r\n"
                    : strstr(line, "<later") ? "451 4.3.0 try later\r\n" : "250 ok\r\n");
        }
        else if (!strncasecmp(line, "DATA", 4)) {
            say(fd, "354 go\r\n");
            in_data = 1;
        }
        else if (!strncasecmp(line, "QUIT", 4)) {
            say(fd, "221 bye\r\n");
            break;
        }
        else
            say(fd, "500 what\r\n");
    }
    if (fd >= 0)
        close(fd);
    return NULL;     /* not apr_thread_exit(): ASan misreports pthread_exit */
}

/* Runs one submission against a server following sc. */
static eas_smtp_rc_e submit(script_t *sc, const char *user, const char *const *rcpts,
                            const char *msg, eas_smtp_result_t **res)
{
    eas_smtp_server_t srv;
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    apr_thread_t *t;
    apr_status_t rv;
    eas_smtp_rc_e rc;

    memset(&srv, 0, sizeof(srv));
    srv.url = apr_psprintf(p, "smtp://127.0.0.1:%d/eas.test", port);
    srv.timeout = apr_time_from_sec(10);
    for (; *rcpts; rcpts++)
        APR_ARRAY_PUSH(a, const char *) = *rcpts;
    apr_thread_create(&t, NULL, server, sc, p);
    rc = eas_smtp_send(&srv, user, user ? "secret" : NULL, NULL, "alice@eas.test", a, msg,
                       strlen(msg), p, NULL, res);
    apr_thread_join(&rv, t);
    return rc;
}

int main(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    const char *const one[] = {"bob@eas.test", NULL};
    const char *const mixed[] = {"bob@eas.test", "bad@eas.test", NULL};
    const char *const none[] = {"bad@eas.test", NULL};
    const char *const later[] = {"later@eas.test", NULL};
    const char *msg = "Subject: hi\n\nline\n.dot line\n.\nend\n";
    eas_smtp_result_t *res;
    script_t sc;

    apr_initialize();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_create(&p, NULL);
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(listen_fd, 4)
        || getsockname(listen_fd, (struct sockaddr *)&sa, &sl)) {
        printf("Bail out! no loopback socket\n");
        return 1;
    }
    port = ntohs(sa.sin_port);

    memset(&sc, 0, sizeof(sc));
    is_int(submit(&sc, NULL, one, msg, &res), EAS_SMTP_OK, "no AUTH: accepted");
    is_int(res->code, 250, "...the last reply is the one to the message");
    is_str(sc.data, "Subject: hi\r\n\r\nline\r\n..dot line\r\n..\r\nend\r\n",
           "...CRLF line ends, leading dots doubled");
    ok(sc.auth_line[0] == '\0', "...no AUTH sent");

    memset(&sc, 0, sizeof(sc));
    is_int(submit(&sc, "alice", one, msg, &res), EAS_SMTP_OK, "AUTH PLAIN: accepted");
    /* base64("\0alice\0secret") */
    ok(strstr(sc.auth_line, "AGFsaWNlAHNlY3JldA==") != NULL, "...with the user's credentials");

    memset(&sc, 0, sizeof(sc));
    sc.auth = "535 5.7.8 bad credentials\r\n";
    is_int(submit(&sc, "alice", one, msg, &res), EAS_SMTP_AUTH, "535 to AUTH: AUTH");
    memset(&sc, 0, sizeof(sc));
    sc.auth = "454 4.7.0 try later\r\n";
    is_int(submit(&sc, "alice", one, msg, &res), EAS_SMTP_TRANSIENT, "454 to AUTH: TRANSIENT");

    memset(&sc, 0, sizeof(sc));
    sc.mail = "553 5.7.1 sender not allowed\r\n";
    is_int(submit(&sc, NULL, one, msg, &res), EAS_SMTP_REJECTED, "553 to MAIL FROM: REJECTED");
    is_int(res->code, 553, "...reported with that code, not with a later one");
    memset(&sc, 0, sizeof(sc));
    sc.mail = "421 4.3.2 shutting down\r\n";
    is_int(submit(&sc, NULL, one, msg, &res), EAS_SMTP_TRANSIENT, "421 to MAIL FROM: TRANSIENT");

    memset(&sc, 0, sizeof(sc));
    is_int(submit(&sc, NULL, mixed, msg, &res), EAS_SMTP_OK, "one of two recipients refused: OK");
    ok(res->refused->nelts == 1
       && !strcmp(APR_ARRAY_IDX(res->refused, 0, const char *), "<bad@eas.test>"),
       "...the refused one is named");
    ok(strstr(sc.data, "line") != NULL, "...and the message went to the other");
    memset(&sc, 0, sizeof(sc));
    is_int(submit(&sc, NULL, none, msg, &res), EAS_SMTP_REJECTED, "every recipient 550: REJECTED");
    memset(&sc, 0, sizeof(sc));
    is_int(submit(&sc, NULL, later, msg, &res), EAS_SMTP_TRANSIENT, "every recipient 451: TRANSIENT");

    memset(&sc, 0, sizeof(sc));
    sc.data_end = "554 5.7.1 spam\r\n";
    is_int(submit(&sc, NULL, one, msg, &res), EAS_SMTP_REJECTED, "554 after DATA: REJECTED");
    ok(res->code == 554 && !strcmp(res->reply, "5.7.1 spam"), "...with the server's words");
    memset(&sc, 0, sizeof(sc));
    sc.data_end = "452 4.3.1 out of space\r\n";
    is_int(submit(&sc, NULL, one, msg, &res), EAS_SMTP_TRANSIENT, "452 after DATA: TRANSIENT");

    is_int(eas_smtp_send(&(eas_smtp_server_t){.url = "smtp://127.0.0.1:1"}, NULL, NULL, NULL,
                         "a@b", apr_array_make(p, 1, sizeof(char *)), msg, strlen(msg), p, NULL,
                         &res), EAS_SMTP_INVALID, "no recipient: INVALID");
    close(listen_fd);
    apr_pool_destroy(p);
    curl_global_cleanup();
    apr_terminate();
    return tap_done();
}
