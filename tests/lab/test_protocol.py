"""The wire format: packed records and frames survive a round trip; truncation is caught."""

from __future__ import annotations

import io

import pytest

from concviz.lab import protocol as P


def _records(n: int) -> list[tuple]:
    return [
        (P.EV_END, 0, i % 3, i, 4000 + i, 2**40 + i, 10_000 + i, 7 * i, 9_000 + i) for i in range(n)
    ]


@pytest.mark.parametrize("n", [1, 2, 4096])
def test_records_pack_and_unpack_unchanged(n):
    recs = _records(n)
    payload = P.pack_records(recs)
    assert len(payload) == n * P.RECORD_SIZE
    assert P.unpack_records(payload) == recs


def test_frames_read_back_in_order_then_a_clean_end():
    events = P.pack_records(_records(3))
    stream = io.BytesIO(
        P.frame(P.FRAME_EVENTS, events)
        + P.json_frame({"type": "hello"})
        + P.frame(P.FRAME_OUTPUT, b"hi\n")
    )
    assert P.read_frame(stream.read) == (P.FRAME_EVENTS, events)
    kind, payload = P.read_frame(stream.read)
    assert kind == P.FRAME_JSON and payload == b'{"type":"hello"}'
    assert P.read_frame(stream.read) == (P.FRAME_OUTPUT, b"hi\n")
    assert P.read_frame(stream.read) is None


class _Trickle:
    """A pipe that hands out at most 3 bytes per read, as a real one may."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self._buf.read(min(n, 3))


def test_frames_arriving_in_pieces_are_reassembled():
    data = P.json_frame({"type": "x", "v": list(range(50))})
    kind, payload = P.read_frame(_Trickle(data).read)
    assert kind == P.FRAME_JSON and payload == data[P.HEADER.size :]


@pytest.mark.parametrize("cut", [2, P.HEADER.size, P.HEADER.size + 5])
def test_a_truncated_frame_raises(cut):
    data = P.frame(P.FRAME_EVENTS, P.pack_records(_records(2)))
    with pytest.raises(P.ProtocolError):
        P.read_frame(io.BytesIO(data[:cut]).read)


def test_an_unknown_frame_kind_raises():
    with pytest.raises(P.ProtocolError):
        P.read_frame(io.BytesIO(P.frame(99, b"abc")).read)


def test_control_lines_are_one_json_line_each():
    line = P.control_line({"cmd": "start", "workers": 2})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
