"""Reading .npy files without trusting them, and shared constants checked against their digests."""

from __future__ import annotations

import struct
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from klr.core import LncKernel, SharedConstantFile
from klr.errors import FileError, FormatError
from klr.format.npy import (
    check_constant_names,
    constant_digest,
    constant_files,
    load_constants,
    npy_bytes,
    read_npy,
)

LIMIT = 2**31


def npy(header: bytes, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    length = struct.pack("<H" if version[0] == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header + data


def header(descr: str = "<f4", shape: str = "(2,)", order: str = "False") -> bytes:
    return f"{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}\n".encode()


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
    np.zeros((0, 4), np.uint8),
    np.array(3.5),
    np.arange(4, dtype=">i4"),
    np.array([True, False]),
])
def test_arrays_numpy_writes_read_back(tmp_path: Path, array: np.ndarray) -> None:
    (tmp_path / "a.npy").write_bytes(npy_bytes(array))
    got = read_npy(tmp_path / "a.npy", max_bytes=LIMIT)
    assert got.dtype == array.dtype and np.array_equal(got, array)


def test_version_2_and_raw_bfloat16(tmp_path: Path) -> None:
    raw = np.arange(4, dtype=np.float32).astype(ml_dtypes.bfloat16)
    np.save(tmp_path / "b.npy", raw)
    assert read_npy(tmp_path / "b.npy", max_bytes=LIMIT).dtype == np.dtype("V2")
    (tmp_path / "v2.npy").write_bytes(npy(header(), b"\0" * 8, (2, 0)))
    assert read_npy(tmp_path / "v2.npy", max_bytes=LIMIT).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "not a .npy file: it is empty"),
    (b"PK\x03\x04rest of a zip", "not a .npy file: it is a .npz (zip) archive; give each array as its own "
                                 ".npy file"),
    (b"\x93NUMPZ\x01\x00", "not a .npy file: it does not start with the .npy magic (93 4e 55 4d 50 59)"),
    (b"\x93NUMPY\x04\x00\x00\x00", "unsupported .npy format version 4.0"),
    (b"\x93NUMPY\x01\x00\x05", "malformed .npy file: it ends inside the header length at byte 8"),
    (b"\x93NUMPY\x02\x00\x05\x00", "malformed .npy file: it ends inside the header length at byte 8"),
    (b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{}",
     "malformed .npy file: the header length at byte 8 is 4294967280, more than 65536"),
    (b"\x93NUMPY\x01\x00" + struct.pack("<H", 500) + b"{}",
     "malformed .npy file: the header length at byte 8 is 500, beyond the end of the file"),
    (npy(b"{'descr': [", b""), "malformed .npy header at byte 10: it is not a Python literal"),
    (npy(b"-" * 60000 + b"1"), "malformed .npy header at byte 10: it is not a Python literal"),
    (npy(b"1" * 5000), "malformed .npy header at byte 10: it is not a Python literal"),
    (npy(b"{'descr': '<f4', 'shape': (2,)}"),
     "malformed .npy header at byte 10: it must be a dict of exactly 'descr', 'fortran_order' and 'shape'"),
    (npy(header(order="1")), "malformed .npy header at byte 10: 'fortran_order' must be True or False"),
    (npy(header(shape="(-1,)")),
     "malformed .npy header at byte 10: 'shape' must be a tuple of at most 32 non-negative integers"),
    (npy(header(shape="(True,)")),
     "malformed .npy header at byte 10: 'shape' must be a tuple of at most 32 non-negative integers"),
    (npy(header(shape="(" + "1," * 33 + ")")),
     "malformed .npy header at byte 10: 'shape' must be a tuple of at most 32 non-negative integers"),
    (npy(header(shape="(99999999999,)"), b"\0" * 16),
     "malformed .npy file: its header declares 99999999999 elements of float32 (399999999996 bytes) but "
     "the file holds 16 bytes of data"),
    (npy(header(), b"\0" * 12),
     "malformed .npy file: its header declares 2 elements of float32 (8 bytes) but the file holds 12 bytes "
     "of data"),
    (npy(header(descr="|O")), "holds Python objects (dtype object), which klr does not read: loading them "
                              "would unpickle arbitrary data"),
    (npy(b"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}"),
     "has the dtype [('a', '<f4')], which klr does not read (it reads numeric arrays only)"),
    (npy(header(descr="<U4")), "has the dtype '<U4', which klr does not read (it reads numeric arrays only)"),
    (npy(header(descr="<M8")), "has the dtype '<M8', which klr does not read (it reads numeric arrays only)"),
    (npy(header(descr="<q9")), "malformed .npy header at byte 10: unknown dtype '<q9'"),
])
def test_bad_npy_files_are_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "in.npy"
    path.write_bytes(content)
    with pytest.raises(FileError) as info:
        read_npy(path, max_bytes=LIMIT)
    assert info.value.message == f"{path}: {message}"


def test_a_pickled_object_array_is_never_unpickled(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FileError, match=r"holds Python objects \(dtype object\)"):
        read_npy(tmp_path / "obj.npy", max_bytes=LIMIT)


def test_the_expected_shape_is_checked_before_reading_data(tmp_path: Path) -> None:
    path = tmp_path / "big.npy"
    path.write_bytes(npy(header(shape="(99999999999,)")))  # no data at all
    with pytest.raises(FileError) as info:
        read_npy(path, max_bytes=LIMIT, shape=(4, 4), what="input 'a'")
    assert info.value.message == (f"{path}: holds an array of shape (99999999999,), but input 'a' has "
                                  "shape (4, 4)")


def test_the_file_size_limit_comes_first(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    path.write_bytes(npy_bytes(np.zeros(100)))
    with pytest.raises(FileError, match=r"more than the limit of 100 \(--limit max-file-bytes=N raises it\)"):
        read_npy(path, max_bytes=100)


# --- shared constants ----------------------------------------------------------------------------


def _kernel(*files: tuple[str, str]) -> LncKernel:
    return LncKernel("k", (), (), (), tuple(SharedConstantFile(n, f) for n, f in files), (), ())


def test_constants_load_and_are_checked_against_their_digest(tmp_path: Path) -> None:
    array = np.arange(8, dtype=np.float32).reshape(2, 4)
    name = f"shared_constants/{constant_digest(array)}.npy"
    (tmp_path / "shared_constants").mkdir()
    for file, data in constant_files({name: array}).items():
        (tmp_path / "shared_constants" / file).write_bytes(data)
    kernel = _kernel(("w", name), ("w2", name))
    got = load_constants(kernel, tmp_path / "k.klr", max_bytes=LIMIT)
    assert np.array_equal(got["w"], array) and got["w2"] is got["w"]
    changed = array.copy()
    changed[0, 0] = 99
    (tmp_path / name).write_bytes(npy_bytes(changed))
    with pytest.raises(FileError) as info:
        load_constants(kernel, tmp_path / "k.klr", max_bytes=LIMIT)
    assert info.value.message == (f"{tmp_path / name}: the contents of shared constant 'w' do not match the "
                                  "digest in its file name (the file was changed or replaced)")


@pytest.mark.parametrize("file", [
    "../../secret.npy", "/etc/secret.npy", "shared_constants/../x.npy",
    "shared_constants/" + "A" * 64 + ".npy",
    "shared_constants/" + "0" * 63 + ".npy", "shared_constants/" + "0" * 64 + ".npy\0", "x.npy",
    "shared_constants/" + "0" * 64 + ".npz",
])
def test_constant_file_names_are_only_digests_beside_the_file(tmp_path: Path, file: str) -> None:
    with pytest.raises(FormatError) as info:
        load_constants(_kernel(("w", file)), tmp_path / "k.klr", max_bytes=LIMIT)
    assert info.value.message == (f"{tmp_path / 'k.klr'}: shared constant 'w' has the file name {file!r}; "
                                  "it must be shared_constants/<64 lowercase hex digits>.npy")
    check_constant_names(_kernel(("w", "shared_constants/" + "0" * 64 + ".npy")), "k.klr")


def test_constant_files_refuse_names_of_another_form() -> None:
    with pytest.raises(FormatError) as info:
        constant_files({"../x.npy": np.zeros(1)})
    assert info.value.message == ("shared constant file name '../x.npy' is not "
                                  "shared_constants/<64 lowercase hex digits>.npy")


def test_a_constant_file_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    import os

    name = "shared_constants/" + "0" * 64 + ".npy"
    (tmp_path / "shared_constants").mkdir()
    os.mkfifo(tmp_path / name)
    with pytest.raises(FileError, match="it is a FIFO, not a regular file"):
        load_constants(_kernel(("w", name)), tmp_path / "k.klr", max_bytes=LIMIT)


CONSTANT_KERNEL = """\
import numpy as np
import neuronxcc.nki as nki
import neuronxcc.nki.language as nl

@nki.jit
def scale_rows(x):
    out = nl.ndarray(x.shape, dtype=x.dtype, buffer=nl.shared_hbm)
    w = nl.shared_constant(np.arange(128).reshape(128, 1).astype(np.float32), dtype=nl.float32)
    nl.store(out, value=nl.multiply(nl.load(x), nl.load(w)))
    return out
"""


def test_the_digest_matches_the_tracer(tmp_path: Path) -> None:
    """The tracer names constant files with the same digest (klr.tracer.kernel)."""
    import klr

    (tmp_path / "sc.py").write_text(CONSTANT_KERNEL)
    result = klr.trace(klr.gather(tmp_path / "sc.py", np.zeros((128, 8), np.float32), name="scale_rows"))
    ((file, array),) = result.constants.items()
    assert file == f"shared_constants/{constant_digest(array)}.npy"
