#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The test-server fixture cleans up after itself and fails loudly.

  1. The command's exit status is passed through, and afterwards the
     server process is gone and its directory removed.
  2. When the fixture is interrupted (SIGTERM, as meson sends on timeout),
     it still stops the server and removes its files.
  3. A server that cannot start makes the fixture exit 99 (meson's hard
     error) with a readable message; it is never reported as a skip.
"""
import os
import pathlib
import subprocess
import sys
import tempfile

FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "xmppc_fixture.py"
SERVER = sys.argv[1] if len(sys.argv) > 1 else "prosody"
failures = []


def check(cond, what):
    print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
    if not cond:
        failures.append(what)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of ours would still answer; check its state.
    stat = pathlib.Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def server_pids(workdir):
    """PIDs of processes whose command line mentions the server's workdir."""
    pids = []
    for d in pathlib.Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if workdir.encode() in (d / "cmdline").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


def run_fixture(script, env=None, timeout=180):
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "out"
        cmd = [sys.executable, str(FIXTURE), "run", "--server", SERVER, "--",
               "bash", "-c", script, "inner", str(out)]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        info = out.read_text().split() if out.exists() else []
        return r, info


# Records the workdir and the PIDs serving it, then does what the case asks.
RECORD = 'echo "$XMPPC_TEST_WORKDIR $(pgrep -f "$XMPPC_TEST_WORKDIR" | tr "\\n" " ")" > "$1"; '

r, info = run_fixture(RECORD + "exit 3")
check(r.returncode == 3, f"command status 3 passed through (got {r.returncode})")
check(len(info) >= 2, f"server processes were found while it ran ({info})")
if info:
    workdir = info[0]
    check(not os.path.exists(workdir), "server directory removed after the run")
    check(not any(alive(int(p)) for p in info[1:]), "server processes gone after the run")
    check("server log tail" in r.stderr, "a failing command gets the server log tail")

r, info = run_fixture(RECORD + "kill -TERM $PPID; sleep 30")
check(r.returncode == 143, f"interrupted fixture exits 143 (got {r.returncode})")
if info:
    check(not os.path.exists(info[0]), "server directory removed after an interrupt")
    check(not any(alive(int(p)) for p in info[1:]), "server processes gone after an interrupt")
    check(not server_pids(info[0]), "nothing mentions the directory any more")

if SERVER == "prosody":
    # Through the command line: a server binary that cannot start.
    # (The ejabberd backend runs the system's ejabberdctl from a fixed PATH.)
    with tempfile.TemporaryDirectory() as fake_bin:
        p = pathlib.Path(fake_bin) / "prosody"
        p.write_text("#!/bin/sh\necho 'simulated start failure' >&2\nexit 1\n")
        p.chmod(0o755)
        env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
        r, info = run_fixture(RECORD + "exit 0", env=env)
        check(r.returncode == 99, f"a server that cannot start gives exit 99 (got {r.returncode})")
        check("FIXTURE FAILURE" in r.stderr and "simulated start failure" in r.stderr,
              "the failure is reported loudly, with the server's output")
        check(not info, "the test command did not run")

# Through the backend: a client port already taken by someone else is a
# start failure with a readable reason, and nothing is left running.
sys.path.insert(0, str(FIXTURE.parent))
import xmppc_fixture  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    certs = xmppc_fixture.make_certificates(tmp / "certs", ["localhost"], "wrong.invalid")
    blocker = xmppc_fixture.socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    busy = blocker.getsockname()[1]
    c2s_free, tls, http, dist = xmppc_fixture.free_ports(4)
    workdir = tmp / "server"
    workdir.mkdir()
    common = dict(domain="localhost", domain2="xmppc.test", muc_domain="conference.localhost",
                  ca_pem=certs["ca"], c2s_port=busy, direct_tls_port=tls, log=lambda m: None)
    if SERVER == "prosody":
        import prosody_backend as backend
        server = backend.ProsodyServer(workdir, cert=certs["cert"], key=certs["key"], **common)
        server.set_accounts(["alice"], "pw")
    else:
        import ejabberd_backend as backend
        server = backend.EjabberdServer(workdir, cert_pem=certs["combined"], http_port=http,
                                        dist_port=dist, **common)
    try:
        server.start()
        check(False, f"start with client port {busy} taken raises an error")
    except backend.FixtureError as e:
        first = str(e).splitlines()[0]
        check(True, f"start with client port {busy} taken raises: {first}")
        check(str(busy) in str(e), "the error names the port")
    finally:
        server.stop()
        blocker.close()
    check(not server_pids(str(workdir)), "nothing of that server is left running")

print(f"fixture self-test ({SERVER}): {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
