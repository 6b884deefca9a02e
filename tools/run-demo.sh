#!/bin/sh
# run-demo.sh BUILD DEMO LISTEN -- `make run`: create the demo data
# directory once (SQLite store, generated demo CA), print how to enroll,
# then serve in the foreground.
set -eu
build=$1 demo=$2 listen=$3
scepd="$build/src/scepd/scepd"
url="http://$listen"
if [ ! -d "$demo" ]; then
	"$scepd" init --data-dir "$demo" --url "$url" --listen "$listen" \
	    --json >"$demo.init.json.tmp"
	mv "$demo.init.json.tmp" "$demo/init.json"
	chmod 600 "$demo/init.json"
fi
python3 - "$demo/init.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"""
scepd demo ({j['data_dir']})
  SCEP URL          {j['scep_url']}
  also              {j['default_url']}
  challenge         {j['challenge']}
  CA SHA-256        {j['ca_fingerprint_sha256']}
  console / API     {j['admin_url']}/   user {j['admin_user']}  password {j['admin_password']}
  API token         {j['admin_token']}

Enroll a device, for example:
  scepclient -server-url {j['scep_url']} -challenge {j['challenge']} \\
      -private-key /tmp/dev.key -certificate /tmp/dev.pem -cn my-device
(micromdm's scepclient needs the legacy switch: scepctl endpoint create ... --legacy)
""")
PY
exec "$scepd" serve --data-dir "$demo" --listen "$listen"
