#!/bin/bash
# metrics_fixture.sh: hub-metrics on the fixture trees (test/fixtures/metrics)
# gives exact payloads: the first run (no state, --warmup 0) has counters but
# no rates; the second, 10.00 s later by the fixture's uptime clock, has every
# rate and CPU share exact. --no-db throughout: stdout only.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"
t_need jq

st=$(t_tmpdir)
out1=$st/out1 out2=$st/out2
m_fixture s1 "$st" --no-db >"$out1" 2>&1
t_eq "first run exits 0" 0 "$?"
m_fixture s2 "$st" --no-db >"$out2" 2>&1
t_eq "second run exits 0" 0 "$?"

t_eq "first run: cpu has no shares yet, temperatures from coretemp" \
    '{"count":2,"package_temp":45,"core_temps":{"core_0":41,"core_1":43.5}}' "$(m_payload cpu "$out1")"
t_eq "first run: diskio without rates" \
    '{"sda":{"reads":1000,"writes":2000,"read_bytes":10240000,"write_bytes":20480000,"busy_ms":1500},"nvme0n1":{"reads":500,"writes":100,"read_bytes":5120000,"write_bytes":1024000,"busy_ms":300}}' \
    "$(m_payload diskio "$out1")"

t_eq "cpu: total and per-core shares over the 10 s" \
    '{"usage":45,"user":30,"nice":0,"system":10,"idle":50,"iowait":5,"irq":2,"softirq":1,"steal":2,"count":2,"cores":{"cpu0":{"usage":55,"user":40,"system":10,"iowait":5,"steal":2},"cpu1":{"usage":35,"user":20,"system":10,"iowait":5,"steal":2}},"package_temp":45,"core_temps":{"core_0":41,"core_1":43.5}}' \
    "$(m_payload cpu "$out2")"
t_eq "memory: bytes, used = total - available" \
    '{"total":16384000000,"available":10240000000,"used":6144000000,"used_percent":37.5,"free":4096000000,"buffers":512000000,"cached":5120000000,"shared":204800000}' \
    "$(m_payload memory "$out2")"
t_eq "swap" '{"total":2048000000,"free":1536000000,"used":512000000,"used_percent":25,"cached":1024000}' \
    "$(m_payload swap "$out2")"
t_eq "load" '{"load1":0.61,"load5":0.6,"load15":0.59,"running":1,"procs":350}' "$(m_payload load "$out2")"
t_eq "diskio: whole disks only (no sda1, nvme0n1p1, loop0), rates exact" \
    '{"sda":{"reads":1100,"writes":2500,"read_bytes":11264000,"write_bytes":25600000,"busy_ms":3500,"reads_per_s":10,"writes_per_s":50,"read_bytes_per_s":102400,"write_bytes_per_s":512000,"busy_percent":20},"nvme0n1":{"reads":520,"writes":130,"read_bytes":5324800,"write_bytes":1331200,"busy_ms":400,"reads_per_s":2,"writes_per_s":3,"read_bytes_per_s":20480,"write_bytes_per_s":30720,"busy_percent":1}}' \
    "$(m_payload diskio "$out2")"
t_eq "network: lo, docker*, veth* left out; rates exact" \
    '{"eth0":{"rx_bytes":1100000,"rx_packets":1100,"rx_errors":1,"rx_dropped":2,"tx_bytes":550000,"tx_packets":900,"tx_errors":3,"tx_dropped":4,"rx_bytes_per_s":10000,"tx_bytes_per_s":5000,"rx_packets_per_s":10,"tx_packets_per_s":10},"wlan0":{"rx_bytes":0,"rx_packets":0,"rx_errors":0,"rx_dropped":0,"tx_bytes":0,"tx_packets":0,"tx_errors":0,"tx_dropped":0,"rx_bytes_per_s":0,"tx_bytes_per_s":0,"rx_packets_per_s":0,"tx_packets_per_s":0}}' \
    "$(m_payload network "$out2")"
t_eq "temperature: hwmon chips and thermal zones" \
    '{"package":45,"cores":{"core_0":41,"core_1":43.5},"sensors":{"coretemp":{"package_id_0":45,"core_0":41,"core_1":43.5},"nvme":{"composite":38.85}},"zones":{"x86_pkg_temp":46,"acpitz":27.8}}' \
    "$(m_payload temperature "$out2")"
t_eq "uptime with kernel and os-release" \
    '{"seconds":1010,"idle_seconds":1815.5,"kernel":"6.1.0-fixture-amd64","os_id":"debian","os_version":"12","os_name":"Debian GNU/Linux 12 (bookworm)"}' \
    "$(m_payload uptime "$out2")"

# disk sizes are those of the filesystem under the fixture: check the shape
disk=$(m_payload disk "$out2")
t_eq "disk: real filesystems only, one mount per device, escapes undone" \
    '["/","/data","/mnt/my disk"]' "$(jq -c keys_unsorted <<<"$disk")"
t_eq "disk: device and type kept" '"/dev/nvme0n1p1 xfs"' "$(jq -c '.["/data"] | "\(.device) \(.fstype)"' <<<"$disk")"
t_eq "disk: used + free <= total, percentages in range" true \
    "$(jq '[.[] | (.used + .free <= .total) and .used_percent >= 0 and .used_percent <= 100 and .inodes_used + .inodes_free == .inodes_total] | all' <<<"$disk")"

t_eq "every sample line names host and type" 9 "$(grep '"msg":"sample"' "$out2" | grep -c '"host":"fixture-host"')"
t_eq "every line is JSON" "$(wc -l <"$out2")" "$(jq -c . <"$out2" 2>/dev/null | wc -l)"
t_eq "summary line" '9 0 "no"' "$(grep metrics_collected "$out2" | jq -r '"\(.rows) \(.failed) \"\(.stored)\""')"

# configurable exclusions (and their rejecting twin: the defaults drop lo)
st2=$(t_tmpdir)
m_fixture s1 "$st2" --no-db --exclude-iface 'wlan*' --exclude-fs 'proc,sysfs,overlay,xfs' \
    --exclude-disk 'nvme*,loop*' >"$st2/out" 2>&1
t_eq "--exclude-iface replaces the list" '["lo","eth0","docker0","veth12ab"]' \
    "$(m_payload network "$st2/out" | jq -c keys_unsorted)"
t_eq "--exclude-fs replaces the list (tmpfs now in, xfs out)" '["/","/run","/mnt/my disk"]' \
    "$(m_payload disk "$st2/out" | jq -c keys_unsorted)"
t_eq "--exclude-disk" '["sda"]' "$(m_payload diskio "$st2/out" | jq -c keys_unsorted)"
t_eq "HUB_METRICS_HOST names the host" '"other"' \
    "$(HUB_METRICS_HOST=other m_fixture s1 "$(t_tmpdir)" --no-db | grep -m1 '"sample"' | jq .host)"
t_done
