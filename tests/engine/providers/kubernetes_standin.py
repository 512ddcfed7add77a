"""Stand-in for the `kubernetes` provider plugin, for previews only.

The real plugin is served by the Go module proxy here only at a January 2026 pseudo-version (about 4.25), while the
program pins the 4.34.2 SDK; building it would mean moving the product's SDK pin back nine releases. A preview of a
stack whose kubeconfig comes from a host step (unknown until the first control plane exists) is what this answers,
the way the real provider answers it when its cluster is not reachable: inputs accepted as given, changes reported
as in-place updates, nothing known about the outputs. It refuses to create anything: an engine test that needs a
cluster must say so, not pass on a stand-in.
"""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from tests.engine.providers import plugin_server
from tests.engine.providers.plugin_server import decode


class KubernetesPreviewStandin(plugin_server.StandinProvider):
    VERSION = "4.34.2"

    def Check(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def Diff(self, request, context):
        olds = decode(request.old_inputs) if request.HasField("old_inputs") else decode(request.olds)
        news = decode(request.news)
        changed = sorted(key for key in set(olds) | set(news) if olds.get(key) != news.get(key))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed)

    def Create(self, request, context):
        if not request.preview:
            context.abort(grpc.StatusCode.UNIMPLEMENTED,
                          "the kubernetes stand-in answers previews only: switch the add-ons off in this stack")
        return provider_pb2.CreateResponse(id="", properties=request.properties)

    def Update(self, request, context):
        if not request.preview:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "the kubernetes stand-in answers previews only")
        return provider_pb2.UpdateResponse(properties=request.news)

    def Delete(self, request, context):
        return empty_pb2.Empty()


if __name__ == "__main__":
    plugin_server.serve(KubernetesPreviewStandin)
