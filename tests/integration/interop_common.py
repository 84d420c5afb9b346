# SPDX-License-Identifier: MIT
"""What the interoperability tests with python3-slixmpp share
(interop_slixmpp.py, interop_muc_slixmpp.py; each is run as

    SCRIPT PROGRAM    (under tests/fixtures/xmppc_fixture.py, prints TAP)

and imports this module): the fixture's environment, TAP output, alice's
slixmpp client verifying the server with the fixture's CA, and bob,
PROGRAM (libxmppc's side) as a child process driven through its stdin and
reporting on its stdout, one event a line.
"""
import asyncio
import logging
import os
import pathlib
import sys

try:
    import slixmpp
except ImportError as e:  # a missing dependency is a failure, not a skip
    print(f"Bail out! python3-slixmpp is needed ({e}); run with /usr/bin/python3")
    sys.exit(1)

PROGRAM = sys.argv[1]
E = os.environ
USERS = E["XMPPC_TEST_USERS"].split()
DOMAIN, CA, PASSWORD = E["XMPPC_TEST_DOMAIN"], E["XMPPC_TEST_CA"], E["XMPPC_TEST_PASSWORD"]
HOST, PORT = E["XMPPC_TEST_HOST"], int(E["XMPPC_TEST_PORT"])
ALICE, BOB = f"{USERS[0]}@{DOMAIN}", f"{USERS[1]}@{DOMAIN}"
TEXT = "Grüße, <b>bold</b> & 'single' \"double\" ]]> 日本語 🎉\n\tsecond line"
STEP = 10.0  # seconds to wait for any one event

failures = []
count = 0


def check(cond, what, todo=None):
    """One TAP line; a failed check fails the run unless marked TODO."""
    global count
    count += 1
    what = what.replace("#", " ")  # '#' starts a TAP directive
    mark = f" # TODO {todo}" if todo else ""
    print(f"{'ok' if cond else 'not ok'} {count} - {what}{mark}", flush=True)
    if not cond and not todo:
        failures.append(what)
    return cond


def note(text):
    for line in str(text).splitlines():
        print(f"# {line}", flush=True)


async def until(pred, timeout=STEP):
    """Waits until pred() is true; returns its last value."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        v = pred()
        if v or loop.time() > end:
            return v
        await asyncio.sleep(0.05)


class Bob:
    """PROGRAM with these arguments as a subprocess: commands in, events
    out (each a list of words)."""

    def __init__(self, *args):
        self.args = args
        self.proc = None
        self.events = []
        self.reader = None

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            PROGRAM, *self.args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\n")
            if text.startswith("#"):
                print(text, flush=True)
                continue
            note(f"bob: {text}")
            self.events.append(text.split(" "))

    def find_all(self, *prefix):
        return [ev for ev in self.events if tuple(ev[:len(prefix)]) == prefix]

    def find(self, *prefix):
        found = self.find_all(*prefix)
        return found[0] if found else None

    def index(self, *prefix):
        for i, ev in enumerate(self.events):
            if tuple(ev[:len(prefix)]) == prefix:
                return i
        return None

    async def wait(self, *prefix, timeout=STEP):
        return await until(lambda: self.find(*prefix), timeout)

    async def ask(self, line, *prefix):
        """Sends a command and waits for its answer after this point."""
        start = len(self.events)
        self.send(line)
        return await until(lambda: next((ev for ev in self.events[start:]
                                         if tuple(ev[:len(prefix)]) == prefix), None))

    def send(self, line):
        note(f"to bob: {line}")
        self.proc.stdin.write((line + "\n").encode())

    async def stop(self):
        if self.proc.returncode is None:
            try:
                self.send("quit")
                await self.proc.stdin.drain()
                self.proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self.reader:
            await asyncio.wait_for(self.reader, 5)
        return self.proc.returncode

    async def finish(self):
        """Stops the program if it was started; checks that it said bye
        with exit status 0 and reported no errors before."""
        errors = [" ".join(ev) for ev in self.events if ev[0] == "error"]
        if self.proc:
            rc = await self.stop()
            check(rc == 0 and self.find("bye"), f"libxmppc disconnects cleanly (exit {rc})")
        check(not errors, f"libxmppc reported no errors {errors}")


def connect_starttls(client):
    """Connects a slixmpp client to the fixture's server over STARTTLS."""
    client.connect((HOST, PORT), use_ssl=False, force_starttls=True)


class AliceClient(slixmpp.ClientXMPP):
    """alice as a slixmpp client with these plugins, verifying the server
    with the fixture's CA only. The subclass's on_start() handles
    session_start and sets online; gone is set once disconnected."""

    def __init__(self, plugins):
        super().__init__(f"{ALICE}/slixmpp", PASSWORD)
        for plugin in plugins:
            self.register_plugin(plugin)
        self.ca_certs = pathlib.Path(CA)  # the fixture's CA only
        self.online = asyncio.Event()
        self.gone = asyncio.Event()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("disconnected", lambda _: self.gone.set())

    async def disconnect_cleanly(self, report_success=True):
        """Disconnects; a failed check if that takes over 10 s, a passed
        one otherwise if report_success."""
        self.disconnect()
        try:
            await asyncio.wait_for(self.gone.wait(), 10)
            if report_success:
                check(True, "slixmpp disconnects cleanly")
        except asyncio.TimeoutError:
            check(False, "slixmpp disconnects cleanly")


def run(main):
    """Runs the coroutine main() (at most 55 s), then prints the TAP plan
    and exits: status 1 if a check failed."""
    logging.basicConfig(level=logging.DEBUG if E.get("XMPPC_TEST_TRACE") else logging.ERROR,
                        format="# %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(main(), 55))
    except asyncio.TimeoutError:
        check(False, "the whole exchange finishes within 55 s")
    # slixmpp leaves tasks behind (its filters); end them quietly.
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    print(f"1..{count}", flush=True)
    if failures:
        print(f"# {len(failures)} failed: {failures}", flush=True)
    sys.exit(1 if failures else 0)
