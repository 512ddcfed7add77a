"""Stand-in for the `random` provider plugin (RandomPassword, RandomString, RandomBytes), for the engine tests.

The real plugin (github.com/pulumi/pulumi-random/provider/v4) is refused by the Go module proxy here at every
version tried, so scripts/engine-tools installs this in its place, under the version the Python SDK asks for.
It does what the real plugin does wherever the program can see it, each rule from upstream's source (pulumi-random
v4.21 over terraform-provider-random v3.9.0):
- Check fills the character-class defaults; every input change replaces the resource (RequiresReplace on every
  attribute upstream); `result` is unknown in a preview and generated once at create (RandomBytes: `base64` and
  `hex` of `length` bytes instead of `result`).
- The resource ID, which the engine stores in clear (IDs carry no secret marker) and `pulumi stack --show-ids`
  prints: RandomPassword's is the literal `none` (internal/provider/resource_password.go, Create and ImportState);
  RandomString's is its result (resource_string.go); RandomBytes' is its base64 value, unwrapped from its secret
  (pulumi-random provider/resources.go, computeRandomBytesID). So only RandomPassword keeps its value out of the
  state's clear text: RandomBytes and RandomString must never hold a secret.
Secrecy of RandomPassword's result and RandomBytes' outputs is the SDK's additionalSecretOutputs (and the schema's
`secret: true`); the engine applies it.
"""

from __future__ import annotations

import base64
import secrets
import string

from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from tests.engine.providers import plugin_server
from tests.engine.providers.plugin_server import UNKNOWN, decode, encode

DEFAULTS = {"special": True, "upper": True, "lower": True, "numeric": True, "number": True,
            "minUpper": 0, "minLower": 0, "minNumeric": 0, "minSpecial": 0}
SPECIAL = "!@#$%&*()-_=+[]{}<>:?"


def resource_id(kind: str, outputs: dict, preview: bool) -> str:
    """The ID upstream gives a created resource (see the module's docstring); none in a preview."""
    if preview:
        return ""
    if kind.endswith("RandomBytes"):
        return outputs["base64"]
    if kind.endswith("RandomPassword"):
        return "none"
    return outputs["result"]


def generate(inputs: dict) -> str:
    classes = []
    if inputs.get("upper", True):
        classes.append((string.ascii_uppercase, inputs.get("minUpper", 0)))
    if inputs.get("lower", True):
        classes.append((string.ascii_lowercase, inputs.get("minLower", 0)))
    if inputs.get("numeric", inputs.get("number", True)):
        classes.append((string.digits, inputs.get("minNumeric", 0)))
    if inputs.get("special", True):
        classes.append((inputs.get("overrideSpecial") or SPECIAL, inputs.get("minSpecial", 0)))
    alphabet = "".join(chars for chars, _ in classes)
    picked = [secrets.choice(chars) for chars, minimum in classes for _ in range(minimum)]
    picked += [secrets.choice(alphabet) for _ in range(int(inputs["length"]) - len(picked))]
    secrets.SystemRandom().shuffle(picked)
    return "".join(picked)


class RandomStandin(plugin_server.StandinProvider):
    VERSION = "4.21.4"

    def Check(self, request, context):
        news = decode(request.news)
        if plugin_server.resource_type(request.urn).endswith("RandomBytes"):  # no character classes
            return provider_pb2.CheckResponse(inputs=encode(news))
        return provider_pb2.CheckResponse(inputs=encode({**DEFAULTS, **news}))

    def Diff(self, request, context):
        olds = decode(request.old_inputs) if request.HasField("old_inputs") else decode(request.olds)
        news = decode(request.news)
        changed = sorted(key for key in set(olds) | set(news)
                         if key not in ("result", "bcryptHash", "id", "base64", "hex") and olds.get(key) != news.get(key))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed,
                                         replaces=changed)

    def Create(self, request, context):
        inputs = decode(request.properties)
        kind = plugin_server.resource_type(request.urn)
        if kind.endswith("RandomBytes"):
            data = secrets.token_bytes(int(inputs["length"]))
            outputs = {"length": inputs["length"], **({"keepers": inputs["keepers"]} if "keepers" in inputs else {}),
                       "base64": UNKNOWN if request.preview else base64.b64encode(data).decode(),
                       "hex": UNKNOWN if request.preview else data.hex()}
            return provider_pb2.CreateResponse(id=resource_id(kind, outputs, request.preview),
                                               properties=encode(outputs))
        if request.preview:
            result = UNKNOWN
        else:
            result = generate(inputs)
        outputs = {**inputs, "result": result}
        if kind.endswith("RandomPassword"):
            outputs["bcryptHash"] = UNKNOWN if request.preview else "$2a$10$" + secrets.token_hex(26)
        return provider_pb2.CreateResponse(id=resource_id(kind, outputs, request.preview),
                                           properties=encode(outputs))

    def Update(self, request, context):
        # Every input replaces, so an update only ever carries changes the engine ignores: keep the state.
        return provider_pb2.UpdateResponse(properties=request.olds)

    def Delete(self, request, context):
        return empty_pb2.Empty()


if __name__ == "__main__":
    plugin_server.serve(RandomStandin)
