/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_TLS_INT_H
#define PORTCULLIS_DP_THREAT_TLS_INT_H

/* The hello readers of the TLS detector (tls_hello.c). */

#include "dp/threat/threat_int.h"

#define TLS_CLIENT_HELLO 1
#define TLS_SERVER_HELLO 2
#define TLS_V12 0x0303

/*
 * A handshake message at body (avail bytes, type, 24-bit length, version
 * already there): the highest version a ClientHello offers, the version a
 * ServerHello picks.
 */
uint16_t tls_client_hello_max(const uint8_t *body, size_t avail);
uint16_t tls_server_hello_version(const uint8_t *body, size_t avail);

/* "SSL 3.0", "TLS 1.1", ... or the number in hex, in buf[16] */
const char *tls_version_name(uint16_t v, char buf[16]);

/* an SSLv2-format ClientHello at d: a hit naming its version */
bool tls_sslv2_hello(const uint8_t *d, size_t len, struct threat_hit *hit);

#endif
