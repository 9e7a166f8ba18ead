#!/bin/bash
# metrics_auth.sh: hub-metrics' own PostgreSQL client authenticates with
# SCRAM-SHA-256, md5 and a plain password (from the DSN, the pg_password
# credential or HUB_PG_PASSWORD_FILE), and a wrong password is a
# configuration error (78) with the sample spooled. Without a password the
# startup packet goes out with the INSERT (one round trip): trust works, and a
# server that asks for a password, refuses the user or lacks the database
# still gives 78 with the reason. A second throwaway server whose
# pg_hba.conf asks for passwords; the runner's stays trust.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"
t_need psql jq

pgdir=$(t_tmpdir)/pg
sock=$("$HUB_TOP/scripts/pg.sh" start "$pgdir") || { t_fail "start second server"; t_done; }
trap '"$HUB_TOP/scripts/pg.sh" stop "$pgdir" >/dev/null 2>&1; _t_cleanup' EXIT
createdb -h "$sock" -U postgres auth && "$HUB_TOP/scripts/migrate.sh" "host=$sock user=postgres dbname=auth" >/dev/null
psql -X -q -h "$sock" -U postgres auth <<'SQL'
SET password_encryption = 'scram-sha-256';
CREATE ROLE scram_user LOGIN PASSWORD 'sc ram"pw';
SET password_encryption = 'md5';
CREATE ROLE md5_user LOGIN PASSWORD 'md5-pw';
CREATE ROLE plain_user LOGIN PASSWORD 'plain-pw';
CREATE ROLE refused_user LOGIN;
GRANT INSERT ON system_metrics TO scram_user, md5_user, plain_user;
SQL
hba=$pgdir/data/pg_hba.conf
{ echo "local all scram_user scram-sha-256"; echo "local all md5_user md5";
  echo "local all plain_user password"; echo "local all refused_user reject";
  echo "local all all trust"; } >"$hba"
psql -X -qtA -h "$sock" -U postgres auth -c 'SELECT pg_reload_conf()' >/dev/null
unset PGPASSWORD
st=$(t_tmpdir)
run() { HUB_PG_DSN="host=$sock dbname=auth $1" m_fixture s1 "$st" >"$st/out" 2>&1; echo $?; }

t_eq "SCRAM-SHA-256 with password= in the DSN" 0 "$(run "user=scram_user password='sc ram\"pw'")"
t_eq "md5" 0 "$(run "user=md5_user password=md5-pw")"
t_eq "cleartext password" 0 "$(run "user=plain_user password=plain-pw")"
echo 'sc ram"pw' >"$st/pw"
t_eq "password from HUB_PG_PASSWORD_FILE" 0 "$(HUB_PG_PASSWORD_FILE=$st/pw run "user=scram_user")"
mkdir -p "$st/creds" && printf 'md5-pw' >"$st/creds/pg_password"
t_eq "password from the pg_password credential" 0 "$(CREDENTIALS_DIRECTORY=$st/creds run "user=md5_user")"
t_eq "postgresql:// URI with an encoded socket path" 0 \
    "$(HUB_PG_DSN="postgresql://scram_user:sc%20ram%22pw@%2F${sock//\//%2F}/auth" m_fixture s1 "$st" >"$st/out" 2>&1; echo $?)"
t_eq "6 samples stored" 6 "$(t_sql "host=$sock user=postgres dbname=auth" 'SELECT count(DISTINCT time) FROM system_metrics')"

t_eq "wrong SCRAM password -> 78" 78 "$(run "user=scram_user password=wrong")"
t_check "...logged as an authentication failure" grep -q '"sqlstate":"28P01"' "$st/out"
t_check "...without the password" sh -c "! grep -q wrong '$st/out'"
t_eq "wrong md5 password -> 78" 78 "$(run "user=md5_user password=wrong")"
t_eq "no password at all -> 78" 78 "$(run "user=scram_user")"
t_check "...naming the fix" grep -q 'pg_password credential' "$st/out"
t_eq "the refused samples are spooled" 27 "$(wc -l <"$st/spool")"

# trust, no password anywhere: the pipelined startup
st=$(t_tmpdir)
t_eq "trust without a password (startup pipelined with the INSERT)" 0 "$(run "user=postgres")"
t_eq "...the sample is stored" 1 \
    "$(t_sql "host=$sock user=postgres dbname=auth" "SELECT count(*) FROM system_metrics WHERE metric_type = 'cpu' AND time = '$(jq -r 'select(.msg == "sample") | .sample_time' "$st/out" | head -1)'")"
t_eq "trust with a password set (not pipelined, not asked for)" 0 "$(run "user=postgres password=unused")"
t_eq "pipelined, no such database -> 78" 78 \
    "$(HUB_PG_DSN="host=$sock dbname=nosuchdb user=postgres" m_fixture s1 "$st" >"$st/out" 2>&1; echo $?)"
t_check "...logged with its sqlstate" grep -q '"sqlstate":"3D000"' "$st/out"
t_eq "pipelined, user refused by pg_hba -> 78" 78 "$(run "user=refused_user")"
t_check "...logged with its sqlstate" grep -q '"sqlstate":"28000"' "$st/out"
t_eq "...both samples spooled" 18 "$(wc -l <"$st/spool")"
t_eq "the next run writes them" 0 "$(run "user=postgres")"
t_eq "...and the spool is gone" no "$([ -e "$st/spool" ] && echo yes || echo no)"
t_done
