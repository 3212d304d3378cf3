#!/usr/bin/python3
"""docs/openapi/otad.yaml against a live otad (issue 13).

otad runs on loopback with throwaway PKI (rsp-certs for its TLS certificate,
the openssl CLI for the home operator's CA and client certificate) and an
SMPP port nobody listens on (the API works without the SMSC; commands wait
queued). Each documented operation is called with its example (valid against
the request schema first) and with the errors the document declares; every
answer is validated against the document's response for its status. The
surface: the routes of otad's dispatch (ota/daemon/api.cpp) are the
document's operations, and a probe of undocumented ones answers 404 "no such
endpoint".

Usage: otad_openapi_live_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

BUILD, SRC = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SRC, "tests", "common"))
from openapi_check import Checks, Document, free_port, https, operator_pki, run  # noqa: E402

OTAD = os.path.join(BUILD, "ota", "otad")
CERTS = os.path.join(BUILD, "certs", "rsp-certs")
check = Checks()
D = Document(os.path.join(SRC, "docs", "openapi", "otad.yaml"), check)
DOC = D.doc
check(D.check_itself() >= 5, "fewer examples than expected")


def op(path, method):
    return DOC["paths"][path][method.lower()]


def example(path, method, name):
    content = op(path, method)["requestBody"]["content"]["application/json"]
    value = content["examples"][name]["value"]
    check(not D.errors(content["schema"], value), f"{method} {path} example {name} invalid before sending")
    return value


def refuses(path, method, body):
    """The document's request schema refuses `body` (it is declared an error)."""
    content = op(path, method)["requestBody"]["content"]["application/json"]
    return bool(D.errors(content["schema"], body))


W = tempfile.mkdtemp(prefix="otad-openapi-")
os.chdir(W)
run(CERTS, "generate", "--out", "pki", "--curve", "nist", "--dp-host", "localhost", "--days", "2")
operator_pki(["HOME"], "Home operator CA")
with open("pki/CERT_CI_ECDSA_NIST.der", "rb") as f:
    SERVER_CA = ssl.DER_cert_to_PEM_cert(f.read())
old = os.umask(0o077)
with open("storage.key", "w") as f:
    f.write(os.urandom(32).hex())
with open("smpp.pw", "w") as f:
    f.write("secret")
os.umask(old)
with open("otad.json", "w") as f:
    json.dump({"db": "otad.db", "storage_key_file": "storage.key", "listen": "127.0.0.1", "port": 0,
               "tls": {"certificate": "pki/CERT_S_SM_DP_TLS_NIST.der", "key": "pki/SK_S_SM_DP_TLS_NIST.pem"},
               "client_ca": "ca.pem",
               "smpp": {"host": "127.0.0.1", "port": free_port(), "system_id": "ota", "password_file": "smpp.pw"}}, f)
server = subprocess.Popen([OTAD, "--config", "otad.json", "--port-file", "port"], stdout=subprocess.DEVNULL,
                          stderr=open("otad.log", "w"))


def stop():
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


PORT = 0


def call(method, path, body=None, client="HOME", raw=None):
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    h = {"Content-Type": "application/json"} if data is not None else {}
    return https(PORT, method, path, SERVER_CA, client, data, h)


def expect(doc_path, method, path, body, want, **kw):
    """Calls, checks the status, validates the answer against the document; returns the JSON body."""
    status, ctype, text = call(method, path, body, **kw)
    where = f"{method} {path} {json.dumps(body)[:60] if body is not None else ''}"
    check(status == want, f"{where}: HTTP {status}, want {want}: {text[:200]}")
    return D.validate_answer(op(doc_path, method), status, ctype, text, where)


try:
    deadline = time.time() + 20
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit("FAIL: otad exited: " + open("otad.log").read())
        if os.path.exists("port") and open("port").read().strip():
            PORT = int(open("port").read().strip())
            break
        time.sleep(0.1)
    else:
        raise SystemExit("FAIL: otad did not start: " + open("otad.log").read())

    CARDS, CARD = "/ota/v1/cards", "/ota/v1/cards/{iccid}"
    card = example(CARDS, "POST", "card")
    iccid = card["iccid"]
    expect(CARDS, "POST", CARDS, card, 201)
    expect(CARDS, "POST", CARDS, card, 409)
    bad = dict(card, iccid="12345")
    check(refuses(CARDS, "POST", bad), "the document accepts a 5-digit ICCID")
    expect(CARDS, "POST", CARDS, bad, 400)
    bad = dict(card, iccid="8949449999999990031", key_sets=[])
    check(refuses(CARDS, "POST", bad), "the document accepts no key sets")
    expect(CARDS, "POST", CARDS, bad, 400)
    expect(CARDS, "POST", CARDS, None, 413, raw=json.dumps(dict(card, msisdn="1" * 9000)))
    expect(CARDS, "POST", CARDS, None, 400, raw="{not json")
    shown = expect(CARD, "GET", f"{CARDS}/{iccid}", None, 200)
    check(shown and "kic" not in json.dumps(shown) .replace("kic_kcv", ""), f"GET card shows a key: {shown}")
    expect(CARD, "GET", f"{CARDS}/8949449999999990049", None, 404)

    CMDS = "/ota/v1/cards/{iccid}/commands"
    q = expect(CMDS, "POST", f"{CARDS}/{iccid}/commands", example(CMDS, "POST", "readIccid"), 202)
    check(q and q.get("id", "").startswith("cmd-"), f"command id {q}")
    if q:
        expect("/ota/v1/commands/{id}", "GET", f"/ota/v1/commands/{q['id']}", None, 200)
    expect(CMDS, "POST", f"{CARDS}/{iccid}/commands", {"tar": "B00001", "apdus": ["00B000000A"]}, 422)
    expect(CMDS, "POST", f"{CARDS}/{iccid}/commands", {"tar": "B00010", "apdus": ["00B000000A"], "transport": "scp81"}, 422)
    bad = {"tar": "B00010", "apdus": ["00"]}
    check(refuses(CMDS, "POST", bad), "the document accepts a 1-byte APDU")
    expect(CMDS, "POST", f"{CARDS}/{iccid}/commands", bad, 400)
    expect(CMDS, "POST", f"{CARDS}/8949449999999990049/commands", {"tar": "B00010", "apdus": ["00B000000A"]}, 404)
    expect("/ota/v1/commands/{id}", "GET", "/ota/v1/commands/cmd-0000000000000000", None, 404)

    ACC = "/ota/v1/cards/{iccid}/accounts"
    expect(ACC, "POST", f"{CARDS}/{iccid}/accounts", example(ACC, "POST", "account"), 202)
    bad = dict(example(ACC, "POST", "account"), ki="00")
    check(refuses(ACC, "POST", bad), "the document accepts a 1-byte Ki")
    expect(ACC, "POST", f"{CARDS}/{iccid}/accounts", bad, 400)
    SW = "/ota/v1/cards/{iccid}/accounts/{account}/switch"
    expect(SW, "POST", f"{CARDS}/{iccid}/accounts/2/switch", example(SW, "POST", "bySms"), 202)
    expect(SW, "POST", f"{CARDS}/{iccid}/accounts/999/switch", None, 400)
    expect("/ota/v1/cards/{iccid}/accounts/{account}", "DELETE", f"{CARDS}/{iccid}/accounts/2", None, 202)

    APP = "/ota/v1/cards/{iccid}/applications"
    for name in ("install", "lock", "status"):
        expect(APP, "POST", f"{CARDS}/{iccid}/applications", example(APP, "POST", name), 202)
    bad = dict(example(APP, "POST", "install"), package_aid="F052")
    check(refuses(APP, "POST", bad), "the document accepts a 2-byte package AID")
    expect(APP, "POST", f"{CARDS}/{iccid}/applications", bad, 400)
    expect(APP, "POST", f"{CARDS}/{iccid}/applications", {"action": "format"}, 400)
    expect(APP, "POST", f"{CARDS}/8949449999999990049/applications", example(APP, "POST", "status"), 404)

    CAMP = "/ota/v1/campaigns"
    c = expect(CAMP, "POST", CAMP, example(CAMP, "POST", "twoCards"), 201)
    check(c and c.get("total") == 1, f"campaign {c}")
    if c:
        expect(CAMP + "/{id}", "GET", f"{CAMP}/{c['id']}", None, 200)
        expect(CAMP + "/{id}", "GET", f"{CAMP}/{c['id']}?cards=all", None, 200)
        st, _, _ = call("POST", f"{CAMP}/{c['id']}/cancel")
        check(st in (200, 409), f"cancel: HTTP {st}")
        expect(CAMP + "/{id}/cancel", "POST", f"{CAMP}/{c['id']}/cancel", None, 409)
    expect(CAMP, "POST", CAMP, {"tar": "B00010", "apdus": ["00B000000A"], "cards": ["8949449999999990049"]}, 422)
    bad = {"tar": "B00010", "apdus": ["00B000000A"]}
    check(refuses(CAMP, "POST", bad), "the document accepts a campaign without cards")
    expect(CAMP, "POST", CAMP, bad, 400)
    expect(CAMP + "/{id}", "GET", f"{CAMP}/c-0000000000000000", None, 404)

    expect(CARD, "DELETE", f"{CARDS}/{iccid}", None, 204)
    expect(CARD, "DELETE", f"{CARDS}/{iccid}", None, 404)

    # No client certificate: no TLS session (mutualTLS in the document).
    try:
        call("GET", f"{CARDS}/{iccid}", client=None)
        check(False, "a request without a client certificate was answered")
    except (ssl.SSLError, ConnectionError, OSError):
        pass

    # The surface: the dispatch's routes are the document's operations.
    # Api::routes() is the one route table the router dispatches through:
    # {"POST", {"cards", "{}", "commands"}, "POST /cards/{iccid}/commands", handler}.
    with open(os.path.join(SRC, "ota", "daemon", "api.cpp")) as f:
        src = f.read()
    table = src[src.index("const std::vector<ApiRoute>& Api::routes()"):src.index("http::Response Api::handle(")]
    routes = set()
    for m in re.finditer(r'\{"(\w+)", \{(?:"[^"]*"(?:, )?)*\}, "(\w+) (/[^"]+)"', table):
        check(m.group(1) == m.group(2), f"route label {m.group(2)} {m.group(3)} under method {m.group(1)}")
        # The metrics label names the account by its slot; the document calls the parameter {account}.
        routes.add((m.group(1), "/ota/v1" + m.group(3).replace("{slot}", "{account}")))
    check(len(routes) >= 12, f"only {len(routes)} routes read from Api::routes()")
    documented = {(m.upper(), p) for p, item in DOC["paths"].items() for m in item if m != "parameters"}
    check(routes == documented, f"dispatch routes {sorted(routes - documented)} undocumented, "
                                f"documented {sorted(documented - routes)} not routed")
    for method, path in [("PUT", CARDS), ("GET", CAMP), ("GET", f"{CARDS}/{iccid}/accounts"), ("POST", "/ota/v1/commands/x"),
                         ("GET", "/ota/v1/nope")]:
        st, _, text = call(method, path, {} if method in ("POST", "PUT") else None)
        check(st == 404 and "no such endpoint" in text, f"probe {method} {path}: HTTP {st} {text[:80]}")
finally:
    stop()

if check.failures:
    print(f"{len(check.failures)} check(s) failed; work folder {W}")
    sys.exit(1)
subprocess.run(["rm", "-rf", W])
print("OpenAPI (otad.yaml) against the live otad: all checks passed")
