/* zmq_flood -- a hostile raw ZeroMQ peer for the integration tests: connects a DEALER to ENDPOINT and sends
 * COUNT malformed MLFW/1 messages (noise, wrong versions and commands, truncated msgpack, 4 GB array and
 * string headers, wrong types, too many frames, deep nesting), then exits. With "big", COUNT large frames
 * instead: 8 MB TASK and RESULT bodies and 1 MiB READY bodies, all msgpack nils (each would decode into
 * ~70 bytes), from a peer that never registered.
 * usage: zmq_flood ENDPOINT COUNT [big] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void send3(void *s, const void *sig, size_t siglen, const void *cmd, size_t cmdlen, const void *body,
                  size_t bodylen)
{
    zmq_send(s, sig, siglen, ZMQ_SNDMORE);
    zmq_send(s, cmd, cmdlen, ZMQ_SNDMORE);
    zmq_send(s, body, bodylen, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "big") == 0)) {
        fprintf(stderr, "usage: zmq_flood ENDPOINT COUNT [big]\n");
        return 2;
    }
    long count = atol(argv[2]);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 10000, hwm = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(s, argv[1]) != 0) {
        fprintf(stderr, "zmq_flood: cannot connect to %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
        return 1;
    }
    if (argc == 4) { /* big frames: a map {"x": [nil, nil, ...]} filling the body */
        size_t sizes[3] = {8u << 20, 8u << 20, 1u << 20};
        const char cmds[3] = {2, 5, 1}; /* TASK (the wrong direction), RESULT and READY (unregistered) */
        unsigned char *body = malloc(sizes[0]);
        if (!body)
            return 1;
        for (long i = 0; i < count; i++) {
            size_t len = sizes[i % 3], n = len - 8;
            memset(body, 0xc0, len);
            memcpy(body, "\x81\xa1x\xdd", 4);
            body[4] = (unsigned char)(n >> 24);
            body[5] = (unsigned char)(n >> 16);
            body[6] = (unsigned char)(n >> 8);
            body[7] = (unsigned char)n;
            send3(s, "MLFW01", 6, &cmds[i % 3], 1, body, len);
        }
        free(body);
        zmq_close(s);
        zmq_ctx_term(ctx);
        return 0;
    }
    unsigned seed = 42;
    unsigned char junk[256], deep[200];
    size_t nd = 0;
    deep[nd++] = 0x81;
    deep[nd++] = 0xa1;
    deep[nd++] = 'x';
    while (nd < sizeof deep - 1)
        deep[nd++] = 0x91;
    deep[nd++] = 0xc0;
    for (long i = 0; i < count; i++) {
        size_t n = 1 + (size_t)rand_r(&seed) % sizeof junk;
        for (size_t k = 0; k < n; k++)
            junk[k] = (unsigned char)rand_r(&seed);
        switch (i % 10) {
        case 0:
            zmq_send(s, junk, n, 0);
            break;
        case 1:
            send3(s, "MLFW99", 6, "\x01", 1, "\x80", 1);
            break;
        case 2:
            send3(s, "MLFW01", 6, "\x2a", 1, "\x80", 1);
            break;
        case 3:
            send3(s, "MLFW01", 6, "\x01", 1, "\x81\xa4name\xdd\xff\xff\xff\xff", 11);
            break;
        case 4:
            send3(s, "MLFW01", 6, "\x04", 1,
                  "\x83\xa7" "attempt\xa1" "a\xa6offset\x00\xa4" "data\xc6\xff\xff\xff\xff", 30);
            break;
        case 5:
            send3(s, "MLFW01", 6, "\x05", 1, junk, n);
            break;
        case 6:
            send3(s, "MLFW01", 6, "\x01", 1, "\x82\xa4name\x07\xa8" "capacity\xa1x", 18);
            break;
        case 7:
            for (int k = 0; k < 9; k++)
                zmq_send(s, junk, n, k < 8 ? ZMQ_SNDMORE : 0);
            break;
        case 8:
            send3(s, "MLFW01", 6, "\x06", 1, deep, nd);
            break;
        default: /* well formed, from a peer that never registered */
            send3(s, "MLFW01", 6, "\x06", 1, "\x80", 1);
            break;
        }
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
