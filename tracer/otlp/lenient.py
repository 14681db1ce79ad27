"""A forgiving twin of the OTLP trace protobuf messages, for requests the strict parser
refuses only because a string is not valid UTF-8.

Protobuf rejects a whole message over one bad string; OTLP producers in the wild send
such strings (truncated multi-byte characters, binary blobs in attributes). The twin
is the same schema with every ``string`` field declared ``bytes`` — identical on the
wire — so the request parses and the decoder repairs each string instead of losing
every span in the batch.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

_PREFIX = "baton_lenient."
_ORIGINAL = "opentelemetry.proto."


@functools.cache
def request_class() -> Any:
    """``ExportTraceServiceRequest`` with bytes where the original has strings."""
    pool = descriptor_pool.DescriptorPool()
    for file in _files_in_dependency_order(trace_service_pb2.DESCRIPTOR):
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        proto.name = _PREFIX + proto.name
        proto.package = _PREFIX + proto.package
        proto.dependency[:] = [_PREFIX + dep for dep in proto.dependency]
        for message in proto.message_type:
            _loosen(message)
        for service in proto.service:
            for method in service.method:
                method.input_type = _renamed(method.input_type)
                method.output_type = _renamed(method.output_type)
        pool.Add(proto)
    name = _PREFIX + "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def _files_in_dependency_order(file: Any) -> list[Any]:
    ordered: list[Any] = []
    for dependency in file.dependencies:
        for found in _files_in_dependency_order(dependency):
            if found not in ordered:
                ordered.append(found)
    ordered.append(file)
    return ordered


def _loosen(message: descriptor_pb2.DescriptorProto) -> None:
    for field in message.field:
        if field.type == descriptor_pb2.FieldDescriptorProto.TYPE_STRING:
            field.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
        if field.type_name:
            field.type_name = _renamed(field.type_name)
    for nested in message.nested_type:
        _loosen(nested)


def _renamed(type_name: str) -> str:
    return type_name.replace("." + _ORIGINAL, "." + _PREFIX + _ORIGINAL, 1)
