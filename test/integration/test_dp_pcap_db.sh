#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# portcullis-dp --read-pcap over a capture of real database servers and
# their own clients (see test_dp_pcap.sh for the set-up):
# - PostgreSQL 15 (initdb into a temporary folder, postgres, psql over
#   IPv4 without TLS, so a StartupMessage first, and over IPv6 with the
#   default sslmode, so an SSLRequest first) is "postgresql";
# - MariaDB (mariadb-install-db, mariadbd, the mariadb client over IPv4
#   and IPv6; the server speaks first) is "mysql";
# - opener, server, packets and bytes as the capture has them;
# - no threat line: all of it is ordinary traffic.
. "$(dirname "$0")/lib/core.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/traffic.sh"
. "$(dirname "$0")/lib/dp_pcap.sh"
pc_init
T=$TI_TMP

HAVE_PG=0
start_pg() {
	local bin
	pc_need postgresql psql || { pc_sub_skip postgresql "postgresql cannot be installed"; return 0; }
	bin=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n 1)
	[ -n "$bin" ] || { pc_sub_skip postgresql "no postgres binary under /usr/lib/postgresql"; return 0; }
	bin=$(dirname "$bin")
	id postgres >/dev/null 2>&1 || { pc_sub_skip postgresql "no postgres user"; return 0; }
	mkdir -m 700 "$T/pg" "$T/pgsock"
	chown postgres: "$T/pg" "$T/pgsock"
	setpriv --reuid postgres --regid postgres --init-groups \
		"$bin/initdb" -D "$T/pg" -A trust -U postgres --no-sync >"$T/initdb.log" 2>&1 ||
		{ tail -n 20 "$T/initdb.log" >&2; ti_fail "initdb failed"; }
	printf 'host all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n' >>"$T/pg/pg_hba.conf"
	pc_bg "$PC_SRV" "$T/postgres.log" setpriv --reuid postgres --regid postgres --init-groups \
		"$bin/postgres" -D "$T/pg" -k "$T/pgsock" -p 5432 \
		-c "listen_addresses=$PC_S4,$PC_S6" -c fsync=off -c ssl=off
	pc_wait_port "$PC_SRV" tcp 5432 30 "postgres" "$T/postgres.log"
	HAVE_PG=1
}

HAVE_MY=0
start_mariadb() {
	pc_need mariadb-server mariadbd || { pc_sub_skip mysql "mariadb-server cannot be installed"; return 0; }
	pc_need mariadb-client mariadb || { pc_sub_skip mysql "mariadb-client cannot be installed"; return 0; }
	mkdir -m 700 "$T/my"
	mariadb-install-db --no-defaults --datadir="$T/my" --user=root \
		--auth-root-authentication-method=normal --skip-test-db >"$T/my-install.log" 2>&1 ||
		{ tail -n 20 "$T/my-install.log" >&2; ti_fail "mariadb-install-db failed"; }
	# no grant tables: the client logs in from the other namespace as is
	pc_bg "$PC_SRV" "$T/mariadbd.log" mariadbd --no-defaults --datadir="$T/my" --user=root \
		--port=3306 --bind-address='*' --socket="$T/my.sock" --pid-file="$T/my.pid" \
		--skip-grant-tables --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=16M \
		--log-error="$T/mariadbd.err"
	pc_wait_port "$PC_SRV" tcp 3306 30 "mariadbd" "$T/mariadbd.err"
	HAVE_MY=1
}

start_pg
start_mariadb

pc_capture_start
if [ "$HAVE_PG" = 1 ]; then
	pc_cli "psql" psql -X -At "host=$PC_S4 port=5432 user=postgres dbname=postgres sslmode=disable" \
		-c "select 'pg-$TI_ID'"
	grep -qx "pg-$TI_ID" "$T/cli.out" || ti_fail "psql got '$(cat "$T/cli.out")'"
	pc_cli "psql IPv6" psql -X -At "host=$PC_S6 port=5432 user=postgres dbname=postgres" \
		-c "select 'pg6-$TI_ID'"
	grep -qx "pg6-$TI_ID" "$T/cli.out" || ti_fail "psql IPv6 got '$(cat "$T/cli.out")'"
fi
if [ "$HAVE_MY" = 1 ]; then
	pc_cli "mariadb" mariadb --no-defaults --protocol=tcp -h "$PC_S4" -P 3306 -u root -N -B \
		-e "select 'my-$TI_ID'"
	grep -qx "my-$TI_ID" "$T/cli.out" || ti_fail "mariadb got '$(cat "$T/cli.out")'"
	pc_cli "mariadb IPv6" mariadb --no-defaults --protocol=tcp -h "$PC_S6" -P 3306 -u root -N -B \
		-e "select 'my6-$TI_ID'"
	grep -qx "my6-$TI_ID" "$T/cli.out" || ti_fail "mariadb IPv6 got '$(cat "$T/cli.out")'"
fi
pc_capture_stop

O=$T/out.json
pc_read "$PC_PCAP" "$O"
pc_expect_no_threat "$O"
if [ "$HAVE_PG" = 1 ]; then
	pc_expect "$O" tcp "$PC_C4" "$PC_S4" 5432 postgresql
	pc_expect "$O" tcp "$PC_C6" "$PC_S6" 5432 postgresql
	pc_covered postgresql postgresql-ssl-request-v6
fi
if [ "$HAVE_MY" = 1 ]; then
	pc_expect "$O" tcp "$PC_C4" "$PC_S4" 3306 mysql
	pc_expect "$O" tcp "$PC_C6" "$PC_S6" 3306 mysql
	pc_covered mariadb mariadb-v6
fi
pc_summary
