#!/usr/bin/env python3
"""standin.py -- a local stand-in for Entra ID, Microsoft Graph and the Intune
validation service (spec intune-scep.md section 10.1), for tests.

Python 3 standard library only (http.server + ssl); the test CA and server
certificate are made with the openssl command-line tool.

    standin.py --dir DIR [--tenant T] [--client-id ID] [--client-secret S]
               [--expires-in N] [--verbose] [--exit-with-parent]

Creates in DIR: ca.pem (the test CA to trust), server.pem, server.key, and,
once every listener is up, standin.json:

    {"port": P, "alt_port": A, "proxy_port": X, "dead_port": D, "pid": N,
     "base": "https://127.0.0.1:P/", "ca": "DIR/ca.pem"}

Listeners (all on 127.0.0.1):
  port        TLS: token endpoint, Graph, validation service, control API
  alt_port    TLS: a second validation service (to test rediscovery: it can
              be shut down, so its URL fails at connection level)
  proxy_port  plain HTTP CONNECT proxy (optional Basic auth), records CONNECTs
  dead_port   nothing listens (connection refused)

Endpoints (spec 10.1):
  POST /{tenant}/oauth2/v2.0/token
  GET  /v1.0/servicePrincipals/appId={intune app}/endpoints
  POST {prefix}/ScepActions/{validateRequest|successNotification|
                             failureNotification}

Control API (not recorded):
  GET  /_standin/info            ports, configuration
  GET  /_standin/calls           every recorded call, in order
  POST /_standin/config          merge a JSON object into the configuration
  POST /_standin/reset           forget calls and scripts; defaults back
                                 (issued tokens stay valid)
  POST /_standin/expire_tokens   every token issued so far answers 401
  POST /_standin/alt_down        close alt_port and its connections
  POST /_standin/shutdown        exit

Behaviours.  One vocabulary everywhere:
  OK               success
  ERR-<Code>       HTTP 200 {"code": "<Code>", ...}  ("ERR-" -> empty code)
  LOWER            HTTP 200 {"code": "success"}
  NOCODE           HTTP 200 {"errorDescription": "..."} (no code)
  HTTP-<status>    that status, JSON body
  HTML-<status>    that status, HTML body
  SLOW-<ms>        wait, then OK
  DROP             close the connection without answering
  GARBAGE          HTTP 200, body not JSON
  401              HTTP 401 (as for an expired token)
For the token endpoint also: BADSECRET (400 invalid_client AADSTS7000215),
NOAPP (400 AADSTS700016), NORESOURCE (400 AADSTS500011).

Where a behaviour comes from, first match wins:
  1. configuration "tx": {transactionId: {action: behaviour}}
  2. configuration "script": {action: [behaviour, ...]} (consumed in order;
     actions: token, discovery, validateRequest, successNotification,
     failureNotification)
  3. the CSR's challengePassword, for the three ScepActions:
       STANDIN-<validate>[/SN:<success>][/FN:<failure>][/<nonce>]
     e.g. "STANDIN-OK/n1", "STANDIN-ERR-ChallengeExpired",
          "STANDIN-OK/SN:HTTP-500/n2", "STANDIN-SLOW-500/n3"
  4. OK

Discovery variants ("discovery" in the configuration): normal, missing,
duplicate, mixedcase, slash, servicename, paged, weird (broken entries
before the real one), 403, garbage.  The URI it
lists: "service": "main" | "alt" | "dead" | an explicit URL, plus
"service_prefix" (default "/intune/svc1"); only prefixes in "live_prefixes"
answer (others 404).

Every ScepActions request is checked against spec 6 (headers, body shape,
field formats, CSR signature); violations are recorded in the call's
"violations" list and answered with HTTP 400 code "StandinCheckFailed".
"""

import argparse
import base64
import copy
import hashlib
import json
import os
import re
import select
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INTUNE_APP = "0000000a-0000-0000-c000-000000000000"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
B64_RE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
CHALLENGE_OID = bytes.fromhex("2a864886f70d010907")  # 1.2.840.113549.1.9.7

ACTIONS = ("validateRequest", "successNotification", "failureNotification")
FIELDS = {
    "validateRequest": ("request", {
        "transactionId": str, "certificateRequest": str, "callerInfo": str}),
    "successNotification": ("notification", {
        "transactionId": str, "certificateRequest": str,
        "certificateThumbprint": str, "certificateSerialNumber": str,
        "certificateExpirationDateUtc": str,
        "issuingCertificateAuthority": str, "callerInfo": str,
        "caConfiguration": str, "certificateAuthority": str}),
    "failureNotification": ("notification", {
        "transactionId": str, "certificateRequest": str, "hResult": int,
        "errorDescription": str, "callerInfo": str}),
}


def default_config(args):
    return {
        "tenant": args.tenant,
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "graph_scope": "https://graph.microsoft.com/.default",
        "intune_scope": "https://api.manage.microsoft.com//.default",
        "intune_app_id": INTUNE_APP,
        "api_version": "2018-02-20",
        "pki_api_version": "5019-05-05",
        "revocations": [],           # queued requests (spec 9)
        "code_as_string": False,     # expect errorCode as "4004"
        "expires_in": args.expires_in,
        "expires_in_string": False,
        "discovery": "normal",
        "service": "main",
        "service_prefix": "/intune/svc1",
        "live_prefixes": ["/intune/svc1", "/intune/svc2"],
        "proxy_auth": None,          # "user:password" to require Basic auth
        "reject_replay": False,      # second validation of a challenge
        "tx": {},
        "script": {},
    }


class State:
    """Everything shared between handler threads, behind one lock."""

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.lock = threading.Lock()
        self.cfg = default_config(args)
        self.calls = []
        self.seq = 0
        self.tokens = {}             # token -> {"aud", "exp", "epoch"}
        self.token_epoch = 0         # tokens below this answer 401
        self.token_n = 0
        self.request_ids = set()
        self.challenges = set()
        self.csr_ok = {}             # sha256(csr) -> (verified, challenge)
        self.ports = {}
        self.alt_server = None
        self.alt_conns = set()

    def reset(self):
        with self.lock:
            # Tokens stay valid (POST /_standin/expire_tokens ends them).
            self.cfg = default_config(self.args)
            self.calls = []
            self.request_ids = set()
            self.challenges = set()

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            entry["ts"] = time.time()
            self.calls.append(entry)
            return entry

    def scripted(self, action, transid=None):
        """Behaviour from tx overrides or the script queue, else None."""
        with self.lock:
            if transid is not None:
                t = self.cfg["tx"].get(transid)
                if t and action in t:
                    return t[action]
            q = self.cfg["script"].get(action)
            if q:
                return q.pop(0)
        return None


STATE = None


# ---- DER, just enough to find the challengePassword of a PKCS#10 ----

def der_read(buf, pos):
    """(tag, content start, content end) of the TLV at pos."""
    if pos + 2 > len(buf):
        raise ValueError("truncated")
    tag = buf[pos]
    ln = buf[pos + 1]
    pos += 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4 or pos + n > len(buf):
            raise ValueError("bad length")
        ln = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + ln > len(buf):
        raise ValueError("truncated content")
    return tag, pos, pos + ln


def der_children(buf, start, end):
    out = []
    while start < end:
        tag, cs, ce = der_read(buf, start)
        out.append((tag, cs, ce))
        start = ce
    return out


def csr_challenge(der):
    """The challengePassword string of a DER PKCS#10, or None."""
    tag, cs, ce = der_read(der, 0)
    if tag != 0x30 or ce != len(der):
        raise ValueError("not a single SEQUENCE")
    kids = der_children(der, cs, ce)
    if len(kids) != 3:
        raise ValueError("CertificationRequest needs 3 elements")
    tag, cs, ce = kids[0]
    info = der_children(der, cs, ce)
    for tag, cs, ce in info[3:]:
        if tag != 0xA0:
            continue
        for atag, acs, ace in der_children(der, cs, ce):
            parts = der_children(der, acs, ace)
            if len(parts) != 2 or parts[0][0] != 0x06:
                continue
            if der[parts[0][1]:parts[0][2]] != CHALLENGE_OID:
                continue
            vals = der_children(der, parts[1][1], parts[1][2])
            if not vals:
                return None
            vtag, vcs, vce = vals[0]
            raw = der[vcs:vce]
            if vtag == 0x1E:
                return raw.decode("utf-16-be", "replace")
            return raw.decode("utf-8", "replace")
    return None


def csr_verify(der):
    """(signature verifies, challenge) for a DER PKCS#10; cached."""
    h = hashlib.sha256(der).hexdigest()
    with STATE.lock:
        if h in STATE.csr_ok:
            return STATE.csr_ok[h]
    try:
        challenge = csr_challenge(der)
    except ValueError:
        res = (False, None)
    else:
        p = subprocess.run(["openssl", "req", "-inform", "DER", "-noout",
                            "-verify"], input=der, capture_output=True,
                           check=False)
        res = (p.returncode == 0, challenge)
    with STATE.lock:
        STATE.csr_ok[h] = res
    return res


def challenge_behaviour(challenge, action):
    """Behaviour for action from STANDIN-<v>[/SN:<s>][/FN:<f>][/nonce]."""
    if not challenge or not challenge.startswith("STANDIN-"):
        return None
    parts = challenge[len("STANDIN-"):].split("/")
    if action == "validateRequest":
        return parts[0]
    key = "SN:" if action == "successNotification" else "FN:"
    for p in parts[1:]:
        if p.startswith(key):
            return p[len(key):]
    return None


# ---- tokens ----

def make_token(aud, scope):
    with STATE.lock:
        STATE.token_n += 1
        exp_in = int(STATE.cfg["expires_in"])
        payload = {"aud": aud, "scope": scope, "n": STATE.token_n,
                   "exp": time.time() + exp_in}
        tok = "standin." + base64.urlsafe_b64encode(
            json.dumps(payload, sort_keys=True).encode()).decode().rstrip("=")
        STATE.tokens[tok] = {"aud": aud, "exp": payload["exp"],
                             "epoch": STATE.token_epoch}
    return tok, exp_in


def check_token(header, aud):
    """None when the bearer token is valid for aud, else the reason."""
    if not header or not header.startswith("Bearer "):
        return "no bearer token"
    tok = header[len("Bearer "):]
    with STATE.lock:
        t = STATE.tokens.get(tok)
        epoch = STATE.token_epoch
    if t is None:
        return "unknown token"
    if t["aud"] != aud:
        return "token audience is %s, not %s" % (t["aud"], aud)
    if t["epoch"] < epoch:
        return "token expired (revoked by the test)"
    if time.time() >= t["exp"]:
        return "token expired"
    return None


# ---- HTTP ----

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin/1"
    timeout = 30

    def log_message(self, fmt, *args):
        if STATE.args.verbose:
            sys.stderr.write("standin: %s %s\n" % (self.server.name,
                                                   fmt % args))

    def setup(self):
        super().setup()
        if self.server.name == "alt":
            with STATE.lock:
                STATE.alt_conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with STATE.lock:
                STATE.alt_conns.discard(self.connection)

    # -- plumbing --

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 4 * 1024 * 1024:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def send(self, status, obj=None, raw=None, ctype="application/json",
             extra=None):
        data = raw if raw is not None else (
            json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def base_entry(self, kind, raw):
        entry = {"server": self.server.name, "kind": kind,
                 "method": self.command, "path": self.path,
                 "headers": [[k, v] for k, v in self.headers.items()],
                 "body": raw.decode("utf-8", "replace"),
                 "violations": []}
        try:
            entry["json"] = json.loads(raw) if raw else None
        except ValueError:
            entry["json"] = None
        return entry

    def hdr(self, name):
        return self.headers.get(name)

    # -- dispatch --

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        try:
            raw = self.body() if method == "POST" else b""
        except ValueError:
            self.send(413, {"error": "too large"})
            return
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_standin/") and self.server.name == "main":
            self.control(method, path, raw)
            return
        m = re.match(r"^/([^/]+)/oauth2/v2\.0/token$", path)
        if m and method == "POST" and self.server.name == "main":
            self.token(m.group(1), raw)
            return
        m = re.match(r"^/v1\.0/servicePrincipals/appId=([^/]+)/endpoints$",
                     path)
        if m and method == "GET" and self.server.name == "main":
            self.discovery(m.group(1))
            return
        m = re.match(r"^(/.*)/CertificateAuthorityRequests/"
                     r"(downloadRevocationRequests|uploadRevocationResults)$",
                     path)
        if m and method == "POST":
            self.revocation(m.group(1), m.group(2), raw)
            return
        m = re.match(r"^(/.*)/ScepActions/([A-Za-z]+)$", path)
        if m and method == "POST":
            self.service(m.group(1), m.group(2), raw)
            return
        entry = self.base_entry("unknown", raw)
        STATE.record(entry)
        self.send(404, {"error": {"code": "NotFound", "message": path}})

    # -- control API --

    def control(self, method, path, raw):
        if path == "/_standin/info":
            with STATE.lock:
                self.send(200, {"ports": STATE.ports, "config": STATE.cfg})
        elif path == "/_standin/calls":
            with STATE.lock:
                calls = copy.deepcopy(STATE.calls)
            self.send(200, {"calls": calls})
        elif path == "/_standin/config" and method == "POST":
            try:
                upd = json.loads(raw or b"{}")
                if not isinstance(upd, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                self.send(400, {"error": str(e)})
                return
            with STATE.lock:
                STATE.cfg.update(upd)
                cfg = copy.deepcopy(STATE.cfg)
            self.send(200, cfg)
        elif path == "/_standin/reset" and method == "POST":
            STATE.reset()
            self.send(200, {"ok": True})
        elif path == "/_standin/expire_tokens" and method == "POST":
            with STATE.lock:
                STATE.token_epoch += 1
            self.send(200, {"ok": True})
        elif path == "/_standin/alt_down" and method == "POST":
            alt_down()
            self.send(200, {"ok": True})
        elif path == "/_standin/shutdown" and method == "POST":
            self.send(200, {"ok": True})
            threading.Thread(target=lambda: os.kill(os.getpid(),
                                                    signal.SIGTERM)).start()
        else:
            self.send(404, {"error": "unknown control " + path})

    # -- Entra ID token endpoint (spec 4, 10.1.1) --

    def token(self, tenant, raw):
        entry = self.base_entry("token", raw)
        form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"),
                                     keep_blank_values=True)
        entry["form"] = {k: v[0] if len(v) == 1 else v
                         for k, v in form.items()}
        scope = entry["form"].get("scope")
        entry["scope"] = scope
        beh = STATE.scripted("token") or "OK"
        entry["behaviour"] = beh
        STATE.record(entry)
        with STATE.lock:
            cfg = copy.deepcopy(STATE.cfg)
        ctype = (self.hdr("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/x-www-form-urlencoded":
            entry["violations"].append("token content type " + ctype)
        for k, v in form.items():
            if len(v) != 1:
                entry["violations"].append("parameter %s repeated" % k)
        if self.generic(beh, token=True):
            return

        def aad_err(status, err, code, text):
            self.send(status, {
                "error": err,
                "error_description": "AADSTS%d: %s" % (code, text),
                "error_codes": [code], "timestamp": "2026-01-01 00:00:00Z",
                "trace_id": "00000000-0000-0000-0000-000000000000",
                "correlation_id": "00000000-0000-0000-0000-000000000000"})

        if beh == "BADSECRET" or \
                entry["form"].get("client_secret") != cfg["client_secret"]:
            aad_err(400, "invalid_client", 7000215,
                    "Invalid client secret provided.")
            return
        if beh == "NOAPP" or entry["form"].get("client_id") != cfg["client_id"]:
            aad_err(400, "unauthorized_client", 700016,
                    "Application was not found in the directory.")
            return
        if tenant != cfg["tenant"]:
            aad_err(400, "invalid_request", 90002, "Tenant not found.")
            return
        if entry["form"].get("grant_type") != "client_credentials":
            aad_err(400, "unsupported_grant_type", 70003,
                    "The app requested an unsupported grant type.")
            return
        if beh == "NORESOURCE" or scope not in (cfg["graph_scope"],
                                                cfg["intune_scope"]):
            aad_err(400, "invalid_resource", 500011,
                    "The resource principal was not found in the tenant.")
            return
        aud = "graph" if scope == cfg["graph_scope"] else "intune"
        tok, exp_in = make_token(aud, scope)
        self.send(200, {"token_type": "Bearer",
                        "expires_in": str(exp_in) if cfg["expires_in_string"]
                        else exp_in,
                        "ext_expires_in": exp_in, "access_token": tok})

    # -- behaviours shared by every endpoint --

    def generic(self, beh, token=False):
        """Apply a behaviour that is not a normal answer; True if sent."""
        m = re.match(r"^SLOW-(\d+)$", beh)
        if m:
            time.sleep(int(m.group(1)) / 1000.0)
            return False      # then the normal answer (callers: OK)
        if beh == "DROP":
            self.drop()
            return True
        if beh == "GARBAGE":
            self.send(200, raw=b"<html>this is not JSON", ctype="text/html")
            return True
        if beh == "401":
            self.send(401, {"error": {"code": "InvalidAuthenticationToken",
                                      "message": "scripted 401"}},
                      extra={"WWW-Authenticate": "Bearer"})
            return True
        m = re.match(r"^HTTP-(\d{3})$", beh)
        if m:
            st = int(m.group(1))
            if token:
                self.send(st, {"error": "temporarily_unavailable",
                               "error_description": "AADSTS90033: scripted"})
            else:
                self.send(st, {"code": "Unknown",
                               "errorDescription": "scripted HTTP %d" % st,
                               "error": {"code": "Scripted",
                                         "message": "scripted HTTP %d" % st}})
            return True
        m = re.match(r"^HTML-(\d{3})$", beh)
        if m:
            self.send(int(m.group(1)), raw=b"<html><body>Server Error"
                      b"</body></html>", ctype="text/html")
            return True
        return False

    # -- Graph discovery (spec 5, 10.1.2) --

    def discovery(self, app):
        entry = self.base_entry("discovery", b"")
        beh = STATE.scripted("discovery") or "OK"
        entry["behaviour"] = beh
        STATE.record(entry)
        with STATE.lock:
            cfg = copy.deepcopy(STATE.cfg)
            ports = dict(STATE.ports)
        why = check_token(self.hdr("Authorization"), "graph")
        rid = self.hdr("client-request-id")
        if not rid or not GUID_RE.match(rid):
            entry["violations"].append("client-request-id missing or not a "
                                       "GUID")
        if why:
            entry["violations"].append(why)
            self.send(401, {"error": {"code": "InvalidAuthenticationToken",
                                      "message": why}},
                      extra={"WWW-Authenticate": "Bearer"})
            return
        if self.generic(beh):
            return
        if app != cfg["intune_app_id"]:
            self.send(404, {"error": {"code": "Request_ResourceNotFound",
                                      "message": "no such service principal"}})
            return
        mode = cfg["discovery"]
        if mode == "403":
            self.send(403, {"error": {
                "code": "Authorization_RequestDenied",
                "message": "Insufficient privileges to complete the "
                           "operation."}})
            return
        if mode == "garbage":
            self.send(200, raw=b"not json at all", ctype="text/plain")
            return
        svc = cfg["service"]
        base = {"main": "https://127.0.0.1:%d" % ports["port"],
                "alt": "https://127.0.0.1:%d" % ports["alt_port"],
                "dead": "https://127.0.0.1:%d" % ports["dead_port"]}.get(svc)
        uri = (base + cfg["service_prefix"]) if base else svc
        pki = "https://127.0.0.1:%d/intune/pki" % ports["port"]

        def ep(name, u, field="providerName"):
            return {"id": "11111111-2222-3333-4444-555555555555",
                    "deletedDateTime": None, "capability": name,
                    "providerId": INTUNE_APP, field: name,
                    "providerResourceId": "66666666-7777-8888-9999-000000000000",
                    "uri": u}
        unrelated = [ep("DeviceManagementService",
                        "https://127.0.0.1:1/unrelated"),
                     ep("StatelessIWService", "https://127.0.0.1:1/other")]
        name = "ScepRequestValidationFEService"
        if mode == "missing":
            value = unrelated
        elif mode == "duplicate":
            value = unrelated + [ep(name, uri), ep(name, uri + "-second")]
        elif mode == "mixedcase":
            value = unrelated + [ep(name.lower(), uri)]
        elif mode == "slash":
            value = unrelated + [ep(name, uri + "/")]
        elif mode == "servicename":
            value = unrelated + [ep(name, uri, field="serviceName")]
        elif mode == "weird":
            # Hostile or broken entries before the real one: each must be
            # skipped, none may be used.
            value = unrelated + [
                "not an object", 42, None, {"providerName": 7, "uri": uri},
                {"providerName": name, "uri": 5},
                {"providerName": name, "uri": "http://127.0.0.1:1/plain"},
                {"providerName": name, "uri": "https://bad host/x"},
                {"providerName": name},
                {"providerName": name, "uri": uri}]
        else:
            value = unrelated + [ep(name, uri)]
        value.append(ep("PkiConnectorFEService", pki))
        doc = {"@odata.context": "https://127.0.0.1/v1.0/$metadata#x",
               "value": value}
        if mode == "paged":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            if "$skiptoken" not in q:
                doc = {"value": unrelated,
                       "@odata.nextLink": "https://127.0.0.1:%d/v1.0/"
                       "servicePrincipals/appId=%s/endpoints?$skiptoken=2"
                       % (ports["port"], app)}
            else:
                doc = {"value": value}
        self.send(200, doc)

    # -- the validation service (spec 6, 10.1.3) --

    def service(self, prefix, action, raw):
        entry = self.base_entry(action, raw)
        v = entry["violations"]
        with STATE.lock:
            cfg = copy.deepcopy(STATE.cfg)
        entry["prefix"] = prefix
        doc = entry["json"]
        inner = None
        transid = None
        challenge = None
        if action in FIELDS and isinstance(doc, dict):
            outer, _ = FIELDS[action]
            inner = doc.get(outer)
            if isinstance(inner, dict):
                transid = inner.get("transactionId")
                csr = inner.get("certificateRequest")
                if isinstance(csr, str) and B64_RE.match(csr) and \
                        len(csr) % 4 == 0:
                    try:
                        der = base64.b64decode(csr, validate=True)
                        ok, challenge = csr_verify(der)
                        entry["csr_sha256"] = hashlib.sha256(der).hexdigest()
                        entry["csr_verified"] = ok
                        entry["challenge"] = challenge
                    except ValueError:
                        pass
        beh = STATE.scripted(action, transid)
        if beh is None:
            beh = challenge_behaviour(challenge, action)
        if beh is None:
            beh = "OK"
        entry["behaviour"] = beh
        STATE.record(entry)

        if prefix not in cfg["live_prefixes"]:
            self.send(404, {"error": {"code": "NotFound",
                                      "message": "no service at " + prefix}})
            return
        why = check_token(self.hdr("Authorization"), "intune")
        if why:
            v.append(why)
            self.send(401, {"error": {"code": "InvalidAuthenticationToken",
                                      "message": why}},
                      extra={"WWW-Authenticate": "Bearer"})
            return
        self.check_service(action, cfg, doc, entry)
        if v:
            self.send(400, {"code": "StandinCheckFailed",
                            "errorDescription": "; ".join(v)})
            return
        if self.generic(beh):
            return
        if beh.startswith("SLOW-"):
            beh = "OK"
        if action == "validateRequest" and cfg["reject_replay"] and \
                challenge is not None:
            with STATE.lock:
                seen = challenge in STATE.challenges
                STATE.challenges.add(challenge)
            if seen:
                self.send(200, {"code": "ChallengeReplay",
                                "errorDescription": "challenge used before"})
                return
        if beh == "OK":
            self.send(200, {"code": "Success", "errorDescription": ""})
        elif beh == "LOWER":
            self.send(200, {"code": "success", "errorDescription": ""})
        elif beh == "NOCODE":
            self.send(200, {"errorDescription": "no code here"})
        elif beh.startswith("ERR-"):
            code = beh[4:]
            self.send(200, {"code": code,
                            "errorDescription": "stand-in says " + code})
        else:
            self.send(500, {"code": "Unknown",
                            "errorDescription": "unknown behaviour " + beh})

    # -- the revocation API (spec 9, 10.1.4) --

    def revocation(self, prefix, action, raw):
        entry = self.base_entry(action, raw)
        v = entry["violations"]
        with STATE.lock:
            cfg = copy.deepcopy(STATE.cfg)
        beh = STATE.scripted(action) or "OK"
        entry["behaviour"] = beh
        STATE.record(entry)
        if prefix != "/intune/pki":
            self.send(404, {"error": {"code": "NotFound", "message": prefix}})
            return
        why = check_token(self.hdr("Authorization"), "intune")
        if why:
            v.append(why)
            self.send(401, {"error": {"code": "InvalidAuthenticationToken",
                                      "message": why}},
                      extra={"WWW-Authenticate": "Bearer"})
            return
        if self.hdr("api-version") != cfg["pki_api_version"]:
            v.append("api-version header is %r" % self.hdr("api-version"))
        rid = self.hdr("client-request-id")
        if not rid or not GUID_RE.match(rid):
            v.append("client-request-id missing or not a GUID")
        else:
            with STATE.lock:
                if rid.lower() in STATE.request_ids:
                    v.append("client-request-id reused")
                STATE.request_ids.add(rid.lower())
        doc = entry["json"]
        if action == "downloadRevocationRequests":
            p = doc.get("downloadParameters") if isinstance(doc, dict) \
                else None
            if not isinstance(doc, dict) or list(doc.keys()) != \
                    ["downloadParameters"] or not isinstance(p, dict):
                v.append("body must be {\"downloadParameters\": {...}}")
                p = {}
            mx = p.get("maxRequests")
            if not isinstance(mx, int) or isinstance(mx, bool) or \
                    not 1 <= mx <= 500:
                v.append("maxRequests must be an integer 1-500")
                mx = 0
            iss = p.get("issuerName")
            if iss is not None and not isinstance(iss, str):
                v.append("issuerName must be a string or null")
        else:
            res = doc.get("results") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or list(doc.keys()) != \
                    ["results"] or not isinstance(res, list) or not res:
                v.append("body must be {\"results\": [...]}")
                res = []
            seen = set()
            with STATE.lock:
                known = {r["requestContext"] for r in STATE.cfg["revocations"]}
            for r in res:
                if not isinstance(r, dict) or set(r.keys()) != {
                        "requestContext", "succeeded", "errorCode",
                        "errorMessage"}:
                    v.append("result fields %r" % (sorted(r.keys())
                             if isinstance(r, dict) else r))
                    continue
                ctx, ok, code = r["requestContext"], r["succeeded"], \
                    r["errorCode"]
                if ctx in seen:
                    v.append("requestContext %s answered twice" % ctx)
                seen.add(ctx)
                if ctx not in known:
                    v.append("unknown requestContext %s" % ctx)
                if not isinstance(ok, bool):
                    v.append("succeeded is not a boolean")
                if cfg["code_as_string"]:
                    if not isinstance(code, str) or not code.isdigit():
                        v.append("errorCode is not a numeric string")
                        continue
                    code = int(code)
                elif not isinstance(code, int) or isinstance(code, bool):
                    v.append("errorCode is not a JSON number")
                    continue
                if ok != (code == 0):
                    v.append("succeeded %r with errorCode %r" % (ok, code))
                if not isinstance(r["errorMessage"], str):
                    v.append("errorMessage is not a string")
        if v:
            self.send(400, {"error": {"code": "StandinCheckFailed",
                                      "message": "; ".join(v)}})
            return
        if self.generic(beh):
            return
        if action == "downloadRevocationRequests":
            with STATE.lock:
                q = [r for r in STATE.cfg["revocations"]
                     if iss is None or r.get("issuerName") == iss]
            self.send(200, {"value": q[:mx]})
        else:
            self.send(200, {"value": True})

    def check_service(self, action, cfg, doc, entry):
        """Spec 6.1 and 6.2, as 10.1.3 lists them; appends violations."""
        v = entry["violations"]
        if action not in FIELDS:
            v.append("unknown action " + action)
            return
        if self.hdr("api-version") != cfg["api_version"]:
            v.append("api-version header is %r" % self.hdr("api-version"))
        rid = self.hdr("client-request-id")
        if not rid or not GUID_RE.match(rid):
            v.append("client-request-id missing or not a GUID")
        else:
            with STATE.lock:
                if rid.lower() in STATE.request_ids:
                    v.append("client-request-id reused")
                STATE.request_ids.add(rid.lower())
        ctype = (self.hdr("Content-Type") or "").split(";")
        if ctype[0].strip() != "application/json" or (
                len(ctype) > 1 and ctype[1].strip().lower() !=
                "charset=utf-8"):
            v.append("content type %r" % self.hdr("Content-Type"))
        if not self.hdr("UserAgent"):
            v.append("UserAgent header missing")
        if not self.hdr("User-Agent"):
            v.append("User-Agent header missing")
        outer, fields = FIELDS[action]
        if not isinstance(doc, dict) or list(doc.keys()) != [outer]:
            v.append("body must be an object with exactly %r" % outer)
            return
        inner = doc[outer]
        if not isinstance(inner, dict):
            v.append("%r is not an object" % outer)
            return
        if set(inner.keys()) != set(fields.keys()):
            v.append("fields %s, want %s" % (sorted(inner.keys()),
                                             sorted(fields.keys())))
        for k, t in fields.items():
            val = inner.get(k)
            if t is int:
                if not isinstance(val, int) or isinstance(val, bool):
                    v.append("%s is not an integer" % k)
            elif not isinstance(val, str) or val == "":
                v.append("%s missing or empty" % k)
        if inner.get("callerInfo") != self.hdr("UserAgent"):
            v.append("callerInfo differs from the UserAgent header")
        csr = inner.get("certificateRequest")
        if isinstance(csr, str):
            if not B64_RE.match(csr) or len(csr) % 4 != 0:
                v.append("certificateRequest is not single-line base64")
            elif not entry.get("csr_verified"):
                v.append("certificateRequest is not a PKCS#10 whose "
                         "signature verifies")
        if action == "successNotification":
            if not re.match(r"^[0-9A-F]{40}$",
                            str(inner.get("certificateThumbprint"))):
                v.append("certificateThumbprint is not 40 upper-case hex")
            sn = str(inner.get("certificateSerialNumber"))
            if not re.match(r"^([0-9A-F]{2})+$", sn):
                v.append("certificateSerialNumber is not upper-case hex "
                         "bytes")
            if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                            str(inner.get("certificateExpirationDateUtc"))):
                v.append("certificateExpirationDateUtc format")
        if action == "failureNotification":
            d = inner.get("errorDescription")
            if isinstance(d, str) and len(d) > 255:
                v.append("errorDescription longer than 255 characters")


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name, ctx):
        self.name = name
        self.ctx = ctx
        super().__init__(("127.0.0.1", 0), Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake runs in the handler's thread, not in accept().
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        if STATE.args.verbose:
            super().handle_error(request, client_address)


# ---- HTTP CONNECT proxy (spec 10.2 case 15) ----

class ProxyHandler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1").strip()
        headers = {}
        while True:
            h = self.rfile.readline(8192).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            k, _, val = h.partition(":")
            headers[k.strip().lower()] = val.strip()
        parts = line.split()
        entry = {"server": "proxy", "kind": "connect", "line": line,
                 "headers": [[k, v] for k, v in headers.items()],
                 "violations": []}
        with STATE.lock:
            need = STATE.cfg.get("proxy_auth")
        auth = headers.get("proxy-authorization")
        entry["authorized"] = False
        if auth and auth.startswith("Basic "):
            try:
                entry["proxy_user"] = base64.b64decode(
                    auth[6:]).decode().split(":", 1)[0]
            except ValueError:
                pass
        if len(parts) != 3 or parts[0] != "CONNECT":
            entry["violations"].append("not a CONNECT request")
            STATE.record(entry)
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n"
                             b"Content-Length: 0\r\n\r\n")
            return
        entry["target"] = parts[1]
        if need:
            want = "Basic " + base64.b64encode(need.encode()).decode()
            if auth != want:
                STATE.record(entry)
                self.wfile.write(b"HTTP/1.1 407 Proxy Authentication "
                                 b"Required\r\nProxy-Authenticate: Basic "
                                 b"realm=\"standin\"\r\nContent-Length: 0"
                                 b"\r\n\r\n")
                return
            entry["authorized"] = True
        STATE.record(entry)
        host, _, port = parts[1].rpartition(":")
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), 10)
        except (OSError, ValueError):
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\n"
                             b"Content-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        down = self.connection
        # Bytes the line reader buffered after the headers (none in
        # practice: the client waits for our 200).
        socks = [down, up]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 30)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is down else down).sendall(data)
        except OSError:
            pass
        finally:
            up.close()


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---- set-up ----

def run(cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def make_pki(d):
    """A test CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr = os.path.join(d, "server.key"), os.path.join(d, "server.csr")
    crt, ext = os.path.join(d, "server.pem"), os.path.join(d, "server.ext")
    if os.path.exists(crt) and os.path.exists(ca):
        return crt, key, ca
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509"] + ec + [
        "-keyout", ca_key, "-out", ca, "-days", "3",
        "-subj", "/CN=scepd test CA for the Intune stand-in",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req"] + ec + ["-keyout", key, "-out", csr,
                                   "-subj", "/CN=127.0.0.1"])
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "3", "-extfile", ext])
    return crt, key, ca


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alt_down():
    srv = STATE.alt_server
    if srv is None:
        return
    STATE.alt_server = None
    srv.shutdown()
    srv.server_close()
    with STATE.lock:
        conns = list(STATE.alt_conns)
    for c in conns:
        try:
            c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(srv):
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return t


def main():
    global STATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tenant", default="contoso.onmicrosoft.com")
    ap.add_argument("--client-id", default="11111111-1111-1111-1111-111111111111")
    ap.add_argument("--client-secret", default="standin-secret")
    ap.add_argument("--expires-in", type=int, default=5)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="exit when the parent process goes away")
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    STATE = State(args, args.dir)
    crt, key, ca = make_pki(args.dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(crt, key)

    main_srv = TLSServer("main", ctx)
    alt_srv = TLSServer("alt", ctx)
    proxy_srv = ProxyServer(("127.0.0.1", 0), ProxyHandler)
    STATE.alt_server = alt_srv
    STATE.ports = {"port": main_srv.server_address[1],
                   "alt_port": alt_srv.server_address[1],
                   "proxy_port": proxy_srv.server_address[1],
                   "dead_port": free_port()}
    for s in (main_srv, alt_srv, proxy_srv):
        serve(s)

    info = dict(STATE.ports)
    info.update({"pid": os.getpid(), "ca": ca,
                 "base": "https://127.0.0.1:%d/" % info["port"]})
    fd, tmp = tempfile.mkstemp(dir=args.dir)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)
    os.rename(tmp, os.path.join(args.dir, "standin.json"))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    parent = os.getppid()
    while not stop.wait(0.5):
        if args.exit_with_parent and os.getppid() != parent:
            break                  # the test died: do not linger
    main_srv.shutdown()
    proxy_srv.shutdown()
    alt_down()


if __name__ == "__main__":
    main()
