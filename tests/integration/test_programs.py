#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of the programs against the fixture's server:
echo-bot and epoll-client answer messages sent by xmppc-send and notify,
xmppc-send's exit codes mean what its usage says, and muc-bot talks with a
slixmpp occupant (python3-slixmpp) in a room.

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


# muc-bot in a room of XMPPC_TEST_MUC with a slixmpp occupant (Debian's
# python3-slixmpp: run this under /usr/bin/python3, as meson does).
MUC_ROOM = f"programs@{E['XMPPC_TEST_MUC']}"
MUC_STEP = 10.0  # seconds to wait for any one event


def start_muc_bot(user, nick, extra=()):
    """Starts muc-bot; returns (process, stdout file, stderr file)."""
    pw = tempfile.NamedTemporaryFile("w", delete=False)
    pw.write(E["XMPPC_TEST_PASSWORD"] + "\n")
    pw.close()
    out = tempfile.NamedTemporaryFile("w+", delete=False)
    err = tempfile.NamedTemporaryFile("w+", delete=False)
    args = ["--jid", jid(user), "--password-file", pw.name, "--server", STARTTLS,
            "--cafile", CA, "--room", MUC_ROOM, "--nick", nick] if user is not None else []
    p = subprocess.Popen([str(build / "examples/muc-bot"), *args, *extra],
                         stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                         env={**E, "XMPPC_PASSWORD": E["XMPPC_TEST_PASSWORD"]})
    p.pw_path = pw.name
    return p, out.name, err.name


def bot_lines(path):
    return pathlib.Path(path).read_text(encoding="utf-8", errors="replace").splitlines()


def end_muc_bot(p, out, err, sig=None):
    """Signals (if asked) and reaps muc-bot; returns (status, stdout lines,
    stderr lines, seconds it took to exit)."""
    start = time.monotonic()
    if sig is not None and p.poll() is None:
        p.send_signal(sig)
    try:
        status = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        status = -9
    took = time.monotonic() - start
    lines, errors = bot_lines(out), bot_lines(err)
    for f in (out, err, p.pw_path):
        os.unlink(f)
    return status, lines, errors, took


def muc_bot_tests():
    import asyncio
    import signal
    try:
        import slixmpp
    except ImportError as e:  # a missing dependency is a failure, not a skip
        check(False, f"python3-slixmpp for the muc-bot test ({e}); run with /usr/bin/python3")
        return

    class Peer(slixmpp.ClientXMPP):
        """A room occupant: records the room's presences and messages."""

        def __init__(self):
            super().__init__(f"{jid(0)}/muc-peer", E["XMPPC_TEST_PASSWORD"])
            self.register_plugin("xep_0030")
            self.register_plugin("xep_0045")
            self.ca_certs = pathlib.Path(CA)
            self.online = asyncio.Event()
            self.presences = []  # (nick, type, role, affiliation, status codes)
            self.messages = []   # (nick, type, body, delayed)
            self.add_event_handler("session_start", self.on_start)
            self.add_event_handler("groupchat_presence", self.on_presence)
            self.add_event_handler("message", self.on_message)  # groupchat too

        def on_start(self, _):
            self.send_presence()
            self.online.set()

        def on_presence(self, p):
            if p["from"].bare == MUC_ROOM:
                self.presences.append((p["from"].resource, p["type"], p["muc"]["role"],
                                       p["muc"]["affiliation"], p["muc"]["status_codes"]))

        def on_message(self, m):
            if m["from"].bare == MUC_ROOM and m["body"]:
                delayed = m.xml.find("{urn:xmpp:delay}delay") is not None
                self.messages.append((m["from"].resource, m["type"], m["body"], delayed))

        def said(self, nick, body=None, mtype="groupchat", delayed=False):
            return [m for m in self.messages if m[0] == nick and m[1] == mtype
                    and m[3] == delayed and (body is None or m[2] == body)]

        def presence_of(self, nick, ptype="available"):
            return [p for p in self.presences if p[0] == nick and p[1] == ptype]

        def join(self, nick):
            """Joins asking for history; slixmpp's join_muc_wait() prints
            to stdout (it would break the TAP output), so by hand."""
            p = self.make_presence(pto=f"{MUC_ROOM}/{nick}")
            p.enable("muc_join")
            p["muc_join"]["history"]["maxstanzas"] = "20"
            self["xep_0045"].rooms[MUC_ROOM] = {}
            self["xep_0045"].our_nicks[MUC_ROOM] = nick
            p.send()

        def say(self, text, to=None):
            if to:
                m = self.make_message(mto=f"{MUC_ROOM}/{to}", mbody=text, mtype="chat")
                m.enable("muc")  # XEP-0045 7.5: private messages carry muc#user
                m.send()
            else:
                self.send_message(mto=MUC_ROOM, mbody=text, mtype="groupchat")

    async def until(pred, timeout=MUC_STEP):
        end = time.monotonic() + timeout
        while True:
            v = pred()
            if v or time.monotonic() > end:
                return v
            await asyncio.sleep(0.05)

    def has_line(path, line):
        return lambda: line in bot_lines(path)

    async def run():
        peer = Peer()
        peer.connect((E["XMPPC_TEST_HOST"], int(E["XMPPC_TEST_PORT"])),
                     use_ssl=False, force_starttls=True)
        await asyncio.wait_for(peer.online.wait(), 20)
        bot = None
        try:
            # 1. The bot creates the room, accepts the default configuration
            # and greets.
            t0 = time.monotonic()
            bot, out, err = start_muc_bot(1, "muc-bot")
            joined = await until(has_line(out, "joined muc-bot"), 20)
            check(joined, f"muc-bot prints its own join ({bot_lines(out)} {bot_lines(err)})")
            greeted = await until(lambda: [ln for ln in bot_lines(out)
                                           if ln.startswith("<muc-bot> hello")])
            check(greeted, "muc-bot greets the room once joined (its own message, printed)")
            # 2. A second occupant: joining works only if the bot unlocked the
            # room it created; the bot is there, and its greeting is history.
            peer.join("peer")
            me = await until(lambda: [p for p in peer.presence_of("peer") if 110 in p[4]])
            check(me and 201 not in me[0][4],
                  f"slixmpp joins the room muc-bot created and configured ({me})")
            bot_p = peer.presence_of("muc-bot")
            check(bot_p and bot_p[0][2:4] == ("moderator", "owner"),
                  f"slixmpp sees muc-bot as moderator and owner ({bot_p})")
            hist = await until(lambda: [m for m in peer.said("muc-bot", delayed=True)
                                        if m[2].startswith("hello")])
            check(hist, "slixmpp gets muc-bot's greeting as room history")
            check(await until(has_line(out, "joined peer")), "muc-bot prints 'joined peer'")
            # 3. !echo, answered in the room.
            peer.say("!echo hi there")
            got = await until(lambda: peer.said("muc-bot", "hi there"))
            check(got, "muc-bot answers '!echo hi there' with 'hi there' in the room")
            check(await until(has_line(out, "<peer> !echo hi there")),
                  "muc-bot prints the command as '<peer> !echo hi there'")
            check(await until(has_line(out, "<muc-bot> hi there")),
                  "muc-bot prints its own answer as the room reflects it")
            # 4. The room's copy of its answer is never answered again.
            peer.say("!echo !echo loop")
            check(await until(lambda: peer.said("muc-bot", "!echo loop")),
                  "muc-bot answers '!echo !echo loop' with '!echo loop'")
            await asyncio.sleep(1.5)
            check(not peer.said("muc-bot", "loop"),
                  "muc-bot does not answer its own reflected '!echo loop'")
            # 5. One line per message, whatever the text.
            peer.say("plain <b>&amp;</b> Grüße 日本語\nline two")
            check(await until(has_line(out, "<peer> plain <b>&amp;</b> Grüße 日本語\\nline two")),
                  "muc-bot prints a UTF-8 two-line message with markup as one exact line")
            # 6. Private messages are answered privately.
            peer.say("!echo just us", to="muc-bot")
            got = await until(lambda: peer.said("muc-bot", "just us", mtype="chat"))
            check(got, "muc-bot answers a private '!echo just us' privately")
            check(has_line(out, "[private] <peer> !echo just us")(),
                  "muc-bot prints the private message marked [private]")
            check(not peer.said("muc-bot", "just us"), "... and not in the room")
            # 7. SIGTERM: the bot leaves (the room tells us) and exits 0.
            status, lines, errors, took = end_muc_bot(bot, out, err, signal.SIGTERM)
            bot = None
            gone = await until(lambda: peer.presence_of("muc-bot", "unavailable"))
            check(gone, "slixmpp sees muc-bot leave (unavailable presence) after SIGTERM")
            check(status == 0, f"muc-bot exits 0 after SIGTERM in {took:.1f} s "
                  f"(status {status}, stderr {errors})")
            check(lines[-1:] == ["left muc-bot"], f"muc-bot's last line is 'left muc-bot' ({lines[-1:]})")
            joins = [ln for ln in lines if ln.startswith(("joined ", "left "))]
            check(joins == ["joined muc-bot", "joined peer", "left muc-bot"],
                  f"exactly one line per join and leave ({joins})")
            note_lines("muc-bot", lines, time.monotonic() - t0)

            # 8. A second bot joins the existing room: history is printed as
            # such and never answered; SIGINT ends it cleanly as well.
            n_msgs = len(peer.messages)
            bot, out, err = start_muc_bot(2, "muc-bot-2", ["--history", "10"])
            check(await until(lambda: [ln for ln in bot_lines(out)
                                       if ln.startswith("<muc-bot-2> hello")], 20),
                  f"muc-bot-2 joins the existing room and greets ({bot_lines(err)})")
            lines = bot_lines(out)
            check("[history] <peer> !echo hi there" in lines
                  and "[history] <muc-bot> hi there" in lines,
                  "muc-bot-2 prints the room's history marked [history]")
            check("joined peer" in lines and "joined muc-bot-2" in lines
                  and lines.index("joined peer") < lines.index("joined muc-bot-2"),
                  "muc-bot-2 reports the occupant present, then its own join")
            await asyncio.sleep(1.5)
            answers = [m for m in peer.messages[n_msgs:]
                       if m[0] == "muc-bot-2" and not m[2].startswith("hello")]
            check(not answers, f"muc-bot-2 answers no command from the history ({answers})")
            status, lines, errors, took = end_muc_bot(bot, out, err, signal.SIGINT)
            bot = None
            check(await until(lambda: peer.presence_of("muc-bot-2", "unavailable")),
                  "slixmpp sees muc-bot-2 leave after SIGINT")
            check(status == 0 and lines[-1:] == ["left muc-bot-2"],
                  f"muc-bot-2 exits 0 after SIGINT in {took:.1f} s (status {status}, {errors})")

            # 9. A join refused (nick taken): one line on stderr, exit 1.
            bot, out, err = start_muc_bot(3, "peer")
            status, lines, errors, took = end_muc_bot(bot, out, err)
            bot = None
            check(status == 1 and len(errors) == 1 and "conflict" in errors[0],
                  f"a taken nick: muc-bot exits 1 with one line on stderr "
                  f"(status {status}, {errors}, {took:.1f} s)")
        finally:
            if bot is not None:
                end_muc_bot(bot, out, err, signal.SIGKILL)
            peer.disconnect()
            await asyncio.sleep(0.2)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(run(), 120))
    except Exception as e:  # noqa: BLE001 - reported as a failure
        check(False, f"muc-bot test finished without an exception ({type(e).__name__}: {e})")
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def note_lines(name, lines, seconds):
    print(f"# {name} printed ({seconds:.1f} s):", flush=True)
    for ln in lines:
        print(f"#   {ln}", flush=True)


muc_bot_tests()

# muc-bot's usage errors: one line on stderr, exit 2.
for args, what in ((["--nick", "x"], "no --room"), (["--room", MUC_ROOM], "no --nick"),
                   (["--room", "no-service", "--nick", "x", "--jid", jid(0)],
                    "a room JID without a service")):
    bot, out, err = start_muc_bot(None, None, args)
    status, _, errors, _ = end_muc_bot(bot, out, err)
    check(status == 2 and len(errors) == 1, f"muc-bot with {what} exits 2 ({status}, {errors})")

print(f"1..{count}")
sys.exit(1 if failures else 0)
