#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-dp --read-pcap over files that are not a readable capture:
# a text file, an empty file, a missing file, a pcapng file, a pcap of
# another link type, and pcaps cut inside a record header or a record's
# data (the first and a later record).  Each gives exit status 1, nothing
# on stdout and one error line on stderr that says what is wrong (and, for
# a cut capture, which record); an empty but valid capture gives exit 0
# and no session.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dp_pcap.sh"
ti_init
[ -x "$DP" ] || ti_fail "portcullis-dp not built: $DP"
T=$TI_TMP

# pcap global header, little-endian microsecond magic, snaplen 65535, link $1
pcap_hdr() {
	printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00'
	printf "\\x$(printf %02x "$1")\\x00\\x00\\x00"
}

# a record header: ts 1 s, caplen and len $1 (< 256)
rec_hdr() {
	printf '\x01\x00\x00\x00\x00\x00\x00\x00'
	printf "\\x$(printf %02x "$1")\\x00\\x00\\x00\\x$(printf %02x "$1")\\x00\\x00\\x00"
}

# a 60-byte Ethernet frame: IPv4 UDP 10.0.0.1:1000 -> 10.0.0.2:2000, 18 bytes of payload
frame() {
	printf '\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00'
	printf '\x45\x00\x00\x2e\x00\x01\x00\x00\x40\x11\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02'
	printf '\x03\xe8\x07\xd0\x00\x1a\x00\x00'
	printf 'portcullis-badpcap'
}

# bad NAME REGEX: --read-pcap $T/NAME fails with exit 1 and one matching line
bad() {
	local f=$T/$1 re=$2 rc=0
	timeout 20 "$DP" --config "$TI_CFG" --read-pcap "$f" >"$f.out" 2>"$f.err" || rc=$?
	grep -v '^portcullis-dp: info: ' "$f.err" >"$f.err1" || true
	ti_assert_eq 1 "$rc" "$1: exit status"
	[ ! -s "$f.out" ] || ti_fail "$1: printed on stdout: $(head -c 300 "$f.out")"
	ti_assert_eq 1 "$(grep -c '' "$f.err1")" "$1: error lines ($(tr '\n' '|' <"$f.err1"))"
	grep -qE "$re" "$f.err1" || ti_fail "$1: error '$(cat "$f.err1")' does not match /$re/"
	ti_log "ok: $1: $(cat "$f.err1")"
}

echo "this is not a capture, just text long enough for a header" >"$T/text.pcap"
bad text.pcap 'text\.pcap: not a pcap file'

: >"$T/empty.pcap"
bad empty.pcap 'empty\.pcap: not a pcap file'

bad missing.pcap 'missing\.pcap: No such file'

# a pcapng Section Header Block, as tcpdump and dumpcap write first
printf '\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00' \
	>"$T/ng.pcapng"
bad ng.pcapng 'ng\.pcapng: a pcapng file; only pcap is read'

{ pcap_hdr 101; rec_hdr 40; frame | tail -c 40; } >"$T/raw.pcap"
bad raw.pcap 'raw\.pcap: link type 101'

{ pcap_hdr 1; rec_hdr 60 | head -c 9; } >"$T/cut-hdr1.pcap"
bad cut-hdr1.pcap 'cut-hdr1\.pcap: record 1: header cut short'

{ pcap_hdr 1; rec_hdr 60; frame | head -c 30; } >"$T/cut-data1.pcap"
bad cut-data1.pcap 'cut-data1\.pcap: record 1: data cut short'

{ pcap_hdr 1; rec_hdr 60; frame; rec_hdr 60; frame; rec_hdr 60; frame | head -c 59; } >"$T/cut-data3.pcap"
bad cut-data3.pcap 'cut-data3\.pcap: record 3: data cut short'

# the same whole: one UDP session of three packets
{ pcap_hdr 1; rec_hdr 60; frame; rec_hdr 60; frame; rec_hdr 60; frame; } >"$T/whole.pcap"
rc=0
"$DP" --config "$TI_CFG" --read-pcap "$T/whole.pcap" >"$T/whole.out" 2>"$T/whole.err" || rc=$?
ti_assert_eq 0 "$rc" "whole capture: exit status ($(cat "$T/whole.err"))"
ti_assert_eq '{"transport":"udp","src":"10.0.0.1","sport":1000,"dst":"10.0.0.2","dport":2000,"app":"unknown","packets":3,"bytes":180,"verdict":"allow","rule":0}' \
	"$(jq -c '{transport, src, sport, dst, dport, app, packets, bytes, verdict, rule}' "$T/whole.out")" \
	"whole capture: its one session"
ti_log "ok: whole.pcap: $(cat "$T/whole.out")"

pcap_hdr 1 >"$T/nothing.pcap"
rc=0
"$DP" --config "$TI_CFG" --read-pcap "$T/nothing.pcap" >"$T/nothing.out" 2>"$T/nothing.err" || rc=$?
ti_assert_eq 0 "$rc" "capture without records: exit status ($(cat "$T/nothing.err"))"
[ ! -s "$T/nothing.out" ] || ti_fail "capture without records: printed $(cat "$T/nothing.out")"
ti_log "ok: nothing.pcap: exit 0, no session"
