#!/usr/bin/env python3
"""test_authz.py -- the authorization matrix of issue 3: MRAO, RAO of
organization A, DRAO of a department of A, and RAO of organization B
(plus an RAO of A limited to client certificates), against every route
and every object, over real HTTP.  Outside its scope an object does not
exist (404) and no list or search leaks it.  TAP output."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apilib import Scepd, ok, is_, done  # noqa: E402

s = Scepd()
M = s.token


def must(r, what, status=(200, 201)):
    if r.status not in (status if isinstance(status, tuple) else (status,)):
        ok(False, "setup: " + what, r)
        sys.exit(done())
    return r.json


# ---- the world ----------------------------------------------------------

org_a = must(s.post("/api/v1/organizations", {"name": "A"}), "org A")["id"]
org_b = must(s.post("/api/v1/organizations", {"name": "B"}), "org B")["id"]
d_a1 = must(s.post("/api/v1/departments", {"org_id": org_a, "name": "A1"}),
            "dept A1")["id"]
d_a2 = must(s.post("/api/v1/departments", {"org_id": org_a, "name": "A2"}),
            "dept A2")["id"]
d_b1 = must(s.post("/api/v1/departments", {"org_id": org_b, "name": "B1"}),
            "dept B1")["id"]


def admin(name, role, scopes, types=("client", "device")):
    a = must(s.post("/api/v1/admins", {"name": name, "role": role,
                                       "cert_types": list(types),
                                       "scopes": scopes}), "admin " + name)
    t = must(s.post("/api/v1/admins/%d/tokens" % a["id"], {"name": "t"}),
             "token " + name)
    return a["id"], t["token"]


ID_RA, RA = admin("rao-a", "RAO", [{"org_id": org_a}])
ID_DA, DA = admin("drao-a1", "DRAO", [{"dept_id": d_a1}])
ID_RB, RB = admin("rao-b", "RAO", [{"org_id": org_b}])
ID_RC, RC = admin("rao-a-client", "RAO", [{"org_id": org_a}], ("client",))
ID_M = s.get("/api/v1/me").json["id"]


def endpoint(ext, typ, targets=None, manual=False):
    body = {"name": ext, "uri_ext": ext, "type": typ, "legacy": True,
            "manual_approval": manual}
    if targets is None:
        body["delegation"] = "general"
    else:
        body["delegation"] = "customized"
        body["targets"] = targets
    return must(s.post("/api/v1/endpoints", body), "endpoint " + ext)["id"]


EP_A = endpoint("ep-a", "device", [{"org_id": org_a}])
EP_A1 = endpoint("ep-a1", "client", [{"org_id": org_a, "dept_id": d_a1}])
EP_B = endpoint("ep-b", "device", [{"org_id": org_b}])
EP_G = endpoint("ep-g", "device")
EP_M = endpoint("ep-m", "device", [])
EP_PA = endpoint("ep-pa", "device", [{"org_id": org_a}], manual=True)
EP_PB = endpoint("ep-pb", "device", [{"org_id": org_b}], manual=True)
EP_DEF = 1        # the default endpoint of scepd init (General, device)


def account(ep, name, org=0, dept=0):
    body = {"name": name}
    if org:
        body["org_id"] = org
    if dept:
        body["dept_id"] = dept
    a = must(s.post("/api/v1/endpoints/%d/accounts" % ep, body),
             "account " + name)
    return a["id"], a["challenge"]


AC_A1, CH_A1 = account(EP_A, "a1", org_a, d_a1)
AC_A2, CH_A2 = account(EP_A, "a2", org_a, d_a2)
AC_B, CH_B = account(EP_B, "b", org_b, d_b1)
AC_GA, CH_GA = account(EP_G, "ga", org_a, d_a1)
AC_GB, CH_GB = account(EP_G, "gb", org_b, d_b1)
AC_GN, CH_GN = account(EP_G, "gn")
AC_CL, CH_CL = account(EP_A1, "client-a1", org_a, d_a1)
AC_PA, CH_PA = account(EP_PA, "pa", org_a, d_a1)
AC_PB, CH_PB = account(EP_PB, "pb", org_b)
AC_DEF = 1        # the default account of scepd init (no organization)


def enroll(ext, challenge, cn, wait=60):
    d = tempfile.mkdtemp(prefix="az-", dir=s.work)
    try:
        p = subprocess.run(["scepclient", "-server-url",
                            s.url + "/scep/" + ext, "-private-key", "k.pem",
                            "-certificate", "c.pem", "-challenge", challenge,
                            "-cn", cn], cwd=d, capture_output=True,
                           text=True, timeout=wait)
        return p.returncode
    except subprocess.TimeoutExpired:
        return -1


for ext, ch, cn in (("ep-a", CH_A1, "cert-a1"), ("ep-a", CH_A2, "cert-a2"),
                    ("ep-b", CH_B, "cert-b"), ("ep-g", CH_GA, "cert-ga"),
                    ("ep-g", CH_GB, "cert-gb"), ("ep-g", CH_GN, "cert-gn")):
    ok(enroll(ext, ch, cn) == 0, "setup: enroll %s" % cn)
enroll("ep-pa", CH_PA, "pend-a", wait=4)
enroll("ep-pb", CH_PB, "pend-b", wait=4)

certs = {}
for c in s.get("/api/v1/certificates?limit=1000").json["items"]:
    certs[c["subject"].split(",")[0][3:]] = c["serial"]
ok(all(k in certs for k in ("cert-a1", "cert-a2", "cert-b", "cert-ga",
                            "cert-gb", "cert-gn")),
   "setup: six certificates", certs)
# Every pending request, by id, with its account.
reqs = {}
for rq in s.get("/api/v1/requests").json["items"]:
    reqs[rq["id"]] = rq["account_id"]
REQ_A = [i for i, a in reqs.items() if a == AC_PA]
REQ_B = [i for i, a in reqs.items() if a == AC_PB]
ok(len(REQ_A) == 1 and len(REQ_B) == 1, "setup: two pending requests", reqs)
REQ_A = REQ_A[0] if REQ_A else 0
REQ_B = REQ_B[0] if REQ_B else 0

ALL_EPS = {EP_DEF, EP_A, EP_A1, EP_B, EP_G, EP_M, EP_PA, EP_PB}
ALL_ACCTS = {AC_DEF, AC_A1, AC_A2, AC_B, AC_GA, AC_GB, AC_GN, AC_CL, AC_PA,
             AC_PB}
ALL_CERTS = set(certs)

# What each administrator may see.
SEE = {
    "MRAO": dict(
        token=M, eps=ALL_EPS, accts=ALL_ACCTS, certs=ALL_CERTS,
        reqs=set(reqs), orgs={org_a, org_b}, depts={d_a1, d_a2, d_b1},
        admins={ID_M, ID_RA, ID_DA, ID_RB, ID_RC}),
    "RAO-A": dict(
        token=RA, eps={EP_DEF, EP_A, EP_A1, EP_G, EP_PA},
        accts={AC_A1, AC_A2, AC_GA, AC_CL, AC_PA},
        certs={"cert-a1", "cert-a2", "cert-ga"}, orgs={org_a},
        depts={d_a1, d_a2}, admins={ID_RA, ID_DA}),
    "DRAO-A1": dict(
        token=DA, eps={EP_DEF, EP_A, EP_A1, EP_G, EP_PA},
        accts={AC_A1, AC_GA, AC_CL, AC_PA}, certs={"cert-a1", "cert-ga"},
        orgs={org_a}, depts={d_a1}, admins={ID_DA}),
    "RAO-B": dict(
        token=RB, eps={EP_DEF, EP_B, EP_G, EP_PB}, accts={AC_B, AC_GB, AC_PB},
        certs={"cert-b", "cert-gb"}, orgs={org_b}, depts={d_b1},
        admins={ID_RB}),
    "RAO-A-client": dict(
        token=RC, eps={EP_A1}, accts={AC_CL}, certs=set(),
        orgs={org_a}, depts={d_a1, d_a2}, admins={ID_RC}),
}
# Pending requests follow their accounts.
for v in SEE.values():
    v.setdefault("reqs", set(i for i, a in reqs.items() if a in v["accts"]))


def ids(r, key="id"):
    return set(x[key] for x in (r.json or {}).get("items", []))


def cn_set(r):
    return set(c["subject"].split(",")[0][3:] for c in
               (r.json or {}).get("items", []))


# ---- lists: exactly the scope, nothing more -----------------------------

for who, v in SEE.items():
    t = v["token"]
    is_(ids(s.get("/api/v1/endpoints", token=t)), v["eps"],
        "%s: endpoint list" % who)
    is_(ids(s.get("/api/v1/accounts", token=t)), v["accts"],
        "%s: account list" % who)
    is_(cn_set(s.get("/api/v1/certificates?limit=1000", token=t)),
        v["certs"], "%s: certificate list" % who)
    is_(ids(s.get("/api/v1/requests", token=t)), v["reqs"],
        "%s: pending request list" % who)
    is_(ids(s.get("/api/v1/organizations", token=t)), v["orgs"],
        "%s: organization list" % who)
    is_(ids(s.get("/api/v1/departments", token=t)), v["depts"],
        "%s: department list" % who)
    is_(ids(s.get("/api/v1/admins", token=t)), v["admins"],
        "%s: administrator list" % who)
    # Searches that name something outside the scope find nothing.
    if who != "MRAO":
        for q in ("org_id=%d" % (org_b if "B" not in who else org_a),
                  "endpoint_id=%d" % (EP_B if "B" not in who else EP_A)):
            is_(cn_set(s.get("/api/v1/certificates?" + q, token=t)), set(),
                "%s: certificate search by %s finds nothing" % (who, q))

# ---- the audit trail follows the same scope ------------------------------

for who, v in SEE.items():
    r = s.get("/api/v1/audit?limit=10000", token=v["token"])
    ok(r.status == 200, "%s: audit list" % who)
    items = (r.json or {}).get("items", [])
    bad = [e for e in items if
           (e["account_id"] and e["account_id"] not in v["accts"]) or
           (e["endpoint_id"] and e["endpoint_id"] not in v["eps"])]
    is_(bad, [], "%s: no audit record of another scope" % who)
    if who != "MRAO":
        other = [e for e in items if not e["endpoint_id"] and
                 not e["account_id"] and e["actor"] != who.lower()]
        is_(other, [], "%s: of the records tied to no endpoint, only its "
            "own actions" % who)
        leaked = [e for e in items if e["serial"] and e["serial"] in
                  [certs[c] for c in ALL_CERTS - v["certs"]]]
        is_(leaked, [], "%s: no record names a serial of another scope"
            % who)
    mine = [e for e in items if e["kind"] == "enroll" and
            e["account_id"] in v["accts"]]
    if v["certs"]:
        ok(len(mine) > 0, "%s: sees the enrollments of its accounts" % who)
    r = s.get("/api/v1/audit?format=csv&limit=10000", token=v["token"])
    lines = r.body.strip().split("\n")[1:]
    is_(len(lines), len(items), "%s: CSV export has the same rows" % who)

# ---- every route against objects outside the scope: 404 -----------------

ROUTES_EP = [("GET", "/api/v1/endpoints/%d", None),
             ("PATCH", "/api/v1/endpoints/%d", {"name": "x"}),
             ("DELETE", "/api/v1/endpoints/%d", None),
             ("GET", "/api/v1/endpoints/%d/delegation", None),
             ("PUT", "/api/v1/endpoints/%d/delegation",
              {"delegation": "general"}),
             ("GET", "/api/v1/endpoints/%d/accounts", None),
             ("POST", "/api/v1/endpoints/%d/accounts", {"name": "x"}),
             ("GET", "/api/v1/endpoints/%d/audit", None)]
ROUTES_ACCT = [("GET", "/api/v1/accounts/%d", None),
               ("PATCH", "/api/v1/accounts/%d", {"enabled": False}),
               ("POST", "/api/v1/accounts/%d/challenge", {}),
               ("GET", "/api/v1/accounts/%d/challenges", None),
               ("POST", "/api/v1/accounts/%d/challenges", {"ttl": 60})]
ROUTES_CERT = [("GET", "/api/v1/certificates/%s", None),
               ("GET", "/api/v1/certificates/%s/download", None),
               ("POST", "/api/v1/certificates/%s/revoke",
                {"reason": "superseded"})]
ROUTES_REQ = [("GET", "/api/v1/requests/%d", None),
              ("POST", "/api/v1/requests/%d/approve", {}),
              ("POST", "/api/v1/requests/%d/reject", {"reason": "x"})]
ROUTES_ORG = [("GET", "/api/v1/organizations/%d", None),
              ("PATCH", "/api/v1/organizations/%d", {"name": "x"}),
              ("DELETE", "/api/v1/organizations/%d", None)]
ROUTES_DEPT = [("GET", "/api/v1/departments/%d", None),
               ("PATCH", "/api/v1/departments/%d", {"name": "x"}),
               ("DELETE", "/api/v1/departments/%d", None)]
ROUTES_ADM = [("GET", "/api/v1/admins/%d", None),
              ("PATCH", "/api/v1/admins/%d", {"disabled": True}),
              ("DELETE", "/api/v1/admins/%d", None),
              ("POST", "/api/v1/admins/%d/password",
               {"password": "a long new password"}),
              ("GET", "/api/v1/admins/%d/tokens", None),
              ("POST", "/api/v1/admins/%d/tokens", {"name": "x"}),
              ("DELETE", "/api/v1/admins/%d/tokens/1", None)]


def call(method, path, body, token):
    return s.request(method, path, token=token,
                     body=body if body is not None else
                     ({} if method in ("POST", "PUT", "PATCH") else None))


for who, v in SEE.items():
    if who == "MRAO":
        continue
    t = v["token"]
    n404 = 0
    total = 0
    fails = []
    groups = [(ROUTES_EP, ALL_EPS - v["eps"]),
              (ROUTES_ACCT, ALL_ACCTS - v["accts"]),
              (ROUTES_CERT, [certs[c] for c in ALL_CERTS - v["certs"]]),
              (ROUTES_REQ, set(reqs) - v["reqs"]),
              (ROUTES_ORG, {org_a, org_b} - v["orgs"]),
              (ROUTES_DEPT, {d_a1, d_a2, d_b1} - v["depts"]),
              (ROUTES_ADM, SEE["MRAO"]["admins"] - v["admins"])]
    for routes, objs in groups:
        for obj in sorted(objs, key=str):
            for method, pat, body in routes:
                r = call(method, pat % obj, body, t)
                total += 1
                if r.status == 404:
                    n404 += 1
                else:
                    fails.append("%s %s -> %d" % (method, pat % obj,
                                                  r.status))
    ok(total > 40 and n404 == total,
       "%s: %d requests on %d routes against objects outside the scope "
       "all answer 404" % (who, total, sum(len(g[0]) for g in groups)),
       *fails[:20])

# Unchanged by all that: the objects are still there for the MRAO.
is_(ids(s.get("/api/v1/endpoints")), ALL_EPS,
    "nothing outside a scope was changed or deleted")
is_(len(s.get("/api/v1/requests").json["items"]), len(reqs),
    "every request is still pending")

# ---- inside the scope: what each role may and may not do ----------------

# Infrastructure is for the MRAO.
for who in ("RAO-A", "DRAO-A1", "RAO-B"):
    t = SEE[who]["token"]
    for method, path, body in (("GET", "/api/v1/cas", None),
                               ("GET", "/api/v1/ras", None),
                               ("GET", "/api/v1/ras/1", None),
                               ("GET", "/api/v1/ras/1/download", None),
                               ("POST", "/api/v1/ras",
                                {"ca_id": 1, "subject": "CN=x"}),
                               ("POST", "/api/v1/ras/1/rollover",
                                {"action": "stage"}),
                               ("POST", "/api/v1/audit/verify", {}),
                               ("POST", "/api/v1/organizations",
                                {"name": "mine"})):
        is_(call(method, path, body, t).status, 403,
            "%s: %s %s: 403" % (who, method, path))

# RAO of A.
is_(s.patch("/api/v1/organizations/%d" % org_a, {"name": "A!"},
            token=RA).status, 403, "RAO-A cannot rename its organization")
r = s.post("/api/v1/departments", {"org_id": org_a, "name": "A3"}, token=RA)
is_(r.status, 201, "RAO-A creates a department in A")
d_a3 = (r.json or {}).get("id")
r = s.post("/api/v1/departments", {"org_id": org_b, "name": "B9"}, token=RA)
is_((r.status, (r.json or {}).get("field")), (400, "org_id"),
    "RAO-A cannot create a department in B (B looks missing)")
is_(s.patch("/api/v1/endpoints/%d" % EP_G, {"name": "mine"},
            token=RA).status, 403, "RAO-A cannot edit a General endpoint")
is_(s.delete("/api/v1/endpoints/%d" % EP_G, token=RA).status, 403,
    "RAO-A cannot delete a General endpoint")
r = s.patch("/api/v1/endpoints/%d" % EP_A, {"term_days": 90}, token=RA)
is_((r.status, (r.json or {}).get("term_days")), (200, 90),
    "RAO-A edits an endpoint delegated to A only")
r = s.put("/api/v1/endpoints/%d/delegation" % EP_A,
          {"delegation": "customized",
           "targets": [{"org_id": org_a}, {"org_id": org_b}]}, token=RA)
is_((r.status, (r.json or {}).get("field")), (400, "targets"),
    "RAO-A cannot delegate to B (B looks missing)")
r = s.put("/api/v1/endpoints/%d/delegation" % EP_A,
          {"delegation": "general"}, token=RA)
is_(r.status, 403, "RAO-A cannot make its endpoint General")
r = s.post("/api/v1/endpoints", {"name": "g", "uri_ext": "rao-g",
                                 "type": "device"}, token=RA)
is_(r.status, 403, "RAO-A cannot create a General endpoint")
r = s.post("/api/v1/endpoints", {"name": "a", "uri_ext": "rao-a-ep",
                                 "type": "device", "delegation": "customized",
                                 "targets": [{"org_id": org_a}]}, token=RA)
is_(r.status, 201, "RAO-A creates an endpoint delegated to A")
r = s.post("/api/v1/endpoints/%d/accounts" % EP_A, {"name": "x"}, token=RA)
is_((r.status, (r.json or {}).get("org_id")), (201, org_a),
    "RAO-A's accounts default to its one organization")
rc, out, err = s.scepctl("account", "create", "--endpoint", "ep-a",
                         "--name", "y", "--org", "0", token=RA)
is_(rc, 4, "RAO-A cannot make an account without an organization (exit 4)",
    err)
r = s.post("/api/v1/endpoints/%d/accounts" % EP_G,
           {"name": "x", "org_id": org_b}, token=RA)
is_((r.status, (r.json or {}).get("field")), (400, "org_id"),
    "RAO-A cannot create an account of B")
r = s.post("/api/v1/endpoints/%d/accounts" % EP_G,
           {"name": "ga2", "org_id": org_a, "dept_id": d_a2}, token=RA)
is_(r.status, 201, "RAO-A creates an account of A on a General endpoint")
r = s.patch("/api/v1/accounts/%d" % AC_A2, {"org_id": org_b}, token=RA)
is_(r.status, 400, "RAO-A cannot move an account to B")
is_(s.patch("/api/v1/accounts/%d" % AC_A2, {"enabled": False},
            token=RA).status, 200, "RAO-A disables an account of A")
is_(s.post("/api/v1/certificates/%s/revoke" % certs["cert-a2"],
           {"reason": "superseded"}, token=RA).status, 200,
    "RAO-A revokes a certificate of A")
is_(s.post("/api/v1/requests/%d/approve" % REQ_A, {}, token=RA).status, 200,
    "RAO-A approves a request of A")
r = s.post("/api/v1/admins", {"name": "drao-a2", "role": "DRAO",
                              "cert_types": ["device"],
                              "scopes": [{"dept_id": d_a2}]}, token=RA)
is_(r.status, 201, "RAO-A creates a DRAO in its organization")
r = s.post("/api/v1/admins", {"name": "drao-b1", "role": "DRAO",
                              "cert_types": ["device"],
                              "scopes": [{"dept_id": d_b1}]}, token=RA)
is_((r.status, (r.json or {}).get("field")), (400, "scopes"),
    "RAO-A cannot create a DRAO of B (B1 looks missing)")
r = s.post("/api/v1/admins", {"name": "rao-x", "role": "RAO",
                              "scopes": [{"org_id": org_a}]}, token=RA)
is_(r.status, 403, "RAO-A cannot create an RAO")
r = s.patch("/api/v1/admins/%d" % ID_RA, {"scopes": [{"org_id": org_b}]},
            token=RA)
is_(r.status, 403, "RAO-A cannot widen its own scope")
is_(s.patch("/api/v1/admins/%d" % ID_DA, {"disabled": False},
            token=RA).status, 200, "RAO-A manages its DRAO")

# DRAO of A1.
is_(s.patch("/api/v1/endpoints/%d" % EP_A, {"term_days": 5},
            token=DA).status, 403,
    "DRAO-A1 cannot edit an endpoint delegated to all of A")
r = s.patch("/api/v1/endpoints/%d" % EP_A1, {"term_days": 5}, token=DA)
is_(r.status, 200, "DRAO-A1 edits an endpoint delegated to A1 only")
r = s.post("/api/v1/endpoints/%d/accounts" % EP_A,
           {"name": "x", "org_id": org_a, "dept_id": 0}, token=DA)
is_((r.status, (r.json or {}).get("field")), (400, "dept_id"),
    "DRAO-A1's accounts need its department")
r = s.post("/api/v1/endpoints/%d/accounts" % EP_A, {"name": "dflt"},
           token=DA)
is_((r.status, (r.json or {}).get("dept_id")), (201, d_a1),
    "DRAO-A1's accounts default to its one department")
r = s.post("/api/v1/endpoints/%d/accounts" % EP_A,
           {"name": "x", "org_id": org_a, "dept_id": d_a2}, token=DA)
is_((r.status, (r.json or {}).get("field")), (400, "dept_id"),
    "DRAO-A1 cannot create an account of A2 (A2 looks missing)")
r = s.post("/api/v1/endpoints/%d/accounts" % EP_A,
           {"name": "da1", "org_id": org_a, "dept_id": d_a1}, token=DA)
is_(r.status, 201, "DRAO-A1 creates an account of A1")
is_(s.post("/api/v1/departments", {"org_id": org_a, "name": "Z"},
           token=DA).status, 403, "DRAO-A1 cannot create departments")
is_(s.post("/api/v1/admins", {"name": "z", "role": "DRAO",
                              "scopes": [{"dept_id": d_a1}]},
           token=DA).status, 403, "DRAO-A1 cannot create administrators")
is_(s.post("/api/v1/admins/%d/password" % ID_DA,
           {"password": "my own new password"}, token=DA).status, 204,
    "DRAO-A1 changes its own password")
r = s.post("/api/v1/admins/%d/tokens" % ID_DA, {"name": "mine"}, token=DA)
is_(r.status, 201, "DRAO-A1 makes itself a token")

# RAO of B.
is_(s.post("/api/v1/requests/%d/reject" % REQ_B, {"reason": "no"},
           token=RB).status, 200, "RAO-B rejects a request of B")
is_(s.post("/api/v1/certificates/%s/revoke" % certs["cert-gb"],
           {"reason": "superseded"}, token=RB).status, 200,
    "RAO-B revokes a certificate of B issued on a General endpoint")

# Certificate types: an RAO without device rights sees no device endpoint.
is_(s.get("/api/v1/endpoints/%d" % EP_A, token=RC).status, 404,
    "RAO-A-client: device endpoint of A does not exist")
is_(s.get("/api/v1/endpoints/%d" % EP_A1, token=RC).status, 200,
    "RAO-A-client: client endpoint of A1 is visible")
r = s.post("/api/v1/endpoints", {"name": "d", "uri_ext": "rc-dev",
                                 "type": "device", "delegation": "customized",
                                 "targets": [{"org_id": org_a}]}, token=RC)
is_(r.status, 403, "RAO-A-client cannot create a device endpoint")

# The endpoint audit view follows the scope too.
r = s.get("/api/v1/endpoints/%d/audit" % EP_G, token=RB)
ok(r.status == 200 and all(e["account_id"] in (0, AC_GB)
                           for e in r.json["items"]),
   "RAO-B's view of the General endpoint's audit shows only B's records")

# scepctl reports "not found" with exit status 2 outside the scope.
rc, out, err = s.scepctl("account", "show", str(AC_A1), token=RB)
is_(rc, 2, "scepctl as RAO-B: account of A: exit 2", err)
rc, out, err = s.scepctl("ra", "list", token=RB)
is_(rc, 3, "scepctl as RAO-B: ra list: exit 3 (forbidden)", err)

sys.exit(done())
