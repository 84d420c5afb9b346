#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The demo conversation, run inside the demo's private Prosody (see
tools/demo): bob runs the echo bot, alice talks to it with xmppc-send and
with the notify example, and every step is shown. Then the server is held
for XMPPC_DEMO_HOLD seconds ("forever": until Ctrl-C) so you can connect."""
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

E = os.environ
top = pathlib.Path(__file__).resolve().parent.parent
build = pathlib.Path(E.get("XMPPC_BUILD_DIR", top / "build"))
domain, ca = E["XMPPC_TEST_DOMAIN"], E["XMPPC_TEST_CA"]
starttls = f"127.0.0.1:{E['XMPPC_TEST_PORT']}"
direct = f"127.0.0.1:{E['XMPPC_TEST_TLS_PORT']}"
alice, bob = f"alice@{domain}", f"bob@{domain}"

print(f"""
libxmppc demo: a private Prosody is running on loopback
  domain        {domain}  (MUC: {E['XMPPC_TEST_MUC']})
  STARTTLS      {starttls}
  direct TLS    {direct}
  CA file       {ca}
  accounts      {alice}, {bob}
  password      {E['XMPPC_TEST_PASSWORD']}
""", flush=True)

with tempfile.TemporaryDirectory() as tmp:
    pw = pathlib.Path(tmp) / "pw"
    pw.write_text(E["XMPPC_TEST_PASSWORD"] + "\n")
    out = pathlib.Path(tmp) / "bot.out"
    bot = subprocess.Popen([str(build / "examples/echo-bot"), "--jid", bob,
                            "--password-file", str(pw), "--server", starttls,
                            "--cafile", ca, "--count", "3"],
                           stdout=open(out, "w"), stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
    shown = 0

    def show_bot(wait_for=None, timeout=10.0):
        """Prints the bot's new lines (waiting for one containing wait_for)."""
        global shown
        deadline = time.monotonic() + timeout
        while True:
            lines = out.read_text().splitlines()
            if not wait_for or any(wait_for in l for l in lines[shown:]) or \
                    bot.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for line in lines[shown:]:
            print(f"  [bob, echo-bot]   {line}", flush=True)
        shown = len(lines)

    show_bot("online")

    def alice_says(text, program="xmppc-send"):
        env = {**E, "XMPPC_PASSWORD": E["XMPPC_TEST_PASSWORD"]}
        if program == "xmppc-send":
            cmd = [str(build / "tools/xmppc-send"), "--jid", alice, "--server", direct,
                   "--direct-tls", "--cafile", ca, "-m", text, bob]
        else:
            env.update(XMPP_JID=alice, XMPP_PASS=E["XMPPC_TEST_PASSWORD"], XMPP_TO=bob,
                       XMPP_SERVER=starttls, XMPP_CAFILE=ca)
            cmd = [str(build / "examples/notify"), text]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        status = "delivered to the server" if r.returncode == 0 else \
            f"FAILED (exit {r.returncode}): {r.stderr.strip()}"
        print(f"  [alice, {program}] -> {bob}: {text!r}: {status}", flush=True)
        show_bot(text)
        return r.returncode == 0

    ok = alice_says("Hello bob, are you there?")
    ok = alice_says("Unicode and markup survive: héllo <b> & 'quotes' ☺") and ok
    ok = alice_says("nightly backup: OK", program="notify") and ok
    try:
        status = bot.wait(15)
    except subprocess.TimeoutExpired:
        bot.terminate()
        status = bot.wait(5)
    show_bot()
    if not ok or status != 0:
        print("demo: the conversation FAILED", file=sys.stderr)
        sys.exit(1)
    print("\ndemo: the conversation worked: three messages from alice, three echoes "
          "from bob's bot, all over verified TLS.", flush=True)

hold = E.get("XMPPC_DEMO_HOLD", "0")
if hold == "forever":
    print("Server up; press Ctrl-C to stop it.", flush=True)
    signal.pause()
elif float(hold) > 0:
    print(f"Server up for {hold} s.", flush=True)
    time.sleep(float(hold))
print("demo: done; stopping the server.")
