"""Before `pulumi up` on bare metal: does every host of the inventory answer over SSH, through its bastion, with the
key you will set as sshPrivateKey and the host key pinned for it? One line per host, saying why when it does not.

    python -m tools.check_hosts --stack metal --identity ~/.ssh/id_ed25519 [--config-file FILE] [--seconds 20]

It runs the same check as the update's `<host>-reachable` step (components/remote/scripts/wait-for-ssh.sh: a host
key other than the pinned one, a key the host refuses, or no answer), on every host at once, each bounded by
--seconds. Exit 0 when every host answers, 1 when one does not, 2 when the stack cannot be read.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from components.remote.ssh_read import wait_for_ssh_command  # noqa: E402
from components.settings import SettingsError, load_settings  # noqa: E402
from components.settings.inventory import InventoryHost  # noqa: E402
from tools.stack_file import StackFileError, read_stack_file  # noqa: E402

DEFAULT_SECONDS = 20


@dataclass(frozen=True)
class Answer:
    host: InventoryHost
    ok: bool
    said: str  # the check's own last line: where it answered from, or why not

    def line(self) -> str:
        roles = "+".join(self.host.roles)
        return f"{'ok  ' if self.ok else 'FAIL'} {self.host.name} ({roles}): {self.said}"


def check(host: InventoryHost, private_key: str, seconds: int) -> Answer:
    bastion = host.bastion
    proxy = (bastion.address, bastion.port, bastion.user, bastion.host_key) if bastion is not None else None
    script = wait_for_ssh_command(host.name, host.ssh.address, host.ssh.port, host.ssh.user, host.ssh.host_key,
                                  proxy, seconds, 0)
    try:
        done = subprocess.run(["bash", "-c", script], input=private_key, capture_output=True, text=True,
                              timeout=seconds + 90)
    except subprocess.TimeoutExpired:
        return Answer(host, False, f"no answer within {seconds + 90} s")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    # The check's verdict: its error (which quotes what ssh said, over several lines), or its last line.
    errors = [i for i, line in enumerate(lines) if "ERROR: " in line]
    said = " ".join(l.strip() for l in lines[errors[-1]:]) if errors else lines[-1] if lines else \
        f"exit {done.returncode}"
    # The script's log prefixes ("wait-for-ssh: ", "ERROR: ") say nothing a reader needs here.
    said = said.removeprefix("wait-for-ssh: ").removeprefix("ERROR: ")
    return Answer(host, done.returncode == 0, said)


def check_all(hosts: tuple[InventoryHost, ...], private_key: str, seconds: int) -> list[Answer]:
    with concurrent.futures.ThreadPoolExecutor(max(1, min(len(hosts), 32))) as pool:
        return list(pool.map(lambda h: check(h, private_key, seconds), hosts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.check_hosts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--config-file", type=Path, help="default: Pulumi.<stack>.yaml")
    parser.add_argument("--identity", type=Path, required=True,
                        help="the private key file you set (or will set) as sshPrivateKey")
    parser.add_argument("--seconds", type=int, default=DEFAULT_SECONDS, help="how long a host may take to answer")
    args = parser.parse_args(argv)
    path = args.config_file or PROJECT_DIR / f"Pulumi.{args.stack}.yaml"
    try:
        config = read_stack_file(path)
        settings = load_settings(config.values, config.secret_keys, args.stack)
        private_key = args.identity.expanduser().read_text()
    except (StackFileError, SettingsError, OSError) as error:
        print(f"cannot check the hosts of stack {args.stack!r}: {error}", file=sys.stderr)
        return 2
    if settings.infrastructure != "bareMetal":
        print(f"stack {args.stack!r} is on {settings.infrastructure}: its machines are made by pulumi up, which "
              f"waits for each (<host>-reachable); this check is for bare-metal inventories", file=sys.stderr)
        return 2
    answers = check_all(settings.inventory, private_key, args.seconds)
    for answer in answers:
        print(answer.line())
    failed = [a for a in answers if not a.ok]
    print(f"{len(answers) - len(failed)} of {len(answers)} hosts answer over SSH", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
