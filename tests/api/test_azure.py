#!/usr/bin/env python3
"""test_azure.py -- Azure accounts and the Intune settings of endpoints
(issue 5) over the admin API, against a real scepd and the Entra ID /
Graph / Intune stand-in (tests/intune/standin.py, TLS with its own CA):
create, read, update, rotate, Test connection (success, and the AADSTS
code of a wrong secret), delete (409 while an endpoint uses the account),
scope (MRAO manages; RAO/DRAO see what is delegated to them, read-only),
and the secrets: never in a response, the audit trail, the log or the
database file.  TAP output."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import ssl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apilib import Scepd, ok, is_, done, bail  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "..", "intune", "standin.py")
SECRET = "standin-secret"          # what the stand-in expects at first
WRONG = "Wr0ng-s3cret-" + "q" * 12
ROTATED = "r0tated-S3cret-" + "z" * 12
PROXY_PW = "pr0xy-Passw0rd-" + "k" * 10
SECRETS = (SECRET, WRONG, ROTATED, PROXY_PW)


def start_standin(work):
    d = os.path.join(work, "standin")
    os.makedirs(d)
    p = subprocess.Popen([sys.executable, STANDIN, "--dir", d,
                          "--exit-with-parent"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    info = os.path.join(d, "standin.json")
    for _ in range(200):
        if os.path.exists(info):
            with open(info) as f:
                return p, json.load(f)
        if p.poll() is not None:
            break
        time.sleep(0.05)
    bail("the stand-in did not start")


s = Scepd()
st_proc, st = start_standin(s.work)
ctx = ssl.create_default_context(cafile=st["ca"])


def standin(path, body=None):
    req = urllib.request.Request(st["base"] + path.lstrip("/"),
                                 data=None if body is None else
                                 json.dumps(body).encode(),
                                 method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def token_secrets():
    """client_secret of every token request the stand-in saw, in order."""
    return [c["form"].get("client_secret") for c in
            standin("/_standin/calls")["calls"] if c.get("kind") == "token"]


seen = []          # every response body, to grep for the secrets


def rec(r):
    seen.append(r.body)
    return r


def must(r, what, status=(200, 201)):
    rec(r)
    if r.status not in (status if isinstance(status, tuple) else (status,)):
        ok(False, "setup: " + what, r)
        sys.exit(done())
    return r.json


def account_body(name, **kw):
    b = {"name": name, "environment": "global",
         "tenant_id": "contoso.onmicrosoft.com",
         "client_id": "11111111-1111-1111-1111-111111111111",
         "client_secret": SECRET,
         "authority_url": st["base"], "graph_url": st["base"],
         "graph_scope": "https://graph.microsoft.com/.default",
         "ca_bundle_path": st["ca"]}
    b.update(kw)
    return b


# ---- the world --------------------------------------------------------

org_a = must(s.post("/api/v1/organizations", {"name": "A"}), "org A")["id"]
org_b = must(s.post("/api/v1/organizations", {"name": "B"}), "org B")["id"]
d_a1 = must(s.post("/api/v1/departments", {"org_id": org_a, "name": "A1"}),
            "dept A1")["id"]


def admin(name, role, scopes):
    a = must(s.post("/api/v1/admins", {"name": name, "role": role,
                                       "cert_types": ["client", "device"],
                                       "scopes": scopes}), "admin " + name)
    return must(s.post("/api/v1/admins/%d/tokens" % a["id"], {"name": "t"}),
                "token " + name)["token"]


RA = admin("rao-a", "RAO", [{"org_id": org_a}])
DA = admin("drao-a1", "DRAO", [{"dept_id": d_a1}])
RB = admin("rao-b", "RAO", [{"org_id": org_b}])

# ---- create -----------------------------------------------------------

r = rec(s.post("/api/v1/azure-accounts", account_body("general")))
is_(r.status, 201, "MRAO creates an Azure account", r)
G = r.json or {}
is_(G.get("delegation"), "general", "General delegation by default")
ok("client_secret" not in G and SECRET not in r.body,
   "the new account is returned without its secret", r)
is_(G.get("ca_bundle_path"), st["ca"], "ca_bundle_path kept")

acct_a = must(s.post("/api/v1/azure-accounts", account_body(
    "for-a", targets=[{"org_id": org_a}], proxy_user="u",
    proxy="http://127.0.0.1:%d" % st["proxy_port"],
    proxy_password=PROXY_PW)), "account for A")
is_(acct_a.get("delegation"), "customized", "targets alone: Customized")
is_(acct_a.get("has_proxy_password"), True,
    "proxy password: only whether one is set")
acct_b = must(s.post("/api/v1/azure-accounts", account_body(
    "for-b", delegation="customized", targets=[{"org_id": org_b}])),
    "account for B")

r = rec(s.post("/api/v1/azure-accounts", account_body("general")))
is_(r.status, 409, "a second account with the same name: 409", r)
b = account_body("nosecret")
del b["client_secret"]
r = rec(s.post("/api/v1/azure-accounts", b))
ok(r.status == 400 and r.json.get("field") == "client_secret",
   "create without client_secret: 400 naming it", r)
r = rec(s.post("/api/v1/azure-accounts", account_body(
    "http", authority_url="http://127.0.0.1:1/")))
is_(r.status, 400, "an http:// authority is refused", r)
r = rec(s.post("/api/v1/azure-accounts", account_body(
    "bogus", environment="mars")))
ok(r.status == 400 and r.json.get("field") == "environment",
   "an unknown environment: 400", r)
r = rec(s.post("/api/v1/azure-accounts", account_body("x", colour="red")))
ok(r.status == 400 and r.json.get("field") == "colour",
   "an unknown member: 400", r)
r = rec(s.post("/api/v1/azure-accounts", account_body(
    "badtarget", targets=[{"org_id": 999}])))
is_(r.status, 400, "a target organization that does not exist: 400", r)

# ---- read -------------------------------------------------------------

r = rec(s.get("/api/v1/azure-accounts"))
is_(sorted(x["name"] for x in r.json["items"]),
    ["for-a", "for-b", "general"], "MRAO lists every account", r)
r = rec(s.get("/api/v1/azure-accounts/%d" % G["id"]))
ok(r.status == 200 and r.json["tenant_id"] == "contoso.onmicrosoft.com",
   "GET one account", r)

# ---- scope ------------------------------------------------------------

for tok, who, want in ((RA, "RAO of A", ["for-a", "general"]),
                       (DA, "DRAO of A1", ["for-a", "general"]),
                       (RB, "RAO of B", ["for-b", "general"])):
    r = rec(s.get("/api/v1/azure-accounts", token=tok))
    is_(sorted(x["name"] for x in r.json["items"]), want,
        who + " lists General accounts and those delegated to it", r)
is_(rec(s.get("/api/v1/azure-accounts/%d" % acct_b["id"], token=RA)).status,
    404, "RAO of A: account of B does not exist")
is_(rec(s.get("/api/v1/azure-accounts/%d" % acct_a["id"], token=RA)).status,
    200, "RAO of A reads the account delegated to A")
for method, path, body in (
        ("POST", "/api/v1/azure-accounts", account_body("rao")),
        ("PATCH", "/api/v1/azure-accounts/%d" % acct_a["id"],
         {"name": "x"}),
        ("POST", "/api/v1/azure-accounts/%d/secret" % acct_a["id"],
         {"client_secret": WRONG}),
        ("POST", "/api/v1/azure-accounts/%d/test" % acct_a["id"], {}),
        ("DELETE", "/api/v1/azure-accounts/%d" % acct_a["id"], None)):
    r = rec(s.request(method, path, token=RA, body=body))
    is_(r.status, 403, "RAO of A may not %s %s" % (method, path), r)
is_(rec(s.request("DELETE", "/api/v1/azure-accounts/%d" % acct_b["id"],
                  token=RA)).status, 404,
    "RAO of A: DELETE of B's account is 404, not 403")

# ---- update -----------------------------------------------------------

r = rec(s.patch("/api/v1/azure-accounts/%d" % acct_a["id"],
                {"name": "for-a2", "revocation_poll": True,
                 "proxy_password": None, "proxy": "", "proxy_user": ""}))
ok(r.status == 200 and r.json["name"] == "for-a2" and
   r.json["revocation_poll"] is True and
   r.json["has_proxy_password"] is False,
   "PATCH: rename, revocation polling on, proxy and its password removed",
   r)
r = rec(s.patch("/api/v1/azure-accounts/%d" % acct_a["id"],
                {"graph_url": "ftp://x/"}))
is_(r.status, 400, "PATCH with a non-https Graph URL: 400", r)
is_(rec(s.get("/api/v1/azure-accounts/%d" % acct_a["id"])).json["graph_url"],
    st["base"], "a refused PATCH changes nothing")

# ---- Test connection, rotation ----------------------------------------

r = rec(s.post("/api/v1/azure-accounts/%d/test" % G["id"], {}))
ok(r.status == 200 and r.json["ok"] is True and
   [x["ok"] for x in r.json["steps"]] == [True, True, True] and
   r.json["validation_uri"].startswith("https://127.0.0.1"),
   "Test connection: token, discovery, token all pass", r)
is_(token_secrets()[-1], SECRET, "the stand-in got the account's secret")

r = rec(s.post("/api/v1/azure-accounts/%d/secret" % G["id"],
               {"client_secret": WRONG}))
is_(r.status, 204, "rotate the secret", r)
r = rec(s.post("/api/v1/azure-accounts/%d/test" % G["id"], {}))
ok(r.status == 200 and r.json["ok"] is False and
   r.json["steps"][0]["aadsts"] == "AADSTS7000215" and
   r.json["steps"][0]["ok"] is False,
   "Test connection after rotation to a wrong secret: AADSTS7000215 at "
   "the first step", r)
is_(token_secrets()[-1], WRONG,
    "the rotated secret is used at once (no cached token kept)")

standin("/_standin/config", {"client_secret": ROTATED})
r = rec(s.patch("/api/v1/azure-accounts/%d" % G["id"],
                {"client_secret": ROTATED}))
is_(r.status, 200, "PATCH with client_secret rotates too", r)
r = rec(s.post("/api/v1/azure-accounts/%d/test" % G["id"], {}))
ok(r.status == 200 and r.json["ok"] is True, "Test connection with the "
   "new secret passes", r)
is_(token_secrets()[-1], ROTATED, "the stand-in got the new secret")
r = rec(s.post("/api/v1/azure-accounts/%d/secret" % G["id"],
               {"client_secret": ""}))
is_(r.status, 400, "an empty secret is refused", r)
r = rec(s.post("/api/v1/azure-accounts/%d/secret" % G["id"],
               {"client_secret": ROTATED, "x": 1}))
is_(r.status, 400, "rotate takes client_secret only", r)

# ---- Intune endpoints -------------------------------------------------

ca_id = must(s.get("/api/v1/cas"), "cas")["items"][0]["id"]


def intune_ep(ext, token=None, **kw):
    b = {"name": ext, "uri_ext": ext, "type": "device-intune",
         "ca_id": ca_id, "org_id": org_a, "delegation": "customized",
         "targets": [{"org_id": org_a}]}
    b.update(kw)
    return rec(s.post("/api/v1/endpoints", b, token=token))


r = intune_ep("in-b", azure_account_id=acct_b["id"])
ok(r.status == 400 and r.json.get("field") == "azure_account_id",
   "an account not delegated to the endpoint's organization: 400", r)
r = intune_ep("in-x", azure_account_id=99999)
is_(r.status, 400, "an unknown account: 400", r)
r = intune_ep("in-g", azure_account_id=G["id"])
ok(r.status == 201 and r.json["azure_account_id"] == G["id"] and
   r.json["wait_success"] is True,
   "Intune endpoint on a General account; wait_success defaults to true", r)
EP = r.json["id"] if r.status == 201 else 0
r = rec(s.get("/api/v1/endpoints/%d" % EP))
ok(r.json.get("azure_account_id") == G["id"] and
   r.json.get("ca_configuration") == "", "GET shows the Intune settings", r)
r = rec(s.patch("/api/v1/endpoints/%d" % EP,
                {"wait_success": False, "ca_configuration": "CA1",
                 "issuing_ca": "CN=Issuing"}))
ok(r.status == 200 and r.json["wait_success"] is False and
   r.json["ca_configuration"] == "CA1" and
   r.json["issuing_ca"] == "CN=Issuing", "PATCH the Intune settings", r)
n_before = len([e for e in rec(s.get("/api/v1/audit?limit=1000")).json[
    "items"] if e.get("action") == "endpoint.intune"])
r = rec(s.patch("/api/v1/endpoints/%d" % EP,
                {"wait_success": False, "azure_account_id": G["id"]}))
n_after = len([e for e in rec(s.get("/api/v1/audit?limit=1000")).json[
    "items"] if e.get("action") == "endpoint.intune"])
ok(r.status == 200 and n_after == n_before, "sending the settings back "
   "unchanged writes no audit record", r, n_before, n_after)
r = rec(s.patch("/api/v1/endpoints/%d" % EP,
                {"azure_account_id": acct_b["id"]}))
is_(r.status, 400, "PATCH to another organization's account: 400", r)
is_(rec(s.get("/api/v1/endpoints/%d" % EP)).json["azure_account_id"],
    G["id"], "and the settings are unchanged")
r = rec(s.post("/api/v1/endpoints", {
    "name": "plain", "uri_ext": "plain", "type": "device", "ca_id": ca_id,
    "delegation": "general", "azure_account_id": G["id"]}))
is_(r.status, 400, "a plain endpoint takes no Azure account", r)

# An RAO connects an endpoint it manages to an account delegated to it.
r = intune_ep("in-ra", token=RA, azure_account_id=acct_a["id"])
is_(r.status, 201, "RAO of A: Intune endpoint on A's account", r)
EP_RA = r.json["id"] if r.status == 201 else 0
r = intune_ep("in-ra2", token=RA, azure_account_id=acct_b["id"])
is_(r.status, 400, "RAO of A: B's account is not there", r)

# ---- scepctl ----------------------------------------------------------


def ctl(*args, stdin=""):
    env = dict(os.environ)
    env["SCEPD_URL"] = s.url
    env["SCEPD_TOKEN"] = s.token
    r = subprocess.run([s.ctl] + list(args), input=stdin, text=True,
                       capture_output=True, env=env, timeout=60)
    seen.append(r.stdout + r.stderr)
    return r.returncode, r.stdout, r.stderr


common = ["--tenant", "contoso.onmicrosoft.com", "--client-id",
          "11111111-1111-1111-1111-111111111111", "--authority-url",
          st["base"], "--graph-url", st["base"], "--graph-scope",
          "https://graph.microsoft.com/.default", "--ca-bundle", st["ca"]]
rc, out, err = ctl("azure", "create", "--name", "ctl", *common,
                   "--target", str(org_a), "--json", stdin=ROTATED + "\n")
ok(rc == 0, "scepctl azure create (secret on standard input)", out, err)
CTL = json.loads(out)["id"] if rc == 0 else 0
ok(CTL and json.loads(out)["delegation"] == "customized",
   "--target makes it Customized", out)
rc, out, err = ctl("azure", "create", "--name", "ctl-none", *common)
ok(rc == 1 and "no client secret" in err,
   "scepctl azure create with nothing on standard input: exit 1", err)
rc, out, err = ctl("azure", "create", "--name", "ctl-argv", *common,
                   "--client-secret", ROTATED, stdin=ROTATED + "\n")
ok(rc == 1 and "unknown option" in err,
   "a secret on the command line is not an option", err)
rc, out, err = ctl("azure", "list")
ok(rc == 0 and "ctl" in out and "contoso.onmicrosoft.com" in out,
   "scepctl azure list", out, err)
rc, out, err = ctl("azure", "show", str(CTL))
ok(rc == 0 and "tenant_id" in out, "scepctl azure show", out, err)
rc, out, err = ctl("azure", "test", str(CTL))
ok(rc == 0 and out.count(" ok ") == 3, "scepctl azure test: three steps "
   "ok, exit 0", out, err)
sf = os.path.join(s.work, "wrong.txt")
with open(sf, "w") as f:
    f.write(WRONG + "\n")
os.chmod(sf, 0o600)
rc, out, err = ctl("azure", "rotate-secret", str(CTL), "--secret-file", sf)
ok(rc == 0 and "replaced" in out, "scepctl azure rotate-secret "
   "--secret-file", out, err)
rc, out, err = ctl("azure", "test", str(CTL))
ok(rc == 4 and "AADSTS7000215" in out, "scepctl azure test after a wrong "
   "secret: exit 4 with the AADSTS code", out, err)
is_(token_secrets()[-1], WRONG, "scepctl's rotation is used at once")
rc, out, err = ctl("azure", "rotate-secret", str(CTL), stdin=ROTATED + "\n")
ok(rc == 0, "scepctl azure rotate-secret from standard input", err)
rc, out, err = ctl("azure", "update", str(CTL), "--name", "ctl2",
                   "--revocation-poll", "--json")
ok(rc == 0 and json.loads(out)["name"] == "ctl2" and
   json.loads(out)["revocation_poll"] is True, "scepctl azure update", out,
   err)
rc, out, err = ctl("endpoint", "create", "--name", "ctl-ep", "--ext",
                   "ctl-ep", "--type", "device-intune", "--ca", str(ca_id),
                   "--org", str(org_a), "--target", str(org_a),
                   "--azure-account", str(CTL), "--no-wait-success",
                   "--ca-configuration", "CA-X", "--json")
j = json.loads(out) if rc == 0 else {}
ok(rc == 0 and j.get("azure_account_id") == CTL and
   j.get("wait_success") is False and j.get("ca_configuration") == "CA-X",
   "scepctl endpoint create with the Intune options", out, err)
rc, out, err = ctl("azure", "delete", str(CTL))
is_(rc, 4, "scepctl azure delete while in use: exit 4 (409)", out, err)
rc, out, err = ctl("endpoint", "update", "ctl-ep", "--azure-account", "0",
                   "--wait-success", "--json")
j = json.loads(out) if rc == 0 else {}
ok(rc == 0 and j.get("azure_account_id") is None and
   j.get("wait_success") is True,
   "scepctl endpoint update --azure-account 0 disconnects", out, err)
rc, out, err = ctl("azure", "delete", str(CTL))
is_(rc, 0, "then scepctl azure delete succeeds", out, err)

# ---- delete -----------------------------------------------------------

r = rec(s.delete("/api/v1/azure-accounts/%d" % G["id"]))
is_(r.status, 409, "delete an account an endpoint uses: 409", r)
rec(s.patch("/api/v1/endpoints/%d" % EP, {"azure_account_id": None}))
is_(rec(s.get("/api/v1/endpoints/%d" % EP)).json["azure_account_id"], None,
    "azure_account_id null disconnects the endpoint")
r = rec(s.delete("/api/v1/azure-accounts/%d" % G["id"]))
is_(r.status, 204, "then the delete succeeds", r)
is_(rec(s.get("/api/v1/azure-accounts/%d" % G["id"])).status, 404,
    "a deleted account is gone")
rec(s.delete("/api/v1/endpoints/%d" % EP_RA))
r = rec(s.delete("/api/v1/azure-accounts/%d" % acct_a["id"]))
is_(r.status, 204, "an account whose endpoint was deleted can go", r)

# ---- audit and secrets ------------------------------------------------

r = rec(s.get("/api/v1/audit?limit=1000"))
actions = [e.get("action") for e in r.json["items"]]
for a in ("azure_account.create", "azure_account.update",
          "azure_account.rotate_secret", "azure_account.test",
          "azure_account.delete", "endpoint.intune"):
    ok(a in actions, "audited: " + a)
audit = r.body
s.proc.terminate()          # not s.stop(): that removes the files
s.proc.wait(10)
s.log.flush()
with open(os.path.join(s.work, "scepd.log"), errors="replace") as f:
    log = f.read()
db = b""
if s.dsn:                  # PostgreSQL: every row of the database
    # Debian's pg_dump wrapper reads PGCLUSTER as "version/name".
    pe = {k: v for k, v in os.environ.items() if k != "PGCLUSTER"}
    pd = subprocess.run(["pg_dump", "--data-only", s.dsn],
                        capture_output=True, env=pe)
    db = pd.stdout
    ok(b"azure_account" in db, "pg_dump of the store holds the accounts",
       pd.stderr.decode(errors="replace"))
for ext in ("", "-wal", "-journal"):
    if os.path.exists(s.db() + ext):
        with open(s.db() + ext, "rb") as f:
            db += f.read()
for sec in SECRETS:
    ok(not any(sec in b for b in seen), "no response holds %s..." % sec[:6])
    ok(sec not in audit, "the audit trail does not hold %s..." % sec[:6])
    ok(sec not in log, "scepd's log does not hold %s..." % sec[:6])
    ok(sec.encode() not in db, "the database file does not hold %s..."
       % sec[:6])
st_proc.terminate()
st_proc.wait()
sys.exit(done())
