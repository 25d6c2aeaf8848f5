/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every application protocol portcullis identifies, one line each (this
 * file is included with APP() defined, no include guard):
 *
 *   APP(ID, name, transports, prio, sides)
 *
 * ID is enum app_proto's APP_<ID>; name is what logs and the policy call
 * it and names its parser, app_<name>_probe() in dp/app/<name>.c;
 * transports are the APP_T_* it runs over; prio is the order in which the
 * engine asks the parsers (the first APP_YES wins, so fixed magic and long
 * fixed prefixes come first, then binary headers with length fields, then
 * text: memcached's lowercase "get k" before Redis inline commands, and
 * HTTP after Redis, which refuses HTTP lines).
 *
 * sides is the evidence that names the protocol.  APP_ONE_SIDE: either
 * side's first bytes, where they are structure that text or noise does
 * not fall into by chance (magic, lengths that must agree, a full request
 * or status line).  APP_BOTH_SIDES: the client's first bytes and the
 * server's, each accepted by the parser; where one side's bytes are short
 * text that a line of some other protocol can start like ("PING",
 * "get k", "hello"), the other side's answer confirms or refutes them.
 * HTTP stays one-sided: a request line is whole only with its version,
 * and its detectors (SQL injection, slow headers) must read a request
 * before, or without, an answer.  Kafka's answers carry too little to
 * confirm anything, so its request header stands alone.
 *
 * Adding a protocol: its parser file, and one line here.  Lines keep
 * their place: the enum's order is what the policy dump and the counters
 * list the protocols in.
 */
APP(HTTP, http, APP_T_TCP, 13, APP_ONE_SIDE)  /* a request line through its version */
APP(HTTP2, http2, APP_T_TCP, 1, APP_ONE_SIDE) /* a 24-byte preface, or a SETTINGS frame */
APP(TLS, tls, APP_T_TCP, 2, APP_ONE_SIDE)     /* record and hello headers whose lengths agree */
APP(SSH, ssh, APP_T_TCP, 3, APP_ONE_SIDE)     /* "SSH-<version>-" and a printable line */
APP(DNS, dns, APP_T_TCP | APP_T_UDP, 6, APP_ONE_SIDE) /* a header whose counts the message holds */
APP(MYSQL, mysql, APP_T_TCP, 8, APP_ONE_SIDE)	      /* greeting or login with fixed fields */
APP(POSTGRESQL, postgresql, APP_T_TCP, 7, APP_ONE_SIDE)	 /* exact lengths and codes */
APP(REDIS, redis, APP_T_TCP, 12, APP_BOTH_SIDES)	 /* inline commands are short text lines */
APP(MEMCACHED, memcached, APP_T_TCP, 11, APP_BOTH_SIDES) /* text commands are short lines */
APP(MONGODB, mongodb, APP_T_TCP, 9, APP_ONE_SIDE)	 /* a length-checked header and BSON */
APP(KAFKA, kafka, APP_T_TCP, 10, APP_ONE_SIDE)		 /* a length-checked request header */
APP(NTP, ntp, APP_T_UDP, 5, APP_ONE_SIDE)   /* a 48-byte header with direction and bounds */
APP(DHCP, dhcp, APP_T_UDP, 4, APP_ONE_SIDE) /* the cookie, or v6 options filling it */
