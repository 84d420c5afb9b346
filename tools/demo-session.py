#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs inside the demo's Prosody fixture (see tools/demo): checks that both
demo accounts log in over verified TLS, prints how to connect, and holds the
server for XMPPC_DEMO_HOLD seconds ("forever": until Ctrl-C)."""
import os
import pathlib
import signal
import subprocess
import sys
import time

E = os.environ
top = pathlib.Path(__file__).resolve().parent.parent
users = E["XMPPC_TEST_USERS"].split()

print(f"""
libxmppc demo: a private Prosody is running on loopback
  domain        {E['XMPPC_TEST_DOMAIN']}  (MUC: {E['XMPPC_TEST_MUC']})
  STARTTLS      {E['XMPPC_TEST_HOST']}:{E['XMPPC_TEST_PORT']}
  direct TLS    {E['XMPPC_TEST_HOST']}:{E['XMPPC_TEST_TLS_PORT']}
  CA file       {E['XMPPC_TEST_CA']}
  accounts      {', '.join(f"{u}@{E['XMPPC_TEST_DOMAIN']}" for u in users)}
  password      {E['XMPPC_TEST_PASSWORD']}
""", flush=True)

# Prove the server side with the smoke client: both accounts, verified TLS.
r = subprocess.run([sys.executable, str(top / "tests/integration/smoke_tls.py")],
                   capture_output=True, text=True)
logins = [l for l in r.stdout.splitlines() if "logs in" in l]
for line in logins:
    print("  " + line)
if r.returncode != 0:
    print(r.stdout + r.stderr, file=sys.stderr)
    print("demo: the server check failed", file=sys.stderr)
    sys.exit(1)

print("\nThe bot conversation through libxmppc arrives with the connection "
      "layer (issue 4).")
hold = E.get("XMPPC_DEMO_HOLD", "0")
if hold == "forever":
    print("Server up; press Ctrl-C to stop it.", flush=True)
    signal.pause()
elif float(hold) > 0:
    print(f"Server up for {hold} s.", flush=True)
    time.sleep(float(hold))
print("demo: done; stopping the server.")
