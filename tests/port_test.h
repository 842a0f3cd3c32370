/* port_test.h - what the tests of a port (TLS, lwIP) share: one connect
 * driven through the port as the producer drives it. Include after
 * rmq_test.h, the port's header and mockbroker/mock_client.h (its clock). */
#ifndef RMQ_PORT_TEST_H
#define RMQ_PORT_TEST_H

/* connect, the readiness wait and connect_result, as the producer does:
 * RMQ_PORT_OK with *conn open, else a negative code or RMQ_PORT_AGAIN
 * (budget_ms passed) with the connection closed, as the producer closes
 * a connect that failed or ran out of time. */
static int drive_connect(const rmq_port *p, const char *host, uint16_t port, void **conn, long budget_ms)
{
    long deadline = mock_now_ms() + budget_ms;
    int rc = p->connect(p->ctx, host, port, conn);
    while (rc == RMQ_PORT_AGAIN && mock_now_ms() < deadline) {
        rmq_wait_item it;
        it.conn = *conn;
        it.want = RMQ_WANT_WRITE;
        it.ready = 0;
        if (p->wait(p->ctx, &it, 1, 50) > 0) rc = p->connect_result(p->ctx, *conn);
    }
    if (rc == RMQ_PORT_OK) return rc;
    if (*conn) p->close(p->ctx, *conn);
    *conn = NULL;
    return rc;
}

#endif
