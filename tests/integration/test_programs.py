#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of the programs against the fixture's server:
echo-bot and epoll-client answer messages sent by xmppc-send and notify,
and xmppc-send's exit codes mean what its usage says.

    test_programs.py BUILD_DIR    (run under tests/fixtures/xmppc_fixture.py)
"""
import os
import pathlib
import subprocess
import sys
import tempfile
import time

build = pathlib.Path(sys.argv[1])
E = os.environ
USERS = E["XMPPC_TEST_USERS"].split()
DOMAIN, CA = E["XMPPC_TEST_DOMAIN"], E["XMPPC_TEST_CA"]
STARTTLS = f"127.0.0.1:{E['XMPPC_TEST_PORT']}"
DIRECT = f"127.0.0.1:{E['XMPPC_TEST_TLS_PORT']}"
failures = []
count = 0


def check(cond, what):
    global count
    count += 1
    print(f"{'ok' if cond else 'not ok'} {count} - {what}", flush=True)
    if not cond:
        failures.append(what)


def jid(i):
    return f"{USERS[i]}@{DOMAIN}"


def send(args, password=None, stdin=None):
    env = {**E, "XMPPC_PASSWORD": password or E["XMPPC_TEST_PASSWORD"]}
    r = subprocess.run([str(build / "tools/xmppc-send"), *args], env=env,
                       input=stdin, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stderr.strip()


def run_bot(program, user, count_, extra=()):
    """Starts an echo bot; returns (process, output file) once online."""
    pw = tempfile.NamedTemporaryFile("w", delete=False)
    pw.write(E["XMPPC_TEST_PASSWORD"] + "\n")
    pw.close()
    out = tempfile.NamedTemporaryFile("w+", delete=False)
    p = subprocess.Popen([str(build / "examples" / program), "--jid", jid(user),
                          "--password-file", pw.name, "--server", STARTTLS,
                          "--cafile", CA, "--count", str(count_), *extra],
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    for _ in range(100):
        if "online" in pathlib.Path(out.name).read_text():
            break
        if p.poll() is not None:
            break
        time.sleep(0.1)
    os.unlink(pw.name)
    return p, out.name


def finish_bot(p, out):
    try:
        status = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        status = -9
    text = pathlib.Path(out).read_text()
    os.unlink(out)
    return status, text


# echo-bot answers xmppc-send (direct TLS) and notify (STARTTLS).
bot, out = run_bot("echo-bot", 1, 2)
rc, err = send(["--jid", jid(0), "--server", DIRECT, "--direct-tls", "--cafile", CA,
                "-m", "hello <bot> & co", jid(1)])
check(rc == 0, f"xmppc-send over direct TLS exits 0 ({err})")
env = {**E, "XMPP_JID": jid(2), "XMPP_PASS": E["XMPPC_TEST_PASSWORD"], "XMPP_TO": jid(1),
       "XMPP_SERVER": STARTTLS, "XMPP_CAFILE": CA}
r = subprocess.run([str(build / "examples/notify"), "nightly backup: OK"], env=env,
                   capture_output=True, text=True, timeout=60)
check(r.returncode == 0, f"notify exits 0 ({r.stderr.strip()})")
status, text = finish_bot(bot, out)
check(status == 0, f"echo-bot exits 0 after two echoes (status {status})")
check(f"echo: {jid(0)}/" in text and "hello <bot> & co" in text,
      "echo-bot saw xmppc-send's message intact")
check(f"echo: {jid(2)}/" in text and "nightly backup: OK" in text,
      "echo-bot saw notify's message")

# The epoll example does the same through the external-loop API.
bot, out = run_bot("epoll-client", 3, 1)
rc, err = send(["--jid", jid(0), "--server", STARTTLS, "--cafile", CA, jid(3)],
               stdin="from stdin\n")
check(rc == 0, f"xmppc-send reading standard input exits 0 ({err})")
status, text = finish_bot(bot, out)
check(status == 0 and "echo: " in text and "from stdin" in text,
      f"epoll-client echoed and exited cleanly (status {status})")

# Exit codes; every failure is one line on stderr.
errors = []
rc, err = send(["--jid", jid(0), "--server", STARTTLS, "--cafile", CA, "-m", "x", jid(1)],
               password="wrong")
errors.append(err)
check(rc == 5 and "not-authorized" in err, f"wrong password exits 5 ({err})")
rc, err = send(["--jid", f"alice@{E['XMPPC_TEST_BADCERT_DOMAIN']}", "--server", STARTTLS,
                "--cafile", CA, "-m", "x", jid(1)])
errors.append(err)
check(rc == 4 and "certificate" in err, f"wrong certificate name exits 4 ({err})")
rc, err = send(["--jid", jid(0), "--server", STARTTLS, "-m", "x", jid(1)])
errors.append(err)
check(rc == 4, f"unknown CA (system trust only) exits 4 ({err})")
rc, err = send(["--jid", jid(0), "--server", "127.0.0.1:1", "-m", "x", jid(1)])
errors.append(err)
check(rc == 3, f"closed port exits 3 ({err})")
rc, err = send(["-m", "x"])
errors.append(err)
check(rc == 2 and "no recipient" in err, f"no recipient exits 2 ({err})")
rc, err = send(["--jid", jid(0), "--server", STARTTLS, "--cafile", CA, "-m", "x", "not a jid@"])
errors.append(err)
check(rc == 2, f"invalid recipient exits 2 ({err})")
check(all(e and "\n" not in e for e in errors),
      "each failure printed exactly one line on stderr")

print(f"1..{count}")
sys.exit(1 if failures else 0)
