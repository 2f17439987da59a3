/* sdnotify.c -- the sd_notify(3) datagram protocol; see sdnotify.h for why it is implemented here. */
#include "base/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int mlf_sd_notify(const char *state)
{
    /* taken from the environment on the first call and removed from it, so that the processes the daemon
     * starts (tasks, local workers) do not talk to systemd in its name */
    static char sock[sizeof ((struct sockaddr_un *)0)->sun_path + 1];
    static int taken;
    if (!taken) {
        const char *env = getenv("NOTIFY_SOCKET");
        if (env && strlen(env) < sizeof sock)
            strcpy(sock, env);
        else if (env)
            sock[0] = '!'; /* too long: reported below */
        unsetenv("NOTIFY_SOCKET");
        taken = 1;
    }
    const char *name = sock;
    if (!*name)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || len >= sizeof sa.sun_path)
        return EINVAL;
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0'; /* an abstract socket: the name is not NUL-terminated */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int e = n < 0 ? errno : 0;
    close(fd);
    return n < 0 ? e : 1;
}

int64_t mlf_sd_watchdog_us(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (!usec || !*usec)
        return 0;
    if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
        return 0; /* meant for another process (our parent) */
    char *end;
    long long us = strtoll(usec, &end, 10);
    return *end || us <= 0 ? 0 : (int64_t)us;
}
