#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs `test-conn srv` with a private dnsmasq that publishes SRV records
for the fixture server's second domain, so logins go through c-ares SRV
lookups: _xmpps-client (direct TLS, preferred by priority) and
_xmpp-client, whose target also has an IPv6 address where nothing listens
(happy eyeballs must fall back to IPv4), plus a domain whose services are
"." (not offered).

    srv_login.py TEST_CONN    (run under tests/fixtures/xmppc_fixture.py)
"""
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "fixtures"))
import dnsmasq_fixture as dns  # noqa: E402

E = os.environ
domain = E["XMPPC_TEST_DOMAIN2"]
records = [
    dns.srv(f"_xmpps-client._tcp.{domain}", f"xmpps.{domain}", E["XMPPC_TEST_TLS_PORT"], 5, 1),
    dns.srv(f"_xmpp-client._tcp.{domain}", f"xmpp.{domain}", E["XMPPC_TEST_PORT"], 10, 1),
    dns.host(f"xmpps.{domain}", "127.0.0.1"),
    dns.host(f"xmpp.{domain}", "127.0.0.1", "::1"),
    dns.srv("_xmpps-client._tcp.nothere.test"),
    dns.srv("_xmpp-client._tcp.nothere.test"),
]
with tempfile.TemporaryDirectory() as tmp:
    port, stop = dns.start_dnsmasq(pathlib.Path(tmp), records)
    try:
        env = {**E, "XMPPC_TEST_DNS_SERVER": f"127.0.0.1:{port}"}
        status = subprocess.run([sys.argv[1], "srv"], env=env).returncode
    finally:
        stop()
sys.exit(status)
