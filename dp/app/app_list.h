/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every application protocol portcullis identifies, one line each (this
 * file is included with APP() defined, no include guard):
 *
 *   APP(ID, name, transports, prio)
 *
 * ID is enum app_proto's APP_<ID>; name is what logs and the policy call
 * it and names its parser, app_<name>_probe() in dp/app/<name>.c;
 * transports are the APP_T_* it runs over; prio is the order in which the
 * engine asks the parsers (the first APP_YES wins, so fixed magic and long
 * fixed prefixes come first, then binary headers with length fields, then
 * text: memcached's lowercase "get k" before Redis inline commands, and
 * HTTP after Redis, which refuses HTTP lines).
 *
 * Adding a protocol: its parser file, and one line here.  Lines keep
 * their place: the enum's order is what the policy dump and the counters
 * list the protocols in.
 */
APP(HTTP, http, APP_T_TCP, 13)
APP(HTTP2, http2, APP_T_TCP, 1)
APP(TLS, tls, APP_T_TCP, 2)
APP(SSH, ssh, APP_T_TCP, 3)
APP(DNS, dns, APP_T_TCP | APP_T_UDP, 6)
APP(MYSQL, mysql, APP_T_TCP, 8)
APP(POSTGRESQL, postgresql, APP_T_TCP, 7)
APP(REDIS, redis, APP_T_TCP, 12)
APP(MEMCACHED, memcached, APP_T_TCP, 11)
APP(MONGODB, mongodb, APP_T_TCP, 9)
APP(KAFKA, kafka, APP_T_TCP, 10)
APP(NTP, ntp, APP_T_UDP, 5)
APP(DHCP, dhcp, APP_T_UDP, 4)
