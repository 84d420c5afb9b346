#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Multi-User Chat (XEP-0045) interoperability of libxmppc with a foreign
client, python3-slixmpp (Debian's, plugin xep_0045), in one room of the
private Prosody of tests/fixtures/xmppc_fixture.py.

    interop_muc_slixmpp.py TEST_INTEROP_MUC    (run under the fixture, prints TAP)

slixmpp is alice, nick "Zoë (slixmpp)"; bob is TEST_INTEROP_MUC
(tests/integration/test-interop-muc.c, libxmppc's public API), nick
"Bób xmppc", driven through its stdin and reporting on its stdout.

  1. alice creates the room (accepting the default configuration) and
     says something before bob comes;
  2. bob joins: each sees the other as occupant with nick, role and
     affiliation; bob gets alice's message as history, and the room's
     (empty) subject;
  3. groupchat messages both ways (UTF-8 and markup characters); bob sees
     his own message reflected;
  4. a private message each way;
  5. alice changes the subject and bob reports it; bob (a participant)
     tries too: either the room refuses (forbidden) or alice sees it;
  6. bob leaves: alice sees the unavailable presence with bob's status;
     bob's room is left and empty and refuses messages.
"""
import asyncio
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from interop_common import (  # noqa: E402 - after the path is set
    BOB, E, STEP, TEXT, AliceClient, Bob, check, connect_starttls, note, run,
    until)

ROOM = f"interop@{E['XMPPC_TEST_MUC']}"
ALICE_NICK, BOB_NICK = "Zoë (slixmpp)", "Bób xmppc"
NS_USER = "http://jabber.org/protocol/muc#user"
EARLY = "said before bob came: <history> & 'more'"
REPLY = "Antwort von libxmppc: <i>kursiv</i> & \"zitiert\" — ✓ 中文"
PM_TO_BOB = "privately to bob: <secret> & ünïcödé"
PM_TO_ALICE = "privately to alice: </body> &amp; ☃"
SUBJECT = "Topic: <Grüße> & 'subjects' 🎉"
BOB_SUBJECT = "bob's topic <&>"


def h(text):
    return text.encode().hex()


def unh(text):
    return None if text == "-" else bytes.fromhex(text).decode()


class Alice(AliceClient):
    def __init__(self):
        super().__init__(("xep_0030", "xep_0004", "xep_0045"))
        self.presences = []  # the room's presence stanzas
        self.messages = []   # messages from the room or its occupants
        self.subjects = []   # (nick, subject)
        self.add_event_handler("groupchat_presence", self.on_presence)
        self.add_event_handler("message", self.on_message)  # groupchat too
        self.add_event_handler("groupchat_subject", lambda m: self.subjects.append(
            (m["from"].resource, m["subject"])))

    def on_start(self, _):
        self.send_presence()
        self.online.set()

    def on_presence(self, p):
        if p["from"].bare == ROOM:
            self.presences.append(p)

    def on_message(self, m):
        if m["from"].bare == ROOM and m["body"]:
            self.messages.append(m)

    def presence_of(self, nick, ptype="available"):
        return [p for p in self.presences
                if p["from"].resource == nick and p["type"] == ptype]

    def from_bob(self, mtype, body=None):
        return [m for m in self.messages if m["from"].resource == BOB_NICK
                and m["type"] == mtype and (body is None or m["body"] == body)]

    async def join(self):
        """Joins by hand: slixmpp's join_muc_wait() prints to stdout (it
        would break the TAP output). Returns our own presence."""
        p = self.make_presence(pto=f"{ROOM}/{ALICE_NICK}")
        p.enable("muc_join")
        p["muc_join"]["history"]["maxstanzas"] = "0"
        self["xep_0045"].rooms[ROOM] = {}
        self["xep_0045"].our_nicks[ROOM] = ALICE_NICK
        p.send()
        own = await until(lambda: [p for p in self.presence_of(ALICE_NICK)
                                   if 110 in p["muc"]["status_codes"]])
        return own[0] if own else None


async def exchange(alice, bob, bob_full):
    # 1. alice creates the room and says something before bob comes.
    own = await alice.join()
    if not check(own is not None, f"slixmpp joins {ROOM} as '{ALICE_NICK}'"):
        raise RuntimeError("slixmpp could not join")
    if 201 in own["muc"]["status_codes"]:
        form = alice["xep_0004"].make_form(ftype="submit")
        await alice["xep_0045"].set_room_config(ROOM, form, timeout=STEP)
        note("slixmpp created the room and accepted the default configuration")
    alice.send_message(mto=ROOM, mbody=EARLY, mtype="groupchat")
    check(await until(lambda: [m for m in alice.messages if m["body"] == EARLY]),
          "slixmpp's message before bob joins comes back from the room")

    # 2. bob joins.
    bob.send("join")
    joined = await bob.wait("joined")
    if not check(joined is not None, f"libxmppc joins the room as '{BOB_NICK}' ({joined})"):
        raise RuntimeError("libxmppc could not join")
    check(joined[1] == "0", "libxmppc: the room existed (not new)")
    alice_ev = bob.find("occupant-joined", h(ALICE_NICK))
    check(alice_ev is not None and alice_ev[2:5] == ["moderator", "owner", "0"],
          f"libxmppc sees slixmpp as occupant '{ALICE_NICK}', moderator, owner ({alice_ev})")
    check(alice_ev is not None and alice_ev[5] == "-",
          "libxmppc (a participant) is not shown slixmpp's real JID (semi-anonymous room)")
    self_ev = bob.find("occupant-joined", h(BOB_NICK))
    check(self_ev is not None and self_ev[2:5] == ["participant", "none", "1"],
          f"libxmppc reports its own occupant: participant, no affiliation, self ({self_ev})")
    i_alice, i_joined = bob.index("occupant-joined", h(ALICE_NICK)), bob.index("joined")
    check(i_alice is not None and i_alice < i_joined,
          "libxmppc reports the occupant present before its join completes")
    occ = await bob.ask("occupants", "occupants")
    items = sorted(occ[2:]) if occ else None
    expect = sorted([f"{h(ALICE_NICK)}:moderator:owner:0", f"{h(BOB_NICK)}:participant:none:1"])
    check(occ is not None and occ[1] == "2" and items == expect,
          f"libxmppc's occupant list has both, with roles and affiliations ({occ})")
    hist = await bob.wait("message", h(ALICE_NICK), "delayed", h(EARLY))
    check(hist is not None, "libxmppc gets slixmpp's earlier message as history (delayed)")
    subj = await bob.ask("subject", "current-subject")
    check(subj is not None and subj[1] == "",
          f"libxmppc's subject after joining a room without one is \"\" ({subj})")

    pres = await until(lambda: alice.presence_of(BOB_NICK))
    check(bool(pres), f"slixmpp sees libxmppc join as '{BOB_NICK}'")
    if pres:
        m = pres[0]["muc"]
        check((m["role"], m["affiliation"]) == ("participant", "none"),
              f"slixmpp sees libxmppc as participant, no affiliation ({m['role']}, {m['affiliation']})")
        check(str(m["jid"]) == bob_full,
              f"slixmpp (a moderator) sees libxmppc's real JID {bob_full} ({m['jid']})")
    check(BOB_NICK in alice["xep_0045"].get_roster(ROOM),
          "slixmpp's xep_0045 roster of the room lists libxmppc")

    # 3. Groupchat both ways.
    alice.send_message(mto=ROOM, mbody=TEXT, mtype="groupchat")
    got = await bob.wait("message", h(ALICE_NICK), "-")
    check(got is not None and unh(got[3]) == TEXT,
          "libxmppc receives slixmpp's groupchat message, UTF-8 and markup intact")
    bob.send(f"say {h(REPLY)}")
    got = await until(lambda: alice.from_bob("groupchat"))
    check(got and got[0]["body"] == REPLY,
          "slixmpp receives libxmppc's groupchat message, UTF-8 and markup intact")
    check(await bob.wait("message", h(BOB_NICK), "own", h(REPLY)),
          "libxmppc sees its own message reflected (flag own)")

    # 4. Private messages both ways.
    pm = alice.make_message(mto=f"{ROOM}/{BOB_NICK}", mbody=PM_TO_BOB, mtype="chat")
    pm.enable("muc")  # XEP-0045 7.5
    pm.send()
    got = await bob.wait("message", h(ALICE_NICK), "private")
    check(got is not None and unh(got[3]) == PM_TO_BOB,
          "libxmppc receives slixmpp's private message (flag private), text intact")
    bob.send(f"private {h(ALICE_NICK)} {h(PM_TO_ALICE)}")
    got = await until(lambda: alice.from_bob("chat"))
    check(got and got[0]["body"] == PM_TO_ALICE,
          "slixmpp receives libxmppc's private message (type chat, from the occupant JID)")
    check(got and got[0].xml.find(f"{{{NS_USER}}}x") is not None,
          "the private message carries a muc#user element")
    check(not alice.from_bob("groupchat", PM_TO_ALICE), "... and it did not go to the room")

    # 5. Subject: alice (moderator) sets it, libxmppc reports it.
    alice["xep_0045"].set_subject(ROOM, SUBJECT)
    got = await bob.wait("subject", h(ALICE_NICK))
    check(got is not None and unh(got[2]) == SUBJECT,
          f"libxmppc reports slixmpp's subject change with its nick as actor ({got})")
    subj = await bob.ask("subject", "current-subject")
    check(subj is not None and unh(subj[1]) == SUBJECT,
          "xmppc_muc_room_get_subject() returns the new subject")
    # bob, a participant, tries; Prosody's default lets only moderators.
    n = len(alice.subjects)
    bob.send(f"set-subject {h(BOB_SUBJECT)}")
    outcome = await until(lambda: bob.find("done", "set-subject") or bob.find("failed", "set-subject"))
    await asyncio.sleep(0.3)
    seen = [s for nick, s in alice.subjects[n:] if s == BOB_SUBJECT]
    if outcome and outcome[0] == "failed":
        check(outcome[2] == "forbidden" and not seen,
              f"libxmppc's subject change as participant is refused: forbidden ({outcome})")
        subj = await bob.ask("subject", "current-subject")
        check(subj is not None and unh(subj[1]) == SUBJECT, "... and the subject is unchanged")
    else:
        check(outcome is not None and seen,
              f"libxmppc's subject change succeeds and slixmpp sees it ({outcome})")

    # 6. bob leaves.
    bob.send("leave")
    check(await bob.wait("done", "leave"), "libxmppc's leave completes")
    left = await bob.wait("occupant-left", h(BOB_NICK))
    check(left is not None and left[4:6] == ["1", "participant"],
          f"libxmppc reports its own departure: self, old role participant ({left})")
    gone = await until(lambda: alice.presence_of(BOB_NICK, "unavailable"))
    check(bool(gone), "slixmpp sees libxmppc leave (unavailable presence)")
    check(gone and gone[0]["status"] == "bye",
          f"... with libxmppc's status text ({gone[0]['status'] if gone else None})")
    check(BOB_NICK not in alice["xep_0045"].get_roster(ROOM),
          "slixmpp's roster of the room no longer lists libxmppc")
    st = await bob.ask("state", "room-state")
    check(st is not None and st[1] == "left", f"libxmppc's room is left ({st})")
    occ = await bob.ask("occupants", "occupants")
    check(occ is not None and occ[1] == "0", f"libxmppc's occupant list is emptied ({occ})")
    got = await bob.ask(f"say {h('too late')}", "refused")
    check(got is not None and got[1:] == ["say", "XMPPC_ESTATE"],
          f"libxmppc refuses to send to a room it left ({got})")
    await asyncio.sleep(0.3)
    check(not alice.from_bob("groupchat", "too late"), "nothing reached the room after leaving")


async def main():
    alice = Alice()
    connect_starttls(alice)
    bob = Bob("--jid", BOB, "--room", ROOM, "--nick", BOB_NICK, "--history", "5")
    try:
        await asyncio.wait_for(alice.online.wait(), 20)
        check(True, f"slixmpp online as {alice.boundjid}")
        await bob.start()
        ready = await bob.wait("ready", timeout=20)
        if not check(bool(ready), "libxmppc online"):
            raise RuntimeError("bob did not come online")
        await exchange(alice, bob, ready[1])
    except Exception as e:  # noqa: BLE001 - reported as a failure
        check(False, f"no exception ({type(e).__name__}: {e})")
    finally:
        await bob.finish()
        if ROOM in alice["xep_0045"].rooms:
            alice["xep_0045"].leave_muc(ROOM, ALICE_NICK)
        await alice.disconnect_cleanly(report_success=False)


run(main)
