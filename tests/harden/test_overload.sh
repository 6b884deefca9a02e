#!/bin/bash
# test_overload.sh -- overload behaviour of issue 7: past the limit,
# latency stays bounded and the server recovers at once.
#
# scepd runs with one PKIOperation worker, a work queue of 2 and a queue
# timeout of 2 s; 48 clients then POST PKIOperations back to back for a
# few seconds (overload.py).  Expected:
#   - some requests are refused with 503 and a Retry-After header, every
#     other one is answered 200 (a CertRep), nothing else, no 5xx but 503;
#   - no request waits longer than the queue timeout plus a margin (the
#     503s come at once, the 200s within the bound);
#   - /metrics showed the queue (scepd_queue_depth > 0) and requests in
#     flight during the flood;
#   - GetCACaps stays fast during the flood (served by the event loop, not
#     the queue);
#   - right after the flood a normal enrollment succeeds at once, and the
#     queue gauge is back to 0.
#
# Environment from meson: SCEPD, SCEPCTL, SCEPMSG, INTEROP_DIR, OVERLOAD.

. "${INTEROP_DIR:?}/lib.sh"

interop_init
need curl openssl python3

export SCEPD_WORKERS=1 SCEPD_QUEUE=2 SCEPD_QUEUE_TIMEOUT=2000
start_scepd
unset SCEPD_WORKERS SCEPD_QUEUE SCEPD_QUEUE_TIMEOUT
W="$WORK"
OP="$SCEP_URL?operation=PKIOperation"

fetch_cacerts "$W/ref" >/dev/null || bail "GetCACert failed"
RA="$W/ref/ra.pem"
make_client "$W/c" overload "$CHALLENGE" || bail "no client"

# One pkiMessage, sent again and again: every copy costs the server its
# signature check, envelope decryption and a signed reply (a replay gets
# a signed FAILURE, still HTTP 200).
"$SCEPMSG" req -t pkcsreq -c "$W/c/csr.pem" -s "$W/c/self.pem" \
    -k "$W/c/key.pem" -r "$RA" -x "overload-$$" -o "$W/flood.der" \
    >/dev/null || bail "scepmsg req failed"

grep -q 'workers=1 queue=2' "$SCEPD_LOG"
tap_check "scepd took workers=1 and queue=2 from the environment" $?

# GetCACaps latency during the flood, measured from the side.
(
	sleep 1
	for i in $(seq 1 20); do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
		    "$SCEP_URL?operation=GetCACaps"
		sleep 0.1
	done
) > "$W/caps.txt" &
CAPS_PID=$!

python3 "${OVERLOAD:?}" "$OP" "$W/flood.der" 48 5 "$BASE_URL/metrics" \
    > "$W/flood.json" || bail "overload.py failed"
wait "$CAPS_PID"
diag "flood: $(cat "$W/flood.json")"

j() { python3 -c "import json,sys; d=json.load(open('$W/flood.json')); print($1)"; }

tap_check "some PKIOperations were refused with 503" \
    "$([ "$(j 'd["codes"].get("503", 0)')" -gt 0 ]; echo $?)"
tap_check "some PKIOperations were served (200)" \
    "$([ "$(j 'd["codes"].get("200", 0)')" -gt 0 ]; echo $?)"
tap_is "$(j '",".join(sorted(d["codes"]))')" "200,503" \
    "every reply was 200 or 503"
tap_is "$(j 'd["errors"]')" 0 "no connection failed"
tap_is "$(j 'd["retry_after_missing"]')" False \
    "every 503 carries Retry-After"
tap_like "$(j '",".join(d["retry_after"])')" '^[0-9]+$' \
    "Retry-After is a number of seconds"
# Queue timeout 2 s: a served request waited at most that long plus its
# own processing; a refused one was refused at once or after the timeout.
tap_check "the slowest 200 took under 4 s" \
    "$(j '0 if d["max_ms"].get("200", 0) < 4000 else 1')"
tap_check "the slowest 503 took under 4 s" \
    "$(j '0 if d["max_ms"].get("503", 0) < 4000 else 1')"
tap_check "/metrics showed a queue during the flood" \
    "$(j '0 if d["peaks"]["scepd_queue_depth"] > 0 else 1')"
tap_check "/metrics showed requests in flight during the flood" \
    "$(j '0 if d["peaks"]["scepd_inflight_requests"] > 0 else 1')"

ok=$(awk '$1 == 200' "$W/caps.txt" | wc -l)
slow=$(awk '$1 == 200 && $2 > 0.5' "$W/caps.txt" | wc -l)
tap_is "$ok" 20 "GetCACaps answered 200 throughout the flood"
tap_is "$slow" 0 "GetCACaps never took over 0.5 s during the flood"

# Recovery: at once, a fresh enrollment.
"$SCEPMSG" req -t pkcsreq -c "$W/c/csr.pem" -s "$W/c/self.pem" \
    -k "$W/c/key.pem" -r "$RA" -x "after-$$" -o "$W/c/msg.der" \
    > "$W/c/req.txt" || bail "scepmsg req failed"
t0=$(date +%s%N)
res=$(http_post "$OP" "$W/c/msg.der" "$W/c/rep.der")
t1=$(date +%s%N)
tap_is "${res%% *}" 200 "right after the flood an enrollment gets 200"
scep_read_reply "$W/c" && st=$(reply_field "$W/c" pkiStatus) || st=none
tap_is "$st" 0 "... and a certificate (SUCCESS)"
ms=$(( (t1 - t0) / 1000000 ))
tap_check "... within 1 s (took ${ms} ms)" "$([ "$ms" -lt 1000 ]; echo $?)"
q=$(curl -s "$BASE_URL/metrics" | awk '$1 == "scepd_queue_depth" {print $2}')
tap_is "$q" 0 "the queue is empty again"
scepd_alive
tap_check "scepd is still running" $?

finish_scepd
