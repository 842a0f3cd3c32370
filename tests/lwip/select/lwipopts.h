/* lwipopts.h for `make ports`' compile check of rmq_port_lwip.h with
 * RMQ_PORT_LWIP_USE_SELECT.
 *
 * Debian's liblwip is built with LWIP_SOCKET_SELECT 0 (and the system's
 * socket headers), so the select variant cannot link against it. This file
 * configures lwIP the way a firmware usually does instead - lwIP's own
 * socket definitions, select on, poll off - and the check only compiles the
 * port against it (the arch headers are Debian's unix port). Nothing built
 * with it is linked or run. */
#ifndef RMQ_TEST_LWIP_SELECT_LWIPOPTS_H
#define RMQ_TEST_LWIP_SELECT_LWIPOPTS_H

#define NO_SYS 0
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_DNS 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_SOCKET_SELECT 1
#define LWIP_SOCKET_POLL 0
#define LWIP_TCPIP_CORE_LOCKING 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_TIMEVAL_PRIVATE 0
#define MEM_LIBC_MALLOC 1
#define MEMP_NUM_NETCONN 8

#endif
