"""Stand-in for the `command` provider plugin (remote:Command, local:Command), for the engine tests.

The real plugin's Go module (github.com/pulumi/pulumi-command/provider, or the root module since May 2026) is
refused by the Go module proxy here, so scripts/engine-tools installs this in its place, under the version the
Python SDK asks for (1.2.1). It follows that version's behaviour as its source defines it (provider/pkg/provider
and pulumi-go-provider's infer):
- Check fills the connection defaults (user root, port 22, dialErrorLimit 10, perDialTimeout 15);
- Diff compares old inputs with new ones; only `triggers` replaces, every other change is an in-place update,
  and an update without `update` runs `create` again; replacement creates the new resource before deleting the old;
- the command runs over SSH as an exec request (here the OpenSSH client), stdin attached when not empty, each
  environment variable sent as an SSH env request, the previous stdout/stderr as PULUMI_COMMAND_STDOUT/STDERR
  unless addPreviousOutputInEnv is false;
- the connection is dialled as upstream dials (remote_connection.py: which failures are retried, how often, the
  backoff, the per-dial timeout, the host key, the bastion, the error texts);
- a non-zero exit fails the step with the output; a failed create stores nothing, a failed update keeps the old
  state, a failed delete keeps the resource; no `delete` means deleting does nothing;
- a created command's ID is its name and 8 random hex digits (resource.NewUniqueHex(name, 8, 0) in
  commandController.go): nothing of its inputs or outputs;
- in a preview nothing runs: stdout and stderr are unknown;
- the `local.run` invoke (command:local:run) runs its command at every preview and update, as the real one does,
  and returns its inputs with stdout and stderr; a non-zero exit fails the invoke;
- output is sent to the engine's log as the `logging` input asks (default stdout and stderr).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from typing import Callable

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from tests.engine.providers import plugin_server, remote_connection
from tests.engine.providers.plugin_server import UNKNOWN, contains_unknown, decode, encode

CONNECTION_DEFAULTS = {"user": "root", "port": 22, "dialErrorLimit": 10, "perDialTimeout": 15}
OUTPUTS = ("stdout", "stderr")


class CommandFailed(Exception):
    pass


def with_connection_defaults(connection: dict) -> dict:
    filled = {**CONNECTION_DEFAULTS, **connection}
    if isinstance(connection.get("proxy"), dict):
        filled["proxy"] = {**CONNECTION_DEFAULTS, **connection["proxy"]}
    return filled


def run_remote(connection: dict, command: str, stdin: str, environment: dict[str, str],
               status: Callable[[str], None]) -> tuple[str, str]:
    """Dials as upstream does (remote_connection.py), then runs `command` in one session."""
    with tempfile.TemporaryDirectory(prefix="standin-ssh-") as workdir:
        try:
            with remote_connection.Session(connection, workdir, status) as session:
                return session.run(command, stdin, environment)
        except remote_connection.DialFailed as failure:
            raise CommandFailed(str(failure)) from None
        except remote_connection.CommandFailed as failure:
            raise CommandFailed(str(failure)) from None


def run_local(inputs: dict, command: str, environment: dict[str, str]) -> tuple[str, str]:
    interpreter = inputs.get("interpreter") or ["/bin/sh", "-c"]
    done = subprocess.run([*interpreter, command], input=(inputs.get("stdin") or "").encode(), capture_output=True,
                          cwd=inputs.get("dir") or None, env={**os.environ, **environment}, timeout=3600)
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    if done.returncode != 0:
        quoted = remote_connection.go_quote(command)
        raise CommandFailed(f"exit status {done.returncode}: running {quoted}:\n{out}{err}")
    return out.removesuffix("\n"), err.removesuffix("\n")


class CommandStandin(plugin_server.StandinProvider):
    VERSION = "1.2.1"

    def Check(self, request, context):
        news = decode(request.news)
        if plugin_server.resource_type(request.urn) == "command:remote:Command" and isinstance(
                news.get("connection"), dict):
            news["connection"] = with_connection_defaults(news["connection"])
        return provider_pb2.CheckResponse(inputs=encode(news))

    def Diff(self, request, context):
        olds = decode(request.old_inputs) if request.HasField("old_inputs") else {
            key: value for key, value in decode(request.olds).items() if key not in OUTPUTS}
        news = decode(request.news)
        for key in request.ignoreChanges:
            if key in olds:
                news[key] = olds[key]
        changed = sorted(key for key in set(olds) | set(news) if olds.get(key) != news.get(key))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        detailed = {key: provider_pb2.PropertyDiff(
            kind=provider_pb2.PropertyDiff.UPDATE_REPLACE if key == "triggers" else provider_pb2.PropertyDiff.UPDATE)
            for key in changed}
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed,
                                         replaces=[key for key in changed if key == "triggers"],
                                         detailedDiff=detailed, hasDetailedDiff=True, deleteBeforeReplace=False)

    def _run(self, urn: str, inputs: dict, command: str, previous: dict | None) -> tuple[str, str]:
        environment = dict(inputs.get("environment") or {})
        if previous and inputs.get("addPreviousOutputInEnv", True) is not False:
            for key, name in (("stdout", "PULUMI_COMMAND_STDOUT"), ("stderr", "PULUMI_COMMAND_STDERR")):
                if previous.get(key):
                    environment[name] = previous[key]
        if plugin_server.resource_type(urn) == "command:local:Command":
            out, err = run_local(inputs, command, environment)
        else:
            out, err = run_remote(inputs["connection"], command, inputs.get("stdin") or "", environment,
                                  lambda text: self.engine.status(urn, text))
        logging = inputs.get("logging") or "stdoutAndStderr"
        for stream, text in (("stdout", out), ("stderr", err)):
            if text and logging in (stream, "stdoutAndStderr"):
                self.engine.info(urn, text)
        return out, err

    def Create(self, request, context):
        inputs = decode(request.properties)
        ident = f"{plugin_server.resource_name(request.urn)}{secrets.token_hex(4)}"
        if request.preview:
            return provider_pb2.CreateResponse(id="", properties=encode({**inputs, "stdout": UNKNOWN,
                                                                         "stderr": UNKNOWN}))
        out = err = ""
        if inputs.get("create"):
            try:
                out, err = self._run(request.urn, inputs, inputs["create"], None)
            except CommandFailed as failure:
                context.abort(grpc.StatusCode.UNKNOWN, str(failure))
        return provider_pb2.CreateResponse(id=ident, properties=encode({**inputs, "stdout": out, "stderr": err}))

    def Update(self, request, context):
        olds, news = decode(request.olds), decode(request.news)
        if request.preview:
            changed = contains_unknown(news) or any(olds.get(key) != value for key, value in news.items())
            previous = {key: (UNKNOWN if changed else olds.get(key, "")) for key in OUTPUTS}
            return provider_pb2.UpdateResponse(properties=encode({**news, **previous}))
        command = news.get("update") or news.get("create")
        out, err = olds.get("stdout", ""), olds.get("stderr", "")
        if command:
            try:
                out, err = self._run(request.urn, news, command, olds)
            except CommandFailed as failure:
                context.abort(grpc.StatusCode.UNKNOWN, str(failure))
        return provider_pb2.UpdateResponse(properties=encode({**news, "stdout": out, "stderr": err}))

    def Invoke(self, request, context):
        if request.tok != "command:local:run":
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the stand-in has no function {request.tok}")
        inputs = decode(request.args)
        try:
            out, err = run_local(inputs, inputs.get("command") or "", dict(inputs.get("environment") or {}))
        except CommandFailed as failure:
            context.abort(grpc.StatusCode.UNKNOWN, str(failure))
        return provider_pb2.InvokeResponse(**{"return": encode({**inputs, "stdout": out, "stderr": err})})

    def Delete(self, request, context):
        state = decode(request.properties)
        if state.get("delete"):
            try:
                self._run(request.urn, state, state["delete"], state)
            except CommandFailed as failure:
                context.abort(grpc.StatusCode.UNKNOWN, str(failure))
        return empty_pb2.Empty()


if __name__ == "__main__":
    plugin_server.serve(CommandStandin)
