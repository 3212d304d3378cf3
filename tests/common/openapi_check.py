"""What the live OpenAPI tests share (tests/smdp/openapi_live_test.py,
tests/ota/otad_openapi_live_test.py): the document and its Draft 2020-12
validator (OpenAPI 3.1's schema dialect), an answer checked against the
response of its status, throwaway client certificates from the openssl CLI,
a free loopback port, and one HTTPS request with a client certificate.
Independent of the project's C++ code on purpose."""
import http.client
import random
import socket
import ssl
import subprocess

import yaml
from jsonschema import Draft202012Validator, RefResolver


class Checks:
    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        if not cond:
            self.failures.append(what)
            print("FAIL:", what, flush=True)
        return cond


class Document:
    def __init__(self, path, check):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        self.resolver = RefResolver.from_schema(self.doc)
        self.check = check

    def errors(self, schema, instance):
        v = Draft202012Validator(schema, resolver=self.resolver)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in v.iter_errors(instance)]

    def check_itself(self):
        """3.1, valid component schemas, every example valid against its schema."""
        check = self.check
        check(str(self.doc.get("openapi", "")).startswith("3.1"), "openapi is not 3.1")
        for name, schema in self.doc["components"]["schemas"].items():
            try:
                Draft202012Validator.check_schema(schema)
            except Exception as e:  # noqa: BLE001 - the message is the point
                check(False, f"components.schemas.{name} is not a valid 2020-12 schema: {e}")
        items = [(p, i) for p, i in self.doc.get("paths", {}).items()]
        items += [(f"webhooks.{n}", i) for n, i in self.doc.get("webhooks", {}).items()]
        n = 0
        for path, item in items:
            for method, op in item.items():
                if method == "parameters":
                    continue
                for media, content in op.get("requestBody", {}).get("content", {}).items():
                    for name, ex in content.get("examples", {}).items():
                        errs = self.errors(content["schema"], ex["value"])
                        check(not errs, f"{method} {path} request example {name}: {errs}")
                        n += 1
                for status, resp in op["responses"].items():
                    resp = self.deref(resp)
                    for media, content in resp.get("content", {}).items():
                        for name, ex in content.get("examples", {}).items():
                            errs = self.errors(content["schema"], ex["value"])
                            check(not errs, f"{method} {path} {status} example {name}: {errs}")
                            n += 1
        return n

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def validate_answer(self, op, status, ctype, text, where):
        """The answer against the operation's response for `status`; the parsed JSON body or the text."""
        import json
        check = self.check
        resp = op["responses"].get(str(status))
        if not check(resp is not None, f"{where}: HTTP {status} is not a documented response"):
            return None
        resp = self.deref(resp)
        content = resp.get("content", {})
        if not content:
            check(text == "", f"{where}: HTTP {status} documents no body, got {text[:80]!r}")
            return text
        media = next((m for m in content if ctype.split(";")[0].strip() == m), None)
        if not check(media is not None, f"{where}: content type {ctype!r} not documented for {status}"):
            return None
        if media == "application/json":
            try:
                body = json.loads(text)
            except ValueError:
                check(False, f"{where}: not JSON: {text[:80]!r}")
                return None
            errs = self.errors(content[media]["schema"], body)
            check(not errs, f"{where}: answer does not validate: {errs} in {text[:300]}")
            return body
        return text


def run(*args, ok=True, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)
    if ok and r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr}")
    return r


def operator_pki(names, ca_name="Operators CA"):
    """ca.pem + NAME.pem/NAME.key (P-256, clientAuth, policies not critical) in the current folder."""
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
    run("openssl", "req", "-x509", "-new", "-key", "ca.key", "-subj", f"/CN={ca_name}", "-days", "2", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open("client.ext", "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    for n in names:
        run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{n}.key")
        run("openssl", "req", "-new", "-key", f"{n}.key", "-subj", f"/CN={n}", "-out", f"{n}.csr")
        run("openssl", "x509", "-req", "-in", f"{n}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", f"{n}.pem", "-extfile", "client.ext")


def free_port():
    for _ in range(50):
        p = random.randint(10000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue
    raise SystemExit("FAIL: no free port")


def https(port, method, path, server_ca_pem, client=None, body=None, headers=None, timeout=10):
    """One request to localhost:port over TLS, `client` = NAME of NAME.pem/NAME.key; (status, content type, text)."""
    ctx = ssl.create_default_context(cadata=server_ca_pem)
    if client:
        ctx.load_cert_chain(f"{client}.pem", f"{client}.key")
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={k: v for k, v in (headers or {}).items() if v is not None})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read().decode()
    finally:
        conn.close()
