#!/usr/bin/python3
"""converse.py - run a program on a terminal and answer its prompts.

usage: converse.py [-a ANSWER]... -- PROGRAM [ARG...]

Runs PROGRAM (the real ssh client, su, ...) on a pseudo-terminal with
python3-pexpect, answers each prompt ending in "password: " or "code: "
with the next ANSWER, and prints the whole conversation (answers replaced
by "<answer N>") and the program's output.  Exits with the program's exit
status, or 90 when a prompt comes with no answer left, 91 on a timeout.

An ANSWER of "@totp:SECRET" is the current TOTP code of the base32 SECRET,
"@next:SECRET" the code of the next 30-second step (accepted too, and never
one already used in this step), and "@enroll" the current code of the "Key: ..." shown earlier in the
conversation, both from oathtool (an implementation independent of
rollcall's); the codes sent are shown as "<answer N: code NNNNNN>".
"""
import argparse
import re
import subprocess
import sys
import time

import pexpect

PROMPT = re.compile(rb"(?i)(password|code): ?$")


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def totp(secret, ahead=0):
    argv = ["oathtool", "--totp", "-b", secret]
    if ahead:
        argv.append("--now=@%d" % (int(time.time()) + ahead))
    out = subprocess.run(argv, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-a", "--answer", action="append", default=[])
    ap.add_argument("argv", nargs="+")
    a = ap.parse_args()

    child = pexpect.spawn(a.argv[0], a.argv[1:], timeout=60, echo=False)
    seen = b""
    answers = list(a.answer)
    n = 0
    status = 0
    try:
        while True:
            # a prompt, a whole line (shown as it comes), or the end
            i = child.expect([PROMPT, b"\n", pexpect.EOF])
            text = child.before + (child.after if i < 2 else b"")
            seen += text
            out(text.decode("utf-8", "replace").replace("\r", ""))
            if i == 1:
                continue
            if i == 2:
                break
            if not answers:
                out("\n[converse: no answer left for this prompt]\n")
                child.close(force=True)
                return 90
            ans = answers.pop(0)
            n += 1
            shown = None
            if ans.startswith("@totp:"):
                ans = shown = totp(ans[6:])
            elif ans.startswith("@next:"):
                ans = shown = totp(ans[6:], 30)
            elif ans == "@enroll":
                m = re.findall(rb"Key: ([A-Z2-7]+)", seen)
                if not m:
                    out("\n[converse: no Key: shown to enroll with]\n")
                    child.close(force=True)
                    return 90
                ans = shown = totp(m[-1].decode())
            child.sendline(ans)
            out("<answer %d%s>\n" % (n, ": code %s" % shown if shown else ""))
    except pexpect.TIMEOUT:
        out("\n[converse: timeout; last output: %r]\n" % child.before)
        child.close(force=True)
        return 91
    child.close()
    status = child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
