#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Smoke test of a private test server started by tests/fixtures/xmppc_fixture.py.

Until libxmppc can log in by itself, this proves with independent clients
(gnutls-cli and a small stdlib XMPP client) that the fixture's server:
  - offers STARTTLS, refuses authentication before it, and presents a
    certificate that verifies against the fixture CA for the JID domain;
  - offers direct TLS (XEP-0368) with ALPN xmpp-client;
  - fails verification for a wrong name and for an unknown CA;
  - has every test account, accepting its password and refusing a wrong one;
  - binds a resource.
"""
import base64
import os
import socket
import ssl
import subprocess
import sys
import xml.etree.ElementTree as ET

E = os.environ
HOST, DOMAIN = E["XMPPC_TEST_HOST"], E["XMPPC_TEST_DOMAIN"]
PORT, TLS_PORT = int(E["XMPPC_TEST_PORT"]), int(E["XMPPC_TEST_TLS_PORT"])
CA, USERS, PASSWORD = E["XMPPC_TEST_CA"], E["XMPPC_TEST_USERS"].split(), E["XMPPC_TEST_PASSWORD"]
BADCERT_DOMAIN = E["XMPPC_TEST_BADCERT_DOMAIN"]
SERVER = E["XMPPC_TEST_SERVER"]

NS_STREAM = "http://etherx.jabber.org/streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"

failures = []


def check(cond, what):
    print(f"{'ok  ' if cond else 'FAIL'} {SERVER}: {what}", flush=True)
    if not cond:
        failures.append(what)
    return cond


class Stream:
    """Just enough XMPP to open streams, negotiate TLS and SASL and bind."""

    def __init__(self, sock, domain):
        self.sock, self.domain = sock, domain
        self.restart()

    def restart(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.send(f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  f"xmlns:stream='{NS_STREAM}' to='{self.domain}' version='1.0'>")
        self.header = self.next_event("start")

    def send(self, text):
        self.sock.sendall(text.encode())

    def next_event(self, want=None):
        while True:
            for event, elem in self.parser.read_events():
                if event == "start":
                    self.depth += 1
                    if self.depth == 1 and want == "start":
                        return elem
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        return elem
                    if self.depth == 0:
                        raise EOFError("server closed the stream")
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.parser.feed(data)

    def features(self):
        el = self.next_event()
        assert el.tag == f"{{{NS_STREAM}}}features", el.tag
        return el

    def mechanisms(self, features):
        mechs = features.find(f"{{{NS_SASL}}}mechanisms")
        return [] if mechs is None else [m.text for m in mechs]

    def starttls(self, ctx, server_hostname):
        self.send(f"<starttls xmlns='{NS_TLS}'/>")
        el = self.next_event()
        assert el.tag == f"{{{NS_TLS}}}proceed", el.tag
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)
        self.restart()

    def auth_plain(self, user, password):
        blob = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{blob}</auth>")
        el = self.next_event()
        if el.tag == f"{{{NS_SASL}}}success":
            self.restart()
            return "success"
        conditions = [c.tag.split("}")[1] for c in el if not c.tag.endswith("}text")]
        return ",".join(conditions) or el.tag

    def bind(self, resource):
        features = self.features()
        if features.find(f"{{{NS_BIND}}}bind") is None:
            return None
        self.send(f"<iq type='set' id='b1'><bind xmlns='{NS_BIND}'>"
                  f"<resource>{resource}</resource></bind></iq>")
        el = self.next_event()
        jid = el.find(f"{{{NS_BIND}}}bind/{{{NS_BIND}}}jid")
        return None if jid is None else jid.text


def tls_context(cafile=CA):
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def connect(port):
    return socket.create_connection((HOST, port), timeout=10)


def login_starttls(user, password, domain=DOMAIN, verify_name=None):
    s = Stream(connect(PORT), domain)
    f = s.features()
    s.starttls(tls_context(), verify_name or domain)
    f = s.features()
    return s, f, s.auth_plain(user, password)


def login_direct_tls(user, password, domain=DOMAIN, verify_name=None):
    ctx = tls_context()
    ctx.set_alpn_protocols(["xmpp-client"])
    sock = ctx.wrap_socket(connect(TLS_PORT), server_hostname=verify_name or domain)
    alpn = sock.selected_alpn_protocol()
    s = Stream(sock, domain)
    f = s.features()
    return s, f, s.auth_plain(user, password), alpn


def gnutls_cli(args):
    r = subprocess.run(["gnutls-cli", "--x509cafile", CA, *args], input=b"",
                       capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def expect_cert_failure(fn, what):
    try:
        fn()
    except ssl.SSLCertVerificationError as e:
        return check(True, f"{what} is refused ({e.verify_message})")
    except Exception as e:
        return check(False, f"{what} is refused with a certificate error, got {e!r}")
    return check(False, f"{what} is refused, but the handshake succeeded")


def main():
    # Independent TLS client: gnutls-cli verifies against the JID domain.
    rc, out = gnutls_cli(["--starttls-proto=xmpp", "-p", str(PORT), DOMAIN])
    check(rc == 0 and "The certificate is trusted" in out and "Handshake was completed" in out,
          "gnutls-cli STARTTLS to the domain verifies with the fixture CA")
    rc, out = gnutls_cli(["--alpn=xmpp-client", "--verify-hostname", DOMAIN,
                          "--sni-hostname", DOMAIN, "-p", str(TLS_PORT), HOST])
    check(rc == 0 and "The certificate is trusted" in out and "Handshake was completed" in out,
          "gnutls-cli direct TLS with ALPN xmpp-client verifies with the fixture CA")

    # Before TLS: STARTTLS offered and required; no authentication possible.
    s = Stream(connect(PORT), DOMAIN)
    f = s.features()
    check(f.find(f"{{{NS_TLS}}}starttls") is not None, "STARTTLS is offered")
    check("PLAIN" not in s.mechanisms(f), "PLAIN is not offered before TLS")
    s.sock.close()

    # Every account logs in over STARTTLS; the first also binds.
    for i, user in enumerate(USERS):
        s, f, result = login_starttls(user, PASSWORD)
        check(result == "success", f"{user}@{DOMAIN} logs in over STARTTLS")
        if i == 0:
            mechs = s.mechanisms(f)
            print(f"     mechanisms after TLS: {' '.join(mechs)}")
            check(any(m.startswith("SCRAM-SHA-1") for m in mechs), "SCRAM-SHA-1 offered after TLS")
            jid = s.bind("smoke")
            check(jid == f"{user}@{DOMAIN}/smoke", f"resource bound ({jid})")
        s.sock.close()

    domain2 = E["XMPPC_TEST_DOMAIN2"]
    s, f, result = login_starttls(USERS[-1], PASSWORD, domain=domain2)
    check(result == "success", f"{USERS[-1]}@{domain2} logs in over STARTTLS (second domain)")
    s.sock.close()

    s, f, result = login_starttls(USERS[0], PASSWORD + "-wrong")
    check(result == "not-authorized", f"a wrong password is refused ({result})")
    s.sock.close()

    s, f, result, alpn = login_direct_tls(USERS[1], PASSWORD)
    check(result == "success", f"{USERS[1]}@{DOMAIN} logs in over direct TLS")
    check(alpn in ("xmpp-client", None), f"ALPN answer acceptable ({alpn})")
    s.sock.close()

    # Negative certificate checks.
    expect_cert_failure(lambda: login_starttls(USERS[0], PASSWORD, verify_name="wrong.invalid"),
                        "STARTTLS verified against a name the certificate lacks")
    expect_cert_failure(
        lambda: tls_context(cafile=None).wrap_socket(connect(TLS_PORT), server_hostname=DOMAIN),
        "direct TLS verified against the system trust store (unknown CA)")
    expect_cert_failure(lambda: login_starttls(USERS[0], PASSWORD, domain=BADCERT_DOMAIN),
                        f"STARTTLS to {BADCERT_DOMAIN}, served with a wrong-name certificate")
    expect_cert_failure(lambda: login_direct_tls(USERS[0], PASSWORD, domain=BADCERT_DOMAIN),
                        f"direct TLS to {BADCERT_DOMAIN}, served with a wrong-name certificate")

    print(f"{SERVER} smoke: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
