"""A pickle, read the way CPython's ``_pickle`` reads it, without running it
(src/core/scan/pickle/vm.ts, the same rules): every opcode of protocols 0 to 5 is decoded, and a
symbolic stack and memo track just enough to know which globals the pickle imports and which it
calls. Names resolve as ``find_class`` resolves them and are judged against the exact allowlist.

Why not ``pickletools.genops``: it needs the whole pickle as a file, reads every argument into
memory (a BINBYTES8 of gigabytes), and cannot pause at a chunk end; this reader runs over the
chunks the hashing pass reads, in constant memory, and resumes an opcode cut by a chunk end.
Opcode numbers and argument layouts are those ``pickletools.opcodes`` documents (the test suite
checks every opcode this reader knows against that table)."""
from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple, Union

from .allowlist import is_allowed_global, resolve_global
from .verdict import ContentReport, Finding

MAX_ITEMS = 1_000_000
#: Longer strings cannot name a module; they are skipped (not kept) and so can never name a global.
MAX_STRING = 1 << 16
_MAX_SAFE = (1 << 53) - 1


class _Str:
    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


class _Global:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Other:
    pass


class _Mark:
    pass


_Item = Union[_Str, _Global, _Other, _Mark]
OTHER = _Other()
MARK = _Mark()


class PickleError(Exception):
    pass


class _NeedMore(Exception):
    """An opcode's arguments are not all here yet: it is read again with more bytes."""


@dataclass
class PickleScan:
    #: Offset just past STOP (or where reading stopped).
    end: int
    #: Every global imported, resolved, in order of first appearance (``module.name``).
    globals: List[str]
    #: The globals and constructs that are not allowed, with why.
    unsafe: List[str]
    #: Why the pickle does not read cleanly, if it does not.
    error: Optional[str]
    protocol: int


_DIGITS = re.compile(r"[0-9]+")
_RAW_UNICODE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")


def _unescape_raw_unicode(s: str) -> str:
    def one(m: "re.Match[str]") -> str:
        code = int(m.group(1)[1:], 16)
        if code > 0x10FFFF:
            raise PickleError("a \\U escape beyond U+10FFFF")
        return chr(code)

    return _RAW_UNICODE.sub(one, s)


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] in ("'", '"') and s[-1] == s[0]:
        return s[1:-1]
    raise PickleError("a STRING argument without matching quotes")


_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")


class PickleReader:
    """Reads one pickle from a stream of chunks, keeping only the few bytes of an opcode split
    between chunks (long byte strings are skipped, not kept). ``push`` returns how many bytes of
    the chunk belong to the pickle (less than the chunk once STOP is read); chunks are never kept,
    so a caller may reuse its buffer. ``base`` is the offset of the first byte pushed."""

    def __init__(self, base: int = 0) -> None:
        self._buf: bytes = b""
        self._i = 0
        self._origin = base
        self._pending = b""
        self._skip_left = 0
        self._final = False
        self._stopped = False
        self._protocol = 0
        self._stack: List[_Item] = []
        self._memo: Dict[int, _Item] = {}
        self._globals: List[str] = []
        self._unsafe: List[str] = []
        self._seen: Set[str] = set()
        self._error: Optional[str] = None
        self._result: Optional[PickleScan] = None

    @property
    def done(self) -> bool:
        """STOP was read, or the pickle cannot be read further."""
        return self._stopped or self._error is not None

    def push(self, chunk: Union[bytes, bytearray, memoryview]) -> int:
        return self._run(chunk, False)

    def finish(self) -> PickleScan:
        if self._result is None:
            self._run(b"", True)
            self._result = PickleScan(self._origin, self._globals, self._unsafe, self._error, self._protocol)
        return self._result

    # -- reading arguments -------------------------------------------------------------------
    def _at(self) -> int:
        return self._origin + self._i

    def _need(self, n: int) -> None:
        if n > len(self._buf) - self._i:
            if self._final:
                raise PickleError(f"an argument of {n} bytes runs past the end at offset {self._at()}")
            raise _NeedMore()

    def _u8(self) -> int:
        self._need(1)
        self._i += 1
        return self._buf[self._i - 1]

    def _fixed(self, s: struct.Struct) -> int:
        self._need(s.size)
        (value,) = s.unpack_from(self._buf, self._i)
        self._i += s.size
        return int(value)

    def _skip(self, n: int) -> None:
        available = len(self._buf) - self._i
        if n <= available:
            self._i += n
            return
        if self._final or n > _MAX_SAFE:
            raise PickleError(f"an argument of {n} bytes runs past the end at offset {self._at()}")
        # Passed over as later chunks arrive; the opcode itself is complete.
        self._skip_left = n - available
        self._i = len(self._buf)

    def _text(self, n: int) -> _Item:
        if n > MAX_STRING:
            self._skip(n)
            return OTHER
        self._need(n)
        s = self._buf[self._i : self._i + n].decode("utf-8", "replace")
        self._i += n
        return _Str(s)

    def _line(self, decoding: str = "latin1") -> str:
        """A newline-ended argument, decoded as _pickle decodes it: GLOBAL and INST names as strict
        UTF-8; UNICODE as raw-unicode-escape; numbers, memo indexes and STRING as Latin-1."""
        nl = self._buf.find(b"\n", self._i)
        if nl < 0 or nl - self._i > MAX_STRING:
            if nl < 0 and not self._final and len(self._buf) - self._i <= MAX_STRING:
                raise _NeedMore()
            raise PickleError(
                f"a line argument without its newline at offset {self._at()}" if nl < 0 else f"a line argument longer than {MAX_STRING} bytes at offset {self._at()}"
            )
        raw = self._buf[self._i : nl]
        try:
            s = raw.decode("utf-8") if decoding == "utf-8" else raw.decode("latin1")
        except UnicodeDecodeError:
            raise PickleError(f"a name that is not UTF-8 at offset {self._at()}") from None
        self._i = nl + 1
        return _unescape_raw_unicode(s) if decoding == "raw-unicode-escape" else s

    def _index_line(self) -> int:
        """Decimal digits, spaces around them allowed (vm.ts's memoIndex)."""
        digits = self._line().strip(" \t\r")
        if not _DIGITS.fullmatch(digits):
            raise PickleError(f"a memo index {json.dumps(digits, ensure_ascii=False)} that is not a number")
        return int(digits)

    # -- the stack and memo ------------------------------------------------------------------
    def _push(self, item: _Item) -> None:
        if len(self._stack) >= MAX_ITEMS:
            raise PickleError("the stack grows past a million items")
        self._stack.append(item)

    def _pop(self) -> _Item:
        if not self._stack or self._stack[-1] is MARK:
            raise PickleError(f"stack underflow at offset {self._at() - 1}")
        return self._stack.pop()

    def _top(self) -> _Item:
        if not self._stack or self._stack[-1] is MARK:
            raise PickleError(f"an empty stack at offset {self._at() - 1}")
        return self._stack[-1]

    def _pop_mark(self) -> List[_Item]:
        for where in range(len(self._stack) - 1, -1, -1):
            if self._stack[where] is MARK:
                items = self._stack[where + 1 :]
                del self._stack[where:]
                return items
        raise PickleError(f"no MARK to pop to at offset {self._at() - 1}")

    def _import(self, module: str, name: str) -> _Item:
        module, name = resolve_global(module, name, self._protocol)
        full = f"{module}.{name}"
        if full not in self._seen:
            self._seen.add(full)
            self._globals.append(full)
            # Importing a module runs its top-level code: an unknown global is refused even if never called.
            if not is_allowed_global(module, name):
                self._unsafe.append(full)
        return _Global(full)

    def _call(self, callable_: _Item, how: str) -> None:
        if not isinstance(callable_, _Global):
            self._unsafe.append(f"{how} on something that is not an imported global (a value computed in the pickle)")

    def _set_memo(self, index: int) -> None:
        if len(self._memo) >= MAX_ITEMS and index not in self._memo:
            raise PickleError("the memo grows past a million entries")
        self._memo[index] = self._top()

    def _get_memo(self, index: int) -> None:
        item = self._memo.get(index)
        if item is None:
            raise PickleError(f"memo entry {index} read before it was written")
        self._push(item)

    # -- one opcode --------------------------------------------------------------------------
    def _step(self) -> None:
        """Every argument is read before the stack or memo changes, so an opcode cut by a chunk
        end (_NeedMore) is simply read again from its first byte."""
        op = self._buf[self._i]
        self._i += 1
        push, pop, top = self._push, self._pop, self._top
        if op == 0x2E:  # STOP
            if len(self._stack) != 1:
                raise PickleError(f"STOP with {len(self._stack)} items on the stack")
            self._stopped = True
        elif op == 0x80:  # PROTO
            self._protocol = self._u8()
            if self._protocol > 5:
                raise PickleError(f"protocol {self._protocol} is not one Python reads")
        elif op == 0x95:  # FRAME: frames only group opcodes for reading; every opcode is judged wherever the frame ends
            self._fixed(_U64)
        elif op == 0x28:  # MARK
            push(MARK)
        elif op == 0x30:  # POP
            if self._stack and self._stack[-1] is MARK:
                self._stack.pop()
            else:
                pop()
        elif op == 0x31:  # POP_MARK
            self._pop_mark()
        elif op == 0x32:  # DUP
            push(top())
        elif op in (0x46, 0x49, 0x4C):  # FLOAT, INT, LONG (text lines)
            self._line()
            push(OTHER)
        elif op in _FIXED_SKIP:  # BINFLOAT, BININT, BININT1, BININT2
            self._skip(_FIXED_SKIP[op])
            push(OTHER)
        elif op == 0x8A:  # LONG1
            self._skip(self._u8())
            push(OTHER)
        elif op == 0x8B:  # LONG4
            n = self._fixed(_I32)
            if n < 0:
                raise PickleError("LONG4 with a negative length")
            self._skip(n)
            push(OTHER)
        elif op in (0x4E, 0x88, 0x89):  # NONE, NEWTRUE, NEWFALSE
            push(OTHER)
        elif op == 0x42:  # BINBYTES
            self._skip(self._fixed(_U32))
            push(OTHER)
        elif op == 0x43:  # SHORT_BINBYTES
            self._skip(self._u8())
            push(OTHER)
        elif op in (0x8E, 0x96):  # BINBYTES8, BYTEARRAY8
            self._skip(self._fixed(_U64))
            push(OTHER)
        elif op == 0x97:
            raise PickleError("NEXT_BUFFER: out-of-band buffers, which a file cannot supply")
        elif op == 0x98:  # READONLY_BUFFER
            top()
        # Strings: the only values STACK_GLOBAL accepts.
        elif op == 0x53:  # STRING (quoted)
            push(_Str(_unquote(self._line())))
        elif op == 0x54:  # BINSTRING
            n = self._fixed(_I32)
            if n < 0:
                raise PickleError("BINSTRING with a negative length")
            push(self._text(n))
        elif op in (0x55, 0x8C):  # SHORT_BINSTRING, SHORT_BINUNICODE
            push(self._text(self._u8()))
        elif op == 0x56:  # UNICODE
            push(_Str(self._line("raw-unicode-escape")))
        elif op == 0x58:  # BINUNICODE
            push(self._text(self._fixed(_U32)))
        elif op == 0x8D:  # BINUNICODE8
            push(self._text(self._fixed(_U64)))
        # Containers.
        elif op in (0x5D, 0x29, 0x7D, 0x8F):  # EMPTY_LIST, EMPTY_TUPLE, EMPTY_DICT, EMPTY_SET
            push(OTHER)
        elif op == 0x61:  # APPEND
            pop()
            top()
        elif op in (0x65, 0x75, 0x90):  # APPENDS, SETITEMS, ADDITEMS
            self._pop_mark()
            top()
        elif op == 0x73:  # SETITEM
            pop()
            pop()
            top()
        elif op in (0x6C, 0x74, 0x64, 0x91):  # LIST, TUPLE, DICT, FROZENSET
            self._pop_mark()
            push(OTHER)
        elif op in (0x85, 0x86, 0x87):  # TUPLE1, TUPLE2, TUPLE3
            for _ in range(op - 0x84):
                pop()
            push(OTHER)
        # The memo.
        elif op == 0x67:  # GET
            self._get_memo(self._index_line())
        elif op == 0x68:  # BINGET
            self._get_memo(self._u8())
        elif op == 0x6A:  # LONG_BINGET
            self._get_memo(self._fixed(_U32))
        elif op == 0x70:  # PUT
            self._set_memo(self._index_line())
        elif op == 0x71:  # BINPUT
            self._set_memo(self._u8())
        elif op == 0x72:  # LONG_BINPUT
            self._set_memo(self._fixed(_U32))
        elif op == 0x94:  # MEMOIZE
            self._set_memo(len(self._memo))
        # Imports and calls.
        elif op == 0x63:  # GLOBAL
            module = self._line("utf-8")
            push(self._import(module, self._line("utf-8")))
        elif op == 0x93:  # STACK_GLOBAL
            name = pop()
            module_item = pop()
            if isinstance(module_item, _Str) and isinstance(name, _Str):
                push(self._import(module_item.value, name.value))
            else:
                self._unsafe.append("STACK_GLOBAL with a name that is not a string literal (assembled in the pickle)")
                push(_Global("?"))
        elif op == 0x69:  # INST
            module = self._line("utf-8")
            g = self._import(module, self._line("utf-8"))
            self._pop_mark()
            self._call(g, "INST")
            push(OTHER)
        elif op == 0x6F:  # OBJ
            items = self._pop_mark()
            if not items:
                raise PickleError("OBJ without a class")
            self._call(items[0], "OBJ")
            push(OTHER)
        elif op in (0x52, 0x81):  # REDUCE, NEWOBJ
            pop()
            self._call(pop(), "REDUCE" if op == 0x52 else "NEWOBJ")
            push(OTHER)
        elif op == 0x92:  # NEWOBJ_EX
            pop()
            pop()
            self._call(pop(), "NEWOBJ_EX")
            push(OTHER)
        elif op == 0x62:  # BUILD
            pop()
            target = top()
            # State set on a class or function (not an instance) rewrites a global: the modelscan #85 gadget.
            if isinstance(target, _Global):
                self._unsafe.append(f"BUILD on {target.name} itself (sets attributes of an imported global)")
        elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4: a global from copyreg's registry, unknown here
            self._skip(1 if op == 0x82 else 2 if op == 0x83 else 4)
            self._unsafe.append("EXT opcode (a global from the copyreg extension registry)")
            push(_Global("?"))
        elif op == 0x50:  # PERSID
            self._line()
            push(OTHER)
        elif op == 0x51:  # BINPERSID
            pop()
            push(OTHER)
        else:
            raise PickleError(f"byte 0x{op:02x} at offset {self._at() - 1} is not a pickle opcode")

    def _run(self, chunk: Union[bytes, bytearray, memoryview], last: bool) -> int:
        if self._stopped or self._error is not None:
            return 0
        self._final = last
        used = 0
        if self._skip_left > 0:
            used = min(self._skip_left, len(chunk))
            self._skip_left -= used
            self._origin += used
            if self._skip_left > 0:
                if last:
                    self._error = f"an argument runs {self._skip_left} bytes past the end of the pickle"
                return used
        rest = bytes(chunk[used:])  # a copy: the caller may reuse its buffer
        carried = len(self._pending)
        self._buf = self._pending + rest if carried else rest
        self._pending = b""
        self._i = 0
        try:
            while not self._stopped and self._error is None:
                if self._i >= len(self._buf):
                    if self._final and self._skip_left == 0:
                        raise PickleError("the pickle ends without STOP")
                    break
                start = self._i
                try:
                    self._step()
                except _NeedMore:
                    self._pending = self._buf[start:]
                    self._origin += start
                    self._i = start
                    self._buf = b""
                    return used + len(rest)
        except (PickleError, ValueError, OverflowError, struct.error, IndexError) as err:
            self._error = str(err)
        consumed = used + max(0, self._i - carried)
        self._origin += self._i
        self._buf = b""
        return consumed


_FIXED_SKIP: Dict[int, int] = {0x47: 8, 0x4A: 4, 0x4B: 1, 0x4D: 2}

#: Every opcode this reader decodes, by name: checked against pickletools.opcodes by the tests.
KNOWN_OPCODES: Tuple[int, ...] = tuple(
    [0x2E, 0x80, 0x95, 0x28, 0x30, 0x31, 0x32, 0x46, 0x49, 0x4C, 0x8A, 0x8B, 0x4E, 0x88, 0x89, 0x42, 0x43, 0x8E, 0x96, 0x97, 0x98, 0x53, 0x54, 0x55, 0x8C, 0x56, 0x58, 0x8D]
    + [0x5D, 0x29, 0x7D, 0x8F, 0x61, 0x65, 0x75, 0x90, 0x73, 0x6C, 0x74, 0x64, 0x91, 0x85, 0x86, 0x87, 0x67, 0x68, 0x6A, 0x70, 0x71, 0x72, 0x94]
    + [0x63, 0x93, 0x69, 0x6F, 0x52, 0x81, 0x92, 0x62, 0x82, 0x83, 0x84, 0x50, 0x51]
    + list(_FIXED_SKIP)
)


def scan_pickle(data: Union[bytes, bytearray, memoryview], start: int = 0) -> PickleScan:
    """Reads one pickle from ``data`` at ``start``. Never raises for bad input: ``error`` says what was wrong."""
    reader = PickleReader(start)
    reader.push(memoryview(data)[start:])
    return reader.finish()


def judge_pickle(scan: PickleScan, format: str = "pickle") -> ContentReport:
    """code-capable if anything unsafe was seen (even before a broken tail), else malformed if it does not read cleanly."""
    if scan.unsafe:
        return ContentReport("code-capable", format, [Finding("pickle_unsafe_global", f"can run code when loaded: {what}") for what in scan.unsafe])
    if scan.error is not None:
        return ContentReport("malformed", format, [Finding("pickle_malformed", scan.error)])
    return ContentReport("data-only" if not scan.globals else "allowlisted-pickle", format, [])
