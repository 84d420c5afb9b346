#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Interoperability of libxmppc with a foreign client, python3-slixmpp
(Debian's), through the private Prosody of tests/fixtures/xmppc_fixture.py.

    interop_slixmpp.py TEST_INTEROP    (run under the fixture, prints TAP)

slixmpp is alice; bob is TEST_INTEROP (tests/integration/test-interop.c,
libxmppc's public API), driven through its stdin and reporting on its
stdout. Both verify the server's certificate with the fixture's CA.

  1. chat: alice sends UTF-8 text with markup characters, a receipt request
     and <active/>; bob reports text and state, answers the receipt request
     and echoes the text after <composing/> with <active/> and a receipt
     request of its own, which slixmpp answers; a standalone state follows;
  2. caps: each sends the other a directed presence with XEP-0115 caps;
     slixmpp's xep_0115 fetches bob's disco#info and accepts bob's ver only
     when its own hash of the answer matches; libxmppc reports alice's caps
     as verified (xmppc_caps_get_info()) with slixmpp's ver;
  3. subscription handshake, bob asking first, through libxmppc's roster
     API (raw presence and roster stanzas if test-interop was built without
     xmppc/roster.h; it says which): both rosters end with 'both', then
     presence flows both ways.
Before that, a slixmpp client without the fixture's CA must be refused.
"""
import asyncio
import base64
import hashlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from interop_common import (  # noqa: E402 - after the path is set
    ALICE, BOB, DOMAIN, PASSWORD, STEP, TEXT, USERS, AliceClient, Bob, check,
    connect_starttls, note, run, until)
import slixmpp  # noqa: E402 - interop_common bailed out without it


class Alice(AliceClient):
    def __init__(self):
        super().__init__(("xep_0030", "xep_0115", "xep_0184", "xep_0085"))
        # The server is verified with the fixture's CA only (AliceClient;
        # check_hostname and CERT_REQUIRED are slixmpp's defaults; asserted
        # below).
        self.tls_verified = False
        self.messages, self.states, self.receipts = [], [], []
        self.presences = []
        self.roster.auto_authorize = True   # approve bob's request
        self.roster.auto_subscribe = False  # ... without asking back: we do it
        self.add_event_handler("ssl_cert", self.on_cert)
        self.add_event_handler("message", lambda m: self.messages.append(m))
        self.add_event_handler("chatstate", lambda m: self.states.append(
            (str(m["from"]), m["chat_state"])))
        self.add_event_handler("receipt_received", lambda m: self.receipts.append(
            (str(m["from"]), m["receipt"])))
        for ev in ("presence_available", "presence_subscribe", "presence_subscribed"):
            self.add_event_handler(ev, lambda p, ev=ev: self.presences.append(
                (ev, str(p["from"]), p)))

    def on_cert(self, pem):
        self.tls_verified = True  # only reached after the handshake verified

    async def on_start(self, _):
        await self.get_roster()
        # Our caps ver, so the outgoing presence filter adds <c/>.
        await self["xep_0115"].update_caps(broadcast=False)
        self.send_presence()
        self.online.set()


def verstring(info):
    """XEP-0115 §5.1 over slixmpp's parsed disco#info (our own
    computation, to cross-check slixmpp's)."""
    s = ""
    for cat, typ, lang, name in sorted(
            info.get_identities(dedupe=False),
            key=lambda i: (i[0], i[1], i[2] or "", i[3] or "")):
        s += f"{cat}/{typ}/{lang or ''}/{name or ''}<"
    for f in sorted(info.get_features(dedupe=False)):
        s += f + "<"
    forms = []
    for form in info["substanzas"]:
        fields = form.get_fields() if hasattr(form, "get_fields") else {}
        if "FORM_TYPE" not in fields:
            continue
        ft = fields["FORM_TYPE"]["value"]
        ft = ft[0] if isinstance(ft, list) else ft
        part = ft + "<"
        for var in sorted(v for v in fields if v != "FORM_TYPE"):
            vals = fields[var]["value"]
            vals = vals if isinstance(vals, list) else [vals]
            part += var + "<" + "".join(str(v) + "<" for v in sorted(str(x) for x in vals))
        forms.append((ft, part))
    for _, part in sorted(forms):
        s += part
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


async def chat(alice, bob, bob_full):
    alice_full = str(alice.boundjid)
    msg = alice.make_message(mto=BOB, mbody=TEXT, mtype="chat")
    msg["request_receipt"] = True
    msg["chat_state"] = "active"
    msg_id = msg["id"] = alice.new_id()
    msg.send()
    got = await bob.wait("message")
    check(got and got[1] == alice_full, "libxmppc receives slixmpp's chat message")
    check(got and bytes.fromhex(got[2]).decode() == TEXT,
          "the UTF-8/markup text arrives unchanged in libxmppc")
    check(await bob.wait("state", alice_full, "active"),
          "libxmppc sees slixmpp's <active/> on the message")
    await until(lambda: alice.receipts)
    check(alice.receipts[:1] == [(bob_full, msg_id)],
          f"slixmpp gets libxmppc's receipt for its message ({alice.receipts})")

    echoes = await until(lambda: [m for m in alice.messages
                                  if m["body"] and str(m["from"]) == bob_full])
    check(len(echoes) == 1 and echoes[0]["body"] == TEXT,
          "slixmpp receives the echo with the exact text")
    echo = echoes[0] if echoes else None
    check(echo is not None and echo["type"] == "chat", "the echo is a chat message")
    check(echo is not None and echo["chat_state"] == "active",
          "slixmpp's xep_0085 sees <active/> on the echo")
    check(echo is not None and echo["request_receipt"],
          "the echo requests a receipt (XEP-0184)")
    states = [s for f, s in alice.states if f == bob_full]
    check(states[:2] == ["composing", "active"],
          f"slixmpp sees composing before the echo's active ({states})")
    echoed = bob.find("echoed")
    check(echoed and echo is not None and echo["id"] == echoed[1],
          "the echo carries the id libxmppc reported")
    got = await bob.wait("receipt")
    check(got and echoed and got[1:] == [alice_full, echoed[1]],
          "libxmppc gets slixmpp's automatic receipt for the echo")

    bob.send(f"state {alice_full} paused")
    ok = await until(lambda: ("paused" in [s for f, s in alice.states if f == bob_full]))
    check(ok, "slixmpp sees a standalone <paused/> from libxmppc")


async def caps(alice, bob, bob_full, bob_node, bob_ver):
    alice_full = str(alice.boundjid)
    xep115 = alice["xep_0115"]
    alice_ver = await xep115.get_verstring(alice_full)
    check(bool(alice_ver), f"slixmpp computed its own ver ({alice_ver})")

    # alice -> bob: libxmppc verifies slixmpp's caps.
    alice.send_presence(pto=bob_full)
    got = await bob.wait("caps", alice_full)
    check(got and got[2] == alice_ver,
          f"libxmppc verified slixmpp's caps ver {alice_ver} (xmppc_caps_get_info)")
    check(got and got[4] == "1", "the verified info has slixmpp's urn:xmpp:receipts")

    # bob -> alice: slixmpp verifies libxmppc's caps.
    bob.send(f"presence {alice_full}")
    pres = await until(lambda: [p for ev, f, p in alice.presences
                                if ev == "presence_available" and f == bob_full
                                and p["caps"]["ver"]])
    check(bool(pres), "slixmpp receives libxmppc's presence with caps")
    if pres:
        c = pres[-1]["caps"]
        check((c["hash"], c["node"], c["ver"]) == ("sha-1", bob_node, bob_ver),
              f"the caps are hash='sha-1' node='{bob_node}' ver='{bob_ver}'")
    # slixmpp assigns the ver to bob only after _validate_caps() matched its
    # own hash of bob's disco#info answer.
    assigned = None

    async def poll():
        nonlocal assigned
        assigned = await xep115.get_verstring(bob_full)
        return assigned == bob_ver
    end = asyncio.get_running_loop().time() + STEP
    while not await poll() and asyncio.get_running_loop().time() < end:
        await asyncio.sleep(0.05)
    check(assigned == bob_ver, f"slixmpp verified libxmppc's ver ({assigned})")
    cached = await xep115.get_caps(verstring=bob_ver)
    feats = sorted(cached.get_features()) if cached is not None else None
    note(f"bob's features in slixmpp's cache: {feats}")
    # And once more by hand, from a fresh disco#info query at node#ver.
    iq = await alice["xep_0030"].get_info(jid=bob_full, node=f"{bob_node}#{bob_ver}",
                                           cached=False, timeout=STEP)
    info = iq["disco_info"]
    check(feats is not None and feats == sorted(info.get_features()),
          "slixmpp's caps cache holds libxmppc's info under that ver")
    # XEP-0184 §6 / XEP-0085: an entity that answers receipt requests and
    # sends chat states advertises them (this test found it missing once).
    for ns in ("urn:xmpp:receipts", "http://jabber.org/protocol/chatstates"):
        check(ns in info.get_features(),
              f"libxmppc advertises {ns} in its disco info (caps)")
    check(alice["xep_0115"].generate_verstring(info, "sha-1") == bob_ver,
          "slixmpp's generate_verstring of bob's disco info equals bob's ver")
    check(verstring(info) == bob_ver, "an independent §5.1 hash agrees too")


async def subscription(alice, bob, bob_full):
    alice_full = str(alice.boundjid)
    # bob asks; slixmpp (auto_authorize) approves.
    bob.send(f"subscribe {ALICE}")
    got = await until(lambda: [p for ev, f, p in alice.presences
                               if ev == "presence_subscribe" and f == BOB])
    check(bool(got), "slixmpp receives libxmppc's <presence type='subscribe'/>")
    check(await bob.wait("roster-item", ALICE, "to"),
          "libxmppc's roster has alice as 'to' after slixmpp's approval")
    # alice asks; bob approves.
    alice.send_presence_subscription(pto=BOB, ptype="subscribe")
    check(await bob.wait("sub-request", ALICE),
          "libxmppc reports slixmpp's subscription request")
    bob.send(f"subscribed {ALICE}")
    got = await until(lambda: [p for ev, f, p in alice.presences
                               if ev == "presence_subscribed" and f == BOB])
    check(bool(got), "slixmpp receives libxmppc's approval (subscribed)")
    ok = await until(lambda: alice.client_roster[BOB]["subscription"] == "both")
    check(ok, "slixmpp's roster has bob with subscription 'both' "
              f"({alice.client_roster[BOB]['subscription']})")
    check(await bob.wait("roster-item", ALICE, "both"),
          "libxmppc's roster has alice as 'both'")
    # Mutual presence through the subscription: bob broadcasts, alice too.
    n = len([1 for ev, f, _ in alice.presences if ev == "presence_available" and f == bob_full])
    bob.send("presence")
    ok = await until(lambda: len([1 for ev, f, _ in alice.presences
                                  if ev == "presence_available" and f == bob_full]) > n)
    check(ok, "slixmpp receives libxmppc's broadcast presence (subscription 'from')")
    seen = sum(1 for ev in bob.events if ev[:2] == ["presence", alice_full])
    alice.send_presence()
    ok = await until(lambda: sum(1 for ev in bob.events
                                 if ev[:2] == ["presence", alice_full]) > seen)
    check(ok, "libxmppc receives slixmpp's broadcast presence (subscription 'to')")


async def untrusted_refused():
    """slixmpp without the fixture's CA (system trust store only) must
    refuse the server: verification is really on."""
    c = slixmpp.ClientXMPP(f"{USERS[2]}@{DOMAIN}/untrusted", PASSWORD)
    outcome = asyncio.get_running_loop().create_future()
    for ev in ("ssl_invalid_chain", "session_start"):
        c.add_event_handler(ev, lambda _, ev=ev: outcome.done() or outcome.set_result(ev))
    connect_starttls(c)
    try:
        got = await asyncio.wait_for(outcome, STEP)
    except asyncio.TimeoutError:
        got = "nothing"
    check(got == "ssl_invalid_chain",
          f"slixmpp without the fixture CA refuses the server ({got})")
    c.disconnect()
    c.abort()


async def main():
    await untrusted_refused()
    alice = Alice()
    check(alice.ssl_context.verify_mode == __import__("ssl").CERT_REQUIRED
          and alice.ssl_context.check_hostname,
          "slixmpp verifies the certificate and its host name")
    connect_starttls(alice)
    bob = Bob("--jid", BOB, "--peer", ALICE, "--echo")
    try:
        await asyncio.wait_for(alice.online.wait(), 20)
        check(alice.tls_verified, f"slixmpp online over verified STARTTLS as {alice.boundjid}")
        await bob.start()
        ready = await bob.wait("ready", timeout=20)
        if not check(bool(ready), "libxmppc online over verified STARTTLS"):
            raise RuntimeError("bob did not come online")
        _, bob_full, bob_node, bob_ver = ready
        mode = bob.find("mode")
        note(f"libxmppc side: subscriptions and roster via "
             f"{'xmppc/roster.h' if mode and mode[1] == 'api' else 'raw stanzas'}")
        roster = await bob.wait("roster")
        check(roster and roster[1] == "0", f"libxmppc fetched its (empty) roster ({roster})")
        await chat(alice, bob, bob_full)
        await caps(alice, bob, bob_full, bob_node, bob_ver)
        await subscription(alice, bob, bob_full)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        check(False, f"no exception ({type(e).__name__}: {e})")
    finally:
        await bob.finish()
        await alice.disconnect_cleanly()


run(main)
