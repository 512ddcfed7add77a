"""What every stand-in provider plugin shares: the engine's plugin handshake, the property codec and logging.

The engine starts a resource plugin with its own gRPC address as the last argument and reads the port the plugin
listens on from the plugin's first line of stdout. Properties travel as protobuf Structs in which an unknown value
(a preview) is a sentinel string. The stand-ins tell the engine in Configure that they do not accept secrets, so the
engine removes secret markers before a call and puts them back on the outputs whose inputs were secret (and on the
program's additionalSecretOutputs): secrecy stays the engine's business, as with the real providers.
"""

from __future__ import annotations

import sys
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, plugin_pb2, provider_pb2, provider_pb2_grpc

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def decode(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as plain Python values; whole numbers stay ints (a Struct only knows doubles)."""
    return _whole_numbers(json_format.MessageToDict(struct))


def encode(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False


def resource_type(urn: str) -> str:
    """The type token of a URN: urn:pulumi:stack::project::parent$type::name."""
    return urn.split("::")[2].split("$")[-1]


def resource_name(urn: str) -> str:
    return urn.split("::")[3]


class EngineLog:
    """The engine's Log service: what a provider prints there appears in the update's output and the engine log."""

    def __init__(self, address: str):
        self.stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))

    def info(self, urn: str, message: str) -> None:
        self.stub.Log(engine_pb2.LogRequest(severity=engine_pb2.INFO, message=message, urn=urn))

    def status(self, urn: str, message: str) -> None:
        """A resource's passing status (the provider's InfoStatus): shown while it runs, not kept in the output."""
        self.stub.Log(engine_pb2.LogRequest(severity=engine_pb2.INFO, message=message, urn=urn, ephemeral=True))


class StandinProvider(provider_pb2_grpc.ResourceProviderServicer):
    """The calls every provider answers the same way; subclasses answer Check, Diff, Create, Update and Delete."""

    VERSION = "0.0.0"

    def __init__(self, engine: EngineLog):
        self.engine = engine

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=self.VERSION)

    def GetSchema(self, request, context):
        return provider_pb2.GetSchemaResponse(schema="{}")

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request, context):
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=True, acceptResources=False,
                                              acceptOutputs=False)

    def Read(self, request, context):
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Cancel(self, request, context):
        return empty_pb2.Empty()


def serve(provider_class: type[StandinProvider]) -> None:
    """Serve on a free loopback port, print it for the engine, and run until the engine closes our stdin."""
    engine_address = [arg for arg in sys.argv[1:] if not arg.startswith("-")][-1]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider_class(EngineLog(engine_address)), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()
