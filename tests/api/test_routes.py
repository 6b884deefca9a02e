#!/usr/bin/env python3
"""test_routes.py -- every route of /api/v1 over real HTTP against a
running scepd, with good and bad input: the dispatcher's checks
(authentication, methods, bodies, content type, JSON validity and depth,
size, transport), then each resource in turn.  TAP output."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apilib import Scepd, ok, is_, done, q  # noqa: E402

s = Scepd(legacy=True)
T = s.token


def err_field(r):
    return (r.json or {}).get("field")


# ---- dispatcher -------------------------------------------------------

r = s.request("GET", "/api/v1/endpoints")
is_(r.status, 401, "no token: 401")
ok("bearer" in (r.header("www-authenticate") or "").lower(),
   "401 carries WWW-Authenticate: Bearer")
ok(r.json is not None and "error" in r.json, "401 body is JSON {error}")
is_(s.request("GET", "/api/v1/endpoints", token="scepd_" + "A" * 43).status,
    401, "unknown token: 401")
is_(s.request("GET", "/api/v1/endpoints",
              headers={"Authorization": "Basic YWRtaW46eA=="}).status,
    401, "Basic authentication is not accepted: 401")
is_(s.request("GET", "/api/v1/endpoints", token="x" * 5000).status, 401,
    "an overlong token: 401")
r = s.get("/api/v1/endpoints")
is_(r.status, 200, "bootstrap token works")
is_(r.header("cache-control"), "no-store", "answers are Cache-Control: "
    "no-store")
is_(r.header("x-content-type-options"), "nosniff", "answers are nosniff")
is_(s.get("/api/v1/nope").status, 404, "unknown path: 404")
is_(s.get("/api/v1/endpoints/1/nope").status, 404, "unknown sub-path: 404")
is_(s.get("/api/v1/endpoints/").status, 404, "empty segment: 404")
r = s.request("PUT", "/api/v1/organizations", token=T, body={})
is_(r.status, 405, "wrong method: 405")
ok("GET" in (r.header("allow") or "") and "POST" in (r.header("allow") or ""),
   "405 lists the allowed methods", r.header("allow"))
r = s.request("GET", "/api/v1/organizations", token=T, raw=b'{"a":1}')
is_(r.status, 400, "GET with a body: 400")
r = s.request("POST", "/api/v1/organizations", token=T, raw=b'{"name":')
is_((r.status, err_field(r)), (400, "body"), "invalid JSON: 400 field body")
r = s.request("POST", "/api/v1/organizations", token=T, raw=b'[1,2]')
is_(r.status, 400, "a JSON array body: 400")
r = s.request("POST", "/api/v1/organizations", token=T,
              raw=b'{"name":"a","name":"b"}')
is_(r.status, 400, "duplicate JSON keys: 400")
r = s.request("POST", "/api/v1/organizations", token=T,
              raw=b'{"name":"x"}', ctype="text/plain")
is_(r.status, 415, "a body that is not application/json: 415")
deep = {"name": "deep"}
for _ in range(10):
    deep = {"n": deep}
r = s.request("POST", "/api/v1/organizations", token=T, body=deep)
is_(r.status, 400, "JSON nested deeper than the limit: 400")
r = s.request("POST", "/api/v1/organizations", token=T,
              raw=b'{"name":"' + b"a" * (70 * 1024) + b'"}')
is_(r.status, 413, "a body over API_MAX_BODY: 413")
r = s.post("/api/v1/organizations", {"name": "x", "bogus": 1})
is_((r.status, err_field(r)), (400, "body"), "unknown member: 400")
ok("bogus" in (r.json or {}).get("error", ""),
   "the error names the unknown member", r)


# Plain HTTP from a non-loopback address is refused (issue 3).
def outside_addr():
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect(("192.0.2.254", 9))
        a = u.getsockname()[0]
        u.close()
        return None if a.startswith("127.") else a
    except OSError:
        return None


addr = outside_addr()
if addr is None:
    print("ok - non-loopback refusal # SKIP this host has no non-loopback "
          "IPv4 address")
else:
    w = Scepd(listen_host="0.0.0.0")
    r = w.request("GET", "/api/v1/endpoints", token=w.token, host=addr)
    is_(r.status, 403, "plain HTTP from %s (not loopback): 403" % addr)
    ok("TLS" in (r.json or {}).get("error", ""), "the refusal says TLS", r)
    is_(w.request("GET", "/api/v1/endpoints", token=w.token).status, 200,
        "the same instance over loopback: 200")
    is_(w.request("GET", "/healthz", host=addr).status, 200,
        "SCEP-side paths stay reachable from outside")
    w.stop()

# ---- organizations ----------------------------------------------------

r = s.post("/api/v1/organizations", {})
is_((r.status, err_field(r)), (400, "name"), "org without name: 400 name")
r = s.post("/api/v1/organizations", {"name": 5})
is_((r.status, err_field(r)), (400, "name"), "org name not a string: 400")
r = s.post("/api/v1/organizations", {"name": " lead"})
is_(r.status, 400, "org name with a leading space: 400")
r = s.post("/api/v1/organizations", {"name": "ctl\u0001"})
is_(r.status, 400, "org name with a control character: 400")
r = s.post("/api/v1/organizations", {"name": "n" * 200})
is_((r.status, err_field(r)), (400, "name"), "org name too long: 400")
r = s.post("/api/v1/organizations", {"name": "Org A"})
is_(r.status, 201, "create org: 201")
org_a = (r.json or {}).get("id")
ok(isinstance(org_a, int) and org_a > 0, "org has an id")
r = s.post("/api/v1/organizations", {"name": "Org A"})
is_((r.status, err_field(r)), (409, "name"), "duplicate org name: 409 name")
org_b = s.post("/api/v1/organizations", {"name": "Org B"}).json["id"]
r = s.get("/api/v1/organizations")
is_(sorted(o["name"] for o in r.json["items"]), ["Org A", "Org B"],
    "list orgs")
is_(s.get("/api/v1/organizations/%d" % org_a).json["name"], "Org A",
    "get org")
is_(s.get("/api/v1/organizations/999999").status, 404, "get missing org")
is_(s.get("/api/v1/organizations/abc").status, 404, "get org by non-number")
is_(s.get("/api/v1/organizations/-1").status, 404, "get org by -1")
r = s.patch("/api/v1/organizations/%d" % org_b, {"name": "Org B2"})
is_((r.status, r.json.get("name")), (200, "Org B2"), "rename org")
r = s.patch("/api/v1/organizations/%d" % org_b, {"id": 12345})
is_((r.status, err_field(r)), (400, "id"), "patch id: 400 read-only")
r = s.patch("/api/v1/organizations/%d" % org_b, {"name": "Org A"})
is_(r.status, 409, "rename to a taken name: 409")
org_tmp = s.post("/api/v1/organizations", {"name": "Temp"}).json["id"]
is_(s.delete("/api/v1/organizations/%d" % org_tmp).status, 204,
    "delete unused org: 204")
is_(s.get("/api/v1/organizations/%d" % org_tmp).status, 404,
    "deleted org is gone")
is_(s.delete("/api/v1/organizations/%d" % org_tmp).status, 404,
    "delete it again: 404")

# ---- departments ------------------------------------------------------

r = s.post("/api/v1/departments", {"name": "D"})
is_((r.status, err_field(r)), (400, "org_id"), "dept without org: 400")
r = s.post("/api/v1/departments", {"name": "D", "org_id": 999999})
is_((r.status, err_field(r)), (400, "org_id"), "dept of missing org: 400")
r = s.post("/api/v1/departments", {"name": "D", "org_id": "1"})
is_((r.status, err_field(r)), (400, "org_id"), "org_id as string: 400")
r = s.post("/api/v1/departments", {"name": "Sales", "org_id": org_a})
is_(r.status, 201, "create dept")
dept_a1 = r.json["id"]
is_(s.post("/api/v1/departments", {"name": "Sales", "org_id": org_a}).status,
    409, "duplicate dept name in one org: 409")
is_(s.post("/api/v1/departments", {"name": "Sales", "org_id": org_b}).status,
    201, "same dept name in another org: 201")
dept_a2 = s.post("/api/v1/departments",
                 {"name": "Ops", "org_id": org_a}).json["id"]
r = s.get("/api/v1/departments?org_id=%d" % org_a)
is_(sorted(d["name"] for d in r.json["items"]), ["Ops", "Sales"],
    "list depts of one org")
is_(s.get("/api/v1/departments?org_id=abc").status, 400,
    "dept list with a bad org_id: 400")
r = s.patch("/api/v1/departments/%d" % dept_a2, {"org_id": org_b})
is_((r.status, err_field(r)), (400, "org_id"),
    "moving a dept to another org: 400")
r = s.patch("/api/v1/departments/%d" % dept_a2, {"name": "Operations"})
is_((r.status, r.json.get("name")), (200, "Operations"), "rename dept")
is_(s.delete("/api/v1/organizations/%d" % org_a).status, 409,
    "delete an org that has departments: 409")
d_tmp = s.post("/api/v1/departments", {"name": "T", "org_id": org_b}).json
is_(s.delete("/api/v1/departments/%d" % d_tmp["id"]).status, 204,
    "delete unused dept")
is_(s.get("/api/v1/departments/%d" % d_tmp["id"]).status, 404,
    "deleted dept is gone")

# ---- administrators and tokens ----------------------------------------

me = s.get("/api/v1/me").json
is_((me["role"], me["name"], me["auth"]), ("MRAO", "admin", "token"),
    "GET /me")
ok("password_hash" not in me and "password" not in me,
   "no password material in /me")
bad_admins = [
    ({"name": "r1", "role": "RAO", "cert_types": ["client"]}, "scopes",
     "RAO without organizations"),
    ({"name": "r1", "role": "RAO", "scopes": [{"dept_id": dept_a1}]},
     "scopes", "RAO scoped to a department"),
    ({"name": "r1", "role": "DRAO", "scopes": [{"org_id": org_a}]},
     "scopes", "DRAO scoped to an organization"),
    ({"name": "r1", "role": "MRAO", "scopes": [{"org_id": org_a}]},
     "scopes", "MRAO with scopes"),
    ({"name": "r1", "role": "KING"}, "role", "unknown role"),
    ({"name": "r1", "role": "RAO", "cert_types": ["server"],
      "scopes": [{"org_id": org_a}]}, "cert_types", "unknown cert type"),
    ({"name": "r1", "role": "RAO", "cert_types": [],
      "scopes": [{"org_id": org_a}]}, "cert_types", "no cert types"),
    ({"name": "r1", "role": "RAO", "scopes": [{"org_id": 999999}]},
     "scopes", "scope of a missing org"),
    ({"name": "r1", "role": "RAO", "scopes": [{"org_id": org_a}],
      "password": "short"}, "password", "password too short"),
    ({"name": "r1", "role": "RAO", "scopes": "org"}, "scopes",
     "scopes not an array"),
]
for body, field, what in bad_admins:
    r = s.post("/api/v1/admins", body)
    is_((r.status, err_field(r)), (400, field), "admin: %s: 400 %s" %
        (what, field), r)
r = s.post("/api/v1/admins", {"name": "rao-a", "role": "RAO",
                              "cert_types": ["client", "device"],
                              "scopes": [{"org_id": org_a}]})
is_(r.status, 201, "create RAO")
rao = r.json
ok(len(rao.get("password", "")) >= 20, "a generated password is shown once")
is_(rao["scopes"], [{"org_id": org_a, "dept_id": 0}], "RAO scopes")
is_(s.post("/api/v1/admins", {"name": "rao-a", "role": "RAO",
                              "scopes": [{"org_id": org_a}]}).status, 409,
    "duplicate administrator name: 409")
r = s.get("/api/v1/admins/%d" % rao["id"])
ok(r.status == 200 and "password" not in r.json,
   "get administrator: no password")
r = s.post("/api/v1/admins", {"name": "drao-a1", "role": "DRAO",
                              "cert_types": ["device"],
                              "scopes": [{"dept_id": dept_a1}],
                              "password": "correct horse battery"})
is_(r.status, 201, "create DRAO with a chosen password")
drao = r.json
is_(drao["scopes"], [{"org_id": org_a, "dept_id": dept_a1}],
    "DRAO scope carries its organization")
ok("password" not in drao, "a chosen password is not echoed")
r = s.patch("/api/v1/admins/%d" % drao["id"], {"password": "x" * 20})
is_((r.status, err_field(r)), (400, "password"),
    "PATCH cannot set a password")
r = s.patch("/api/v1/admins/%d" % me["id"], {"role": "RAO",
                                             "scopes": [{"org_id": org_a}]})
is_(r.status, 400, "the last MRAO cannot be demoted")
is_(s.delete("/api/v1/admins/%d" % me["id"]).status, 400,
    "an administrator cannot delete itself")
r = s.post("/api/v1/admins/%d/password" % drao["id"], {"password": "abc"})
is_((r.status, err_field(r)), (400, "password"), "set a short password: 400")
is_(s.post("/api/v1/admins/%d/password" % drao["id"],
           {"password": "another long password"}).status, 204,
    "set a password: 204")
r = s.request("POST", "/api/v1/login",
              body={"name": "drao-a1", "password": "another long password"})
is_(r.status, 200, "login with the new password")
tmp = s.post("/api/v1/admins", {"name": "tmp", "role": "MRAO"}).json
r = s.patch("/api/v1/admins/%d" % tmp["id"], {"disabled": True})
is_((r.status, r.json.get("disabled")), (200, True), "disable admin")
is_(s.delete("/api/v1/admins/%d" % tmp["id"]).status, 204, "delete admin")
is_(s.get("/api/v1/admins/%d" % tmp["id"]).status, 404, "deleted admin gone")

r = s.post("/api/v1/admins/%d/tokens" % me["id"], {})
is_((r.status, err_field(r)), (400, "name"), "token without name: 400")
r = s.post("/api/v1/admins/%d/tokens" % me["id"],
           {"name": "old", "expires_at": 1000})
is_((r.status, err_field(r)), (400, "expires_at"),
    "token expiring in the past: 400")
r = s.post("/api/v1/admins/%d/tokens" % me["id"], {"name": "ci"})
is_(r.status, 201, "create token")
tok = r.json
ok(tok.get("token", "").startswith("scepd_") and len(tok["token"]) >= 49,
   "token is scepd_ + 256 bits, shown once")
is_(s.get("/api/v1/me", token=tok["token"]).status, 200, "new token works")
r = s.get("/api/v1/admins/%d/tokens" % me["id"])
ok(r.status == 200 and all("token" not in t for t in r.json["items"]),
   "token list shows no token values")
is_(s.delete("/api/v1/admins/%d/tokens/%d" % (me["id"], tok["id"])).status,
    204, "revoke token")
is_(s.get("/api/v1/me", token=tok["token"]).status, 401,
    "revoked token: 401")
is_(s.delete("/api/v1/admins/%d/tokens/%d" % (me["id"], tok["id"])).status,
    404, "revoke it again: 404")
r = s.post("/api/v1/admins/%d/tokens" % me["id"],
           {"name": "short", "expires_at": int(time.time()) + 2})
short = r.json["token"]
is_(s.get("/api/v1/me", token=short).status, 200, "expiring token works")
time.sleep(2.5)
is_(s.get("/api/v1/me", token=short).status, 401, "expired token: 401")

# ---- endpoints --------------------------------------------------------

bad_eps = [
    ({"name": "e", "type": "device"}, "uri_ext", "missing uri_ext"),
    ({"name": "e", "uri_ext": "a b", "type": "device"}, "uri_ext",
     "space in uri_ext"),
    ({"name": "e", "uri_ext": "../x", "type": "device"}, "uri_ext",
     "dots and slash in uri_ext"),
    ({"name": "e", "uri_ext": "x" * 65, "type": "device"}, "uri_ext",
     "uri_ext too long"),
    ({"name": "e", "uri_ext": "e1", "type": "server"}, "type",
     "unknown type"),
    ({"name": "e", "uri_ext": "e1", "type": "client-intune"}, "org_id",
     "Intune type without an organization"),
    ({"name": "e", "uri_ext": "e1", "type": "device", "term_days": 0},
     "term_days", "term 0"),
    ({"name": "e", "uri_ext": "e1", "type": "device", "term_days": 99999},
     "term_days", "term too long"),
    ({"name": "e", "uri_ext": "e1", "type": "device",
      "min_rsa_bits": 512}, "min_rsa_bits", "512-bit RSA"),
    ({"name": "e", "uri_ext": "e1", "type": "client", "server_auth": True},
     "server_auth", "serverAuth on client certificates"),
    ({"name": "e", "uri_ext": "e1", "type": "device", "legacy": "yes"},
     "legacy", "legacy not a boolean"),
    ({"name": "e", "uri_ext": "e1", "type": "device",
      "getcacert_format": "xml"}, "getcacert_format", "bad GetCACert format"),
    ({"name": "e", "uri_ext": "e1", "type": "device",
      "delegation": "customized", "targets": [{"org_id": 999999}]},
     "targets", "delegation to a missing org"),
    ({"name": "e", "uri_ext": "e1", "type": "device",
      "delegation": "customized",
      "targets": [{"org_id": org_b, "dept_id": dept_a1}]},
     "targets", "department of another org"),
    ({"name": "e", "uri_ext": "e1", "type": "device",
      "delegation": "general", "targets": [{"org_id": org_a}]},
     "targets", "General with targets"),
    ({"name": "e", "uri_ext": "e1", "type": "device", "ra_id": 999999},
     "ra_id", "missing RA"),
    ({"name": "e", "uri_ext": "e1", "type": "device", "org_id": org_a},
     "org_id", "organization on a plain SCEP endpoint"),
    ({"name": "", "uri_ext": "e1", "type": "device"}, "name", "empty name"),
]
for body, field, what in bad_eps:
    r = s.post("/api/v1/endpoints", body)
    is_((r.status, err_field(r)), (400, field),
        "endpoint: %s: 400 %s" % (what, field), r)
r = s.post("/api/v1/endpoints", {"name": "Clients A", "uri_ext": "clients-a",
                                 "type": "client", "legacy": True,
                                 "delegation": "customized",
                                 "targets": [{"org_id": org_a}]})
is_(r.status, 201, "create endpoint")
ep = r.json
is_(ep.get("url"), s.url + "/scep/clients-a", "endpoint URL is derived")
is_((ep["type"], ep["legacy"], ep["delegation"], ep["targets"]),
    ("client", True, "customized", [{"org_id": org_a, "dept_id": 0}]),
    "endpoint fields")
r = s.post("/api/v1/endpoints", {"name": "dup", "uri_ext": "clients-a",
                                 "type": "device"})
is_((r.status, err_field(r)), (409, "uri_ext"), "duplicate uri_ext: 409")
r = s.get("/api/v1/endpoints?uri_ext=clients-a")
is_([e["id"] for e in r.json["items"]], [ep["id"]], "list by uri_ext")
is_(s.get("/api/v1/endpoints?deleted=maybe").status, 400,
    "deleted=maybe: 400")
r = s.patch("/api/v1/endpoints/%d" % ep["id"], {"type": "device"})
is_((r.status, err_field(r)), (400, "type"), "type is fixed after creation")
r = s.patch("/api/v1/endpoints/%d" % ep["id"], {"ca_id": 2})
is_((r.status, err_field(r)), (400, "ca_id"), "CA is fixed after creation")
r = s.patch("/api/v1/endpoints/%d" % ep["id"], ep)
is_(r.status, 200, "PATCH with the object as read back: 200", r)
r = s.patch("/api/v1/endpoints/%d" % ep["id"],
            {"manual_approval": True, "term_days": 30, "url": "ignored"})
is_((r.status, r.json.get("manual_approval"), r.json.get("term_days")),
    (200, True, 30), "PATCH manual approval and term")
r = s.get("/api/v1/endpoints/%d/delegation" % ep["id"])
is_(r.json, {"delegation": "customized",
             "targets": [{"org_id": org_a, "dept_id": 0}]},
    "GET delegation")
is_(s.put("/api/v1/endpoints/%d/delegation" % ep["id"], {}).status, 400,
    "PUT delegation without a mode: 400")
is_(s.put("/api/v1/endpoints/%d/delegation" % ep["id"],
          {"delegation": "customized", "name": "x"}).status, 400,
    "PUT delegation with other members: 400")
r = s.put("/api/v1/endpoints/%d/delegation" % ep["id"],
          {"delegation": "customized", "targets": [
              {"org_id": org_a, "dept_id": dept_a1},
              {"org_id": org_b}]})
is_((r.status, len(r.json.get("targets", []))), (200, 2),
    "PUT Customized delegation")
r = s.put("/api/v1/endpoints/%d/delegation" % ep["id"],
          {"delegation": "general"})
is_((r.status, r.json), (200, {"delegation": "general", "targets": []}),
    "PUT General delegation clears the targets")
s.put("/api/v1/endpoints/%d/delegation" % ep["id"],
      {"delegation": "customized", "targets": [{"org_id": org_a}]})

# ---- accounts ---------------------------------------------------------

EPA = "/api/v1/endpoints/%d/accounts" % ep["id"]
bad_accts = [
    ({}, "name", "no name"),
    ({"name": "a", "endpoint_id": 1}, "endpoint_id", "endpoint_id differs"),
    ({"name": "a", "expires_at": 1000}, "expires_at", "expired already"),
    ({"name": "a", "max_enrollments": -1}, "max_enrollments",
     "negative maximum"),
    ({"name": "a", "dept_id": dept_a1}, "org_id", "department without org"),
    ({"name": "a", "org_id": org_b}, "org_id",
     "org the endpoint is not delegated to"),
    ({"name": "a", "org_id": org_a, "dept_id": 999999}, "dept_id",
     "missing department"),
    ({"name": "a", "enrollments": 5}, "enrollments", "enrollments set"),
    ({"name": "a", "challenge": "mine"}, "body", "challenge chosen"),
    ({"name": "a", "cn_pattern": "x\ny"}, "cn_pattern",
     "control character in a pattern"),
]
for body, field, what in bad_accts:
    r = s.post(EPA, body)
    is_((r.status, err_field(r)), (400, field),
        "account: %s: 400 %s" % (what, field), r)
r = s.post(EPA, {"name": "laptops", "org_id": org_a, "dept_id": dept_a1,
                 "max_enrollments": 5, "cn_pattern": "*.example.com",
                 "expires_at": int(time.time()) + 86400})
is_(r.status, 201, "create account")
acct = r.json
ok(re.fullmatch(r"[A-Za-z0-9]{24}", acct.get("challenge", "")) is not None,
   "the challenge is 24 alphanumerics, shown once")
r = s.get("/api/v1/accounts/%d" % acct["id"])
ok(r.status == 200 and "challenge" not in r.json and
   "challenge_hash" not in r.json, "get account: no challenge material")
is_((r.json["org_id"], r.json["dept_id"], r.json["cn_pattern"]),
    (org_a, dept_a1, "*.example.com"), "account fields")
r = s.patch("/api/v1/accounts/%d" % acct["id"], {"enabled": False})
is_((r.status, r.json.get("enabled")), (200, False), "disable account")
r = s.patch("/api/v1/accounts/%d" % acct["id"], {"endpoint_id": 1})
is_((r.status, err_field(r)), (400, "endpoint_id"),
    "accounts do not move between endpoints")
r = s.patch("/api/v1/accounts/%d" % acct["id"], {"enabled": True,
                                                  "max_enrollments": 0})
is_(r.status, 200, "enable, unlimited")
r = s.post("/api/v1/accounts/%d/challenge" % acct["id"])
ok(r.status == 200 and r.json.get("challenge") != acct["challenge"],
   "regenerate the challenge")
is_(s.post("/api/v1/accounts/%d/challenge" % acct["id"], {"x": 1}).status,
    400, "regenerate takes no members")
r = s.post("/api/v1/accounts/%d/challenges" % acct["id"], {"ttl": 0})
is_((r.status, err_field(r)), (400, "ttl"), "one-time challenge ttl 0: 400")
r = s.post("/api/v1/accounts/%d/challenges" % acct["id"],
           {"ttl": 10 ** 9})
is_((r.status, err_field(r)), (400, "ttl"), "ttl too long: 400")
r = s.post("/api/v1/accounts/%d/challenges" % acct["id"], {"ttl": 600})
is_(r.status, 201, "mint a one-time challenge")
otc = r.json
ok(len(otc.get("challenge", "")) == 24 and
   otc["expires_at"] - otc["created_at"] == 600, "one-time challenge, TTL")
r = s.get("/api/v1/accounts/%d/challenges" % acct["id"])
is_([(o["id"], o["status"]) for o in r.json["items"]],
    [(otc["id"], "unused")], "list one-time challenges (no secrets)")
ok(all("challenge" not in o for o in r.json["items"]),
   "listed one-time challenges carry no secret")
r = s.get("/api/v1/accounts?endpoint_id=%d" % ep["id"])
is_([a["id"] for a in r.json["items"]], [acct["id"]],
    "list accounts of an endpoint")
is_(s.get("/api/v1/accounts?endpoint_id=x").status, 400,
    "account list with a bad endpoint_id: 400")
r = s.get(EPA)
is_([a["id"] for a in r.json["items"]], [acct["id"]],
    "GET /endpoints/{id}/accounts")
intune = s.post("/api/v1/endpoints", {
    "name": "Intune", "uri_ext": "intune", "type": "device-intune",
    "org_id": org_a, "dept_id": dept_a1}).json
is_(intune.get("org_id"), org_a, "Intune endpoint carries its organization")
r = s.patch("/api/v1/endpoints/%d" % intune["id"], {"dept_id": dept_a2})
is_((r.status, err_field(r)), (400, "dept_id"),
    "Intune organization/department are fixed")
r = s.post("/api/v1/endpoints/%d/accounts" % intune["id"], {"name": "x"})
is_((r.status, err_field(r)), (400, "endpoint_id"),
    "no accounts on Intune endpoints")

# ---- CAs and RAs ------------------------------------------------------

r = s.get("/api/v1/cas")
ok(r.status == 200 and r.json["count"] == 1 and
   len(r.json["items"][0].get("fingerprint_sha256", "")) == 95,
   "list CAs with fingerprints", r)
ca_id = r.json["items"][0]["id"]
r = s.get("/api/v1/ras")
ok(r.status == 200 and r.json["count"] == 1, "list RAs")
ra1 = r.json["items"][0]
ok(ra1["state"] == "active" and "keyEncipherment" in ra1["key_usage"],
   "RA details: state and key usage", ra1)
for k in ("subject", "issuer", "cert_serial", "not_before", "not_after",
          "fingerprint_sha1", "fingerprint_sha256"):
    ok(k in ra1, "RA view has %s" % k)
r = s.get("/api/v1/ras/%d/download" % ra1["id"])
ok(r.status == 200 and "BEGIN CERTIFICATE" in r.body, "RA as PEM")
with tempfile.TemporaryDirectory() as td:
    for fmt, cmd in (("der", ["openssl", "x509", "-inform", "DER", "-noout",
                              "-subject"]),
                     ("p7", ["openssl", "pkcs7", "-inform", "DER",
                             "-print_certs", "-noout"])):
        import urllib.request
        req = urllib.request.Request(
            s.url + "/api/v1/ras/%d/download?format=%s" % (ra1["id"], fmt),
            headers={"Authorization": "Bearer " + T})
        data = urllib.request.urlopen(req).read()
        p = subprocess.run(cmd, input=data, capture_output=True)
        ok(p.returncode == 0, "RA as %s parses with openssl" % fmt,
           p.stderr)
        if fmt == "p7":
            ok(p.stdout.count(b"subject=") == 2,
               "the PKCS#7 holds the RA and its CA")
is_(s.get("/api/v1/ras/%d/download?format=xml" % ra1["id"]).status, 400,
    "download format xml: 400")
is_(s.get("/api/v1/ras/999999").status, 404, "missing RA: 404")
bad_ras = [
    ({"subject": "CN=x"}, "ca_id", "no CA"),
    ({"ca_id": ca_id}, "subject", "no subject"),
    ({"ca_id": ca_id, "subject": "no equals sign"}, "subject", "bad DN"),
    ({"ca_id": ca_id, "subject": "CN=x", "key_alg": "dsa1024"}, "key_alg",
     "unknown key algorithm"),
    ({"ca_id": ca_id, "subject": "CN=x", "usage": "all"}, "usage",
     "unknown usage"),
    ({"ca_id": ca_id, "subject": "CN=x", "days": 0}, "days", "0 days"),
    ({"ca_id": ca_id, "subject": "CN=x", "state": "retired"}, "state",
     "created retired"),
    ({"ca_id": ca_id, "subject": "CN=x", "key_alg": "ec256"}, "key_alg",
     "EC key for an RA that decrypts"),
]
for body, field, what in bad_ras:
    r = s.post("/api/v1/ras", body)
    is_((r.status, err_field(r)), (400, field), "RA: %s: 400 %s" %
        (what, field), r)
r = s.post("/api/v1/ras", {"ca_id": ca_id, "subject": "CN=Second RA,O=t",
                           "days": 30})
is_((r.status, (r.json or {}).get("state")), (201, "active"),
    "create an extra active RA")
ra2 = r.json
is_(ra2.get("subject"), "CN=Second RA,O=t", "new RA subject")
r = s.post("/api/v1/ras/%d/rollover" % ra1["id"], {"action": "dance"})
is_((r.status, err_field(r)), (400, "action"), "rollover action dance: 400")
r = s.post("/api/v1/ras/%d/rollover" % ra1["id"], {"action": "switch"})
is_(r.status, 400, "switch with nothing staged: 400")
r = s.post("/api/v1/ras/%d/rollover" % ra1["id"], {"action": "stage"})
is_((r.status, (r.json or {}).get("state")), (200, "next"),
    "stage a successor")
ra3 = r.json
is_(ra3.get("subject"), ra1["subject"], "successor keeps the subject")
r = s.request("GET", "/scep/device?operation=GetNextCACert")
is_(r.status, 200, "GetNextCACert serves the staged RA")
r = s.post("/api/v1/ras/%d/rollover" % ra1["id"], {"action": "stage"})
is_(r.status, 409, "a second staged RA: 409")
r = s.post("/api/v1/ras/%d/rollover" % ra1["id"], {"action": "switch"})
is_((r.status, (r.json or {}).get("id"), (r.json or {}).get("state")),
    (200, ra3["id"], "active"), "switch to the successor")
is_(s.get("/api/v1/ras/%d" % ra1["id"]).json["state"], "retired",
    "the old RA is retired")
is_(s.get("/api/v1/endpoints/1").json["ra_id"], ra3["id"],
    "endpoints moved to the new RA")
is_(s.request("GET", "/scep/device?operation=GetCACert").status, 200,
    "GetCACert still answers after the switch")

# ---- certificates and requests (with a real client) -------------------


def scepclient(url, challenge, cn, wait=60):
    d = tempfile.mkdtemp(prefix="scepc-", dir=s.work)
    try:
        p = subprocess.run(["scepclient", "-server-url", url, "-private-key",
                            "key.pem", "-certificate", "cert.pem",
                            "-challenge", challenge, "-cn", cn],
                           cwd=d, capture_output=True, text=True,
                           timeout=wait)
        return p.returncode, p.stdout + p.stderr, d
    except subprocess.TimeoutExpired as e:
        return -1, str(e.stdout or ""), d


rc, out, d = scepclient(s.init["scep_url"], s.init["challenge"], "c1")
ok(rc == 0, "scepclient enrolls on the default endpoint", out)
r = s.get("/api/v1/certificates")
ok(r.status == 200 and r.json["count"] >= 1, "list certificates")
cert = [c for c in r.json["items"] if "CN=c1" in c["subject"]][0]
serial = cert["serial"]
is_(s.get("/api/v1/certificates?subject=CN%3Dc1").json["count"], 1,
    "search by subject")
is_(s.get("/api/v1/certificates?serial=" + serial.lower()).json["count"], 1,
    "search by serial (any case)")
is_(s.get("/api/v1/certificates?endpoint_id=%d&status=valid" %
          cert["endpoint_id"]).json["count"], 1,
    "search by endpoint and status")
is_(s.get("/api/v1/certificates?expires_before=%d" %
          (int(time.time()) + 60)).json["count"], 0,
    "search by expiry: none expires within a minute")
is_(s.get("/api/v1/certificates?status=lost").status, 400,
    "status=lost: 400")
is_(s.get("/api/v1/certificates?limit=0").status, 400, "limit=0: 400")
is_(s.get("/api/v1/certificates?limit=5000").status, 400,
    "limit over the maximum: 400")
r = s.get("/api/v1/certificates/" + serial.lower())
ok(r.status == 200 and r.json["details"]["subject"].startswith("CN=c1"),
   "get certificate with details (lower-case serial in the path)", r)
is_(s.get("/api/v1/certificates/XYZ").status, 404, "non-hex serial: 404")
is_(s.get("/api/v1/certificates/ABCDEF").status, 404, "unknown serial: 404")
r = s.get("/api/v1/certificates/%s/download?format=pem" % serial)
ok(r.status == 200 and "BEGIN CERTIFICATE" in r.body, "download PEM")
r = s.post("/api/v1/certificates/%s/revoke" % serial, {"reason": "lost"})
is_((r.status, err_field(r)), (400, "reason"), "revoke reason lost: 400")
r = s.post("/api/v1/certificates/%s/revoke" % serial, {"reason": 1})
is_((r.status, err_field(r)), (400, "reason"), "revoke reason 1: 400")
r = s.post("/api/v1/certificates/%s/revoke" % serial,
           {"reason": "keyCompromise"})
is_((r.status, r.json.get("status"), r.json.get("revoke_reason")),
    (200, "revoked", "keyCompromise"), "revoke")
is_(s.post("/api/v1/certificates/%s/revoke" % serial,
           {"reason": "keyCompromise"}).status, 409, "revoke again: 409")
is_(s.get("/api/v1/certificates?status=revoked").json["count"], 1,
    "search revoked")
is_(s.post("/api/v1/certificates/ABCDEF/revoke", {}).status, 404,
    "revoke unknown serial: 404")

# Manual approval: scepclient gets PENDING and polls; we approve one
# request and reject another meanwhile.
manual = s.post("/api/v1/endpoints", {
    "name": "Manual", "uri_ext": "manual", "type": "device",
    "legacy": True, "manual_approval": True}).json
ch = s.post("/api/v1/endpoints/%d/accounts" % manual["id"],
            {"name": "m"}).json["challenge"]
for cn in ("p1", "p2"):
    rc, out, d = scepclient(manual["url"], ch, cn, wait=4)
r = s.get("/api/v1/requests")
is_((r.status, r.json["count"]), (200, 2), "two pending requests")
reqs = sorted(r.json["items"], key=lambda x: x["id"])
ok(all(x["status"] == "pending" and "CN=p" in x.get("subject", "")
       for x in reqs), "pending requests show their subject", reqs)
is_(s.get("/api/v1/requests?status=issued").status, 400,
    "requests?status=issued: 400")
is_(s.get("/api/v1/requests/%d" % reqs[0]["id"]).json["transid"],
    reqs[0]["transid"], "get request")
r = s.post("/api/v1/requests/%d/approve" % reqs[0]["id"], {"x": 1})
is_(r.status, 400, "approve takes no members")
r = s.post("/api/v1/requests/%d/approve" % reqs[0]["id"])
ok(r.status == 200 and r.json.get("status") == "issued" and
   len(r.json.get("serial", "")) > 8, "approve: issued with a serial", r)
is_(s.post("/api/v1/requests/%d/approve" % reqs[0]["id"]).status, 409,
    "approve again: 409")
r = s.post("/api/v1/requests/%d/reject" % reqs[1]["id"], {"reason": 5})
is_((r.status, err_field(r)), (400, "reason"), "reject reason not text")
r = s.post("/api/v1/requests/%d/reject" % reqs[1]["id"],
           {"reason": "unknown device"})
is_((r.status, r.json.get("status")), (200, "rejected"), "reject")
is_(s.post("/api/v1/requests/%d/reject" % reqs[1]["id"], {}).status, 409,
    "reject again: 409")
is_(s.post("/api/v1/requests/999999/approve").status, 404,
    "approve missing request: 404")
is_(s.get("/api/v1/requests").json["count"], 0, "nothing pending now")

# ---- endpoint delete stops enrollment at once --------------------------

is_(s.request("GET", "/scep/manual?operation=GetCACaps").status, 200,
    "the manual endpoint serves SCEP")
is_(s.delete("/api/v1/endpoints/%d" % manual["id"]).status, 204,
    "delete endpoint")
is_(s.request("GET", "/scep/manual?operation=GetCACaps").status, 404,
    "a deleted endpoint's URL answers 404 at once")
is_(s.get("/api/v1/endpoints/%d" % manual["id"]).json["deleted_at"] > 0,
    True, "a deleted endpoint is still readable, marked deleted")
ok(manual["id"] not in [e["id"] for e in
                        s.get("/api/v1/endpoints").json["items"]],
   "not in the live list")
ok(manual["id"] in [e["id"] for e in
                    s.get("/api/v1/endpoints?deleted=true").json["items"]],
   "in the deleted list")
is_(s.patch("/api/v1/endpoints/%d" % manual["id"], {"name": "x"}).status,
    404, "a deleted endpoint cannot be edited")
is_(s.delete("/api/v1/endpoints/%d" % manual["id"]).status, 404,
    "delete it again: 404")
is_(s.get("/api/v1/certificates?endpoint_id=%d" % manual["id"]).json["count"],
    1, "its certificates stay")
r = s.get("/api/v1/endpoints/%d/audit" % manual["id"])
ok(r.status == 200 and r.json["count"] >= 3 and
   all(e["endpoint_id"] == manual["id"] for e in r.json["items"]),
   "its audit trail stays (Enrollment Endpoint Audit view)")
r = s.post("/api/v1/endpoints", {"name": "again", "uri_ext": "manual",
                                 "type": "device"})
is_(r.status, 201, "a deleted endpoint's uri_ext can be reused")

# ---- audit ------------------------------------------------------------

r = s.get("/api/v1/audit?limit=1000")
ok(r.status == 200 and r.json["count"] > 20, "audit list")
acts = set(e["action"] for e in r.json["items"])
for a in ("organization.create", "department.update", "admin.create",
          "token.revoke", "endpoint.update", "endpoint.delete",
          "account.create", "account.otc.create", "ra.rollover.switch",
          "certificate.revoke", "request.approve", "request.reject"):
    ok(a in acts, "audited: " + a)
blob = r.body
ok(acct["challenge"] not in blob and otc["challenge"] not in blob and
   rao["password"] not in blob and T not in blob,
   "no challenge, password or token in the audit trail")
upd = [e for e in r.json["items"] if e["action"] == "organization.update"][0]
is_((upd["details"]["before"], upd["details"]["after"]),
    ({"name": "Org B"}, {"name": "Org B2"}),
    "before/after of a change, only what changed")
ok(upd["client_addr"] == "127.0.0.1" and upd["actor"] == "admin",
   "audit records actor and client address")
r = s.get("/api/v1/audit?action=endpoint.")
ok(r.json["count"] > 0 and all(e["action"].startswith("endpoint.")
                               for e in r.json["items"]),
   "filter by action prefix")
r = s.get("/api/v1/audit?actor=admin&result=SUCCESS&kind=admin&limit=2")
ok(r.json["count"] == 2 and isinstance(r.json["next"], int),
   "filters and paging cursor")
r2 = s.get("/api/v1/audit?actor=admin&result=SUCCESS&kind=admin&limit=2"
           "&after=%d" % r.json["next"])
ok(r2.json["items"][0]["id"] > r.json["items"][-1]["id"], "next page")
now = int(time.time())
is_(s.get("/api/v1/audit?since=%d" % (now + 3600)).json["count"], 0,
    "time range: nothing in the future")
is_(s.get("/api/v1/audit?format=xml").status, 400, "format=xml: 400")
is_(s.get("/api/v1/audit?limit=20000").status, 400, "limit too big: 400")
r = s.get("/api/v1/audit?format=csv&limit=10000")
ok(r.status == 200 and r.header("content-type").startswith("text/csv") and
   r.body.startswith("id,time,kind,actor,action,") and
   "attachment" in (r.header("content-disposition") or ""),
   "CSV download")
r = s.get("/api/v1/audit?download=true")
ok("audit.json" in (r.header("content-disposition") or ""),
   "JSON download")
r = s.post("/api/v1/audit/verify")
is_((r.status, r.json.get("ok")), (200, True), "audit verify: ok")
is_(s.post("/api/v1/audit/verify", {"deep": True}).status, 400,
    "verify takes no members")

# ---- console sessions ---------------------------------------------------

r = s.request("POST", "/api/v1/login", body={"name": "admin"})
is_((r.status, err_field(r)), (400, "password"), "login without password")
r = s.request("POST", "/api/v1/login",
              body={"name": "admin", "password": "wrong password!"})
is_(r.status, 401, "login with a wrong password: 401")
r = s.request("POST", "/api/v1/login",
              body={"name": "nobody", "password": "wrong password!"})
is_(r.status, 401, "login with an unknown name: the same 401")
r = s.request("POST", "/api/v1/login",
              body={"name": "admin", "password": s.password})
is_(r.status, 200, "login")
cookie = r.header("set-cookie")
csrf = r.json.get("csrf_token", "")
ok("HttpOnly" in cookie and "SameSite=Strict" in cookie and
   "Path=/" in cookie, "session cookie is HttpOnly, SameSite=Strict",
   cookie)
ok("Secure" not in cookie, "no Secure flag on plain loopback HTTP")
sid = cookie.split(";")[0]
ok(len(csrf) >= 43, "a CSRF token comes with the session")
is_(s.request("GET", "/api/v1/me", headers={"Cookie": sid}).json["auth"],
    "session", "GET with the session cookie")
r = s.request("POST", "/api/v1/organizations", body={"name": "via cookie"},
              headers={"Cookie": sid})
is_(r.status, 403, "mutation with the cookie but no CSRF token: 403")
r = s.request("POST", "/api/v1/organizations", body={"name": "via cookie"},
              headers={"Cookie": sid, "X-CSRF-Token": "x" * 43})
is_(r.status, 403, "mutation with a wrong CSRF token: 403")
r = s.request("POST", "/api/v1/organizations", body={"name": "via cookie"},
              headers={"Cookie": sid, "X-CSRF-Token": csrf})
is_(r.status, 201, "mutation with the CSRF token: 201")
is_(s.request("POST", "/api/v1/logout", body={},
              headers={"Cookie": sid, "X-CSRF-Token": csrf}).status, 204,
    "logout")
is_(s.request("GET", "/api/v1/me", headers={"Cookie": sid}).status, 401,
    "the session is gone after logout")
is_(s.request("GET", "/api/v1/me",
              headers={"Cookie": "scepd_session=forged"}).status, 401,
    "a forged session cookie: 401")
# Logins at once: argon2id is capped to a few at a time; the others are
# told to retry (429), never failed or crashed.
import threading  # noqa: E402
answers = []


def one_login():
    answers.append(s.request("POST", "/api/v1/login",
                             body={"name": "admin",
                                   "password": s.password}).status)


th = [threading.Thread(target=one_login) for _ in range(8)]
for t in th:
    t.start()
for t in th:
    t.join()
ok(all(a in (200, 429) for a in answers) and 200 in answers,
   "8 logins at once: each 200 or 429 (%s)" % sorted(answers), answers)
# Throttling: five failures lock the name and the address for a while.
for i in range(5):
    s.request("POST", "/api/v1/login",
              body={"name": "rao-a", "password": "guess number %d" % i})
r = s.request("POST", "/api/v1/login",
              body={"name": "rao-a", "password": rao["password"]})
is_(r.status, 429, "after 5 failures even the right password is refused")
ok((r.header("retry-after") or "").isdigit(), "429 carries Retry-After")
is_(s.get("/api/v1/me").status, 200, "tokens are not throttled")

sys.exit(done())
