"""manifests.copy_body and write_pieces: copies and output pieces of large streams."""

from __future__ import annotations

import math

from stowage.read.manifests import copy_body


def test_copies_every_dict_and_list_so_changes_never_reach_the_original() -> None:
    body = {"spec": {"volumes": [{"name": "a"}], "replicas": 1}}
    copied = copy_body(body)
    copied["spec"]["volumes"].append({"name": "b"})
    copied["spec"]["volumes"][0]["name"] = "z"
    assert body == {"spec": {"volumes": [{"name": "a"}], "replicas": 1}}


def test_an_unchanged_copy_compares_equal_even_holding_nan() -> None:
    body = {"x": [math.nan], "y": {"z": math.nan}}
    assert copy_body(body) == body  # otherwise an untouched document would be rewritten


def test_write_pieces_join_to_the_output_and_reuse_untouched_text() -> None:
    from stowage.read.manifests import split
    from stowage.write.stream import write, write_pieces

    stream = split("a: 1\n---\nb: 2\n---\nc: 3\n")
    stream.documents[1].body, stream.documents[1].changed = {"b": 3}, True
    pieces = write_pieces(stream)
    assert "".join(pieces) == write(stream) == "a: 1\n---\nb: 3\n---\nc: 3\n"
    assert any(piece is stream.documents[2].text for piece in pieces)  # not a copy
