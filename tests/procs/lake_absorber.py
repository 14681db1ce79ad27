"""One "machine" of the team-store concurrency tests: writes the spans of SOURCE (an Arrow
file) as local segments of CHUNK rows, once as they are (spans every machine has) and
once under trace ids of its own, committing them to the lake URL every four segments,
printing how many spans each absorb added. Its local folder is its own XDG_DATA_HOME."""

from __future__ import annotations

import sys

import pyarrow as pa
import pyarrow.compute as pc

from tracer.store import Store


def own_copy(table: pa.Table, name: str) -> pa.Table:
    """``table`` as another machine's traces: new trace and conversation ids."""
    tag = pa.scalar(name)
    trace_ids = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(table.column("trace_id"), 0, 32 - len(name)), tag, ""
    )
    conversations = pc.binary_join_element_wise(table.column("conversation_id"), tag, "-")
    table = table.set_column(table.schema.get_field_index("trace_id"), "trace_id", trace_ids)
    index = table.schema.get_field_index("conversation_id")
    return table.set_column(index, "conversation_id", conversations)


def main() -> None:
    url, source, name, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    # "interleave": absorb every few segments; "all-then-absorb": write every segment,
    # say so, then absorb them (what a killed machine leaves behind is then known).
    mode = sys.argv[5] if len(sys.argv) > 5 else "interleave"
    with pa.OSFile(source, "rb") as file:
        shared = pa.ipc.open_file(file).read_all()
    store = Store(url)
    mine = own_copy(shared, name)
    pieces = []
    for start in range(0, shared.num_rows, chunk):
        pieces.append(shared.slice(start, chunk))
        pieces.append(mine.slice(start, chunk))
    if mode == "all-then-absorb":
        for piece in pieces:
            store.write_segment(piece)
        print(f"written {len(pieces)}", flush=True)
        print(f"absorbed {store.absorb().spans_added}", flush=True)
        print("done", flush=True)
        return
    for number, piece in enumerate(pieces, start=1):
        store.write_segment(piece)
        if number % 4 == 0 or number == len(pieces):
            report = store.absorb()
            print(f"absorbed {report.spans_added}", flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
