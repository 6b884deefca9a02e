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

Enroll a device with certmonger (AES, SHA-256):
  getcert add-scep-ca -c demo -u {j['scep_url']}
  getcert request -c demo -k /tmp/dev.key -f /tmp/dev.pem -N CN=my-device -L {j['challenge']}

micromdm's scepclient only speaks single DES, so give it an endpoint with
the legacy switch and an account of its own:
  export SCEPD_URL={j['admin_url']} SCEPD_TOKEN={j['admin_token']}
  build/src/scepctl/scepctl endpoint create --name "Old clients" --ext legacy --type device --legacy
  build/src/scepctl/scepctl account create --endpoint legacy --name dev1    # prints its challenge
  scepclient -server-url {j['admin_url']}/scep/legacy -challenge <that challenge> \\
      -private-key dev.key -certificate dev.pem -cn my-device
""")
PY
exec "$scepd" serve --data-dir "$demo" --listen "$listen"
