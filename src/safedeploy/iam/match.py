"""Whether an IAM pattern (`*`, `?` wildcards) matches a request value, when either may hold values
only CloudFormation knows.

Values come from templates resolved by `safedeploy.template.scope`, where a value CloudFormation fixes
at deploy time is a placeholder (`<Fn>`, `<stack>`, `<AWS::AccountId>`). A placeholder that stands on
both sides is the same value and matches itself; elsewhere it stands for every value its shape allows
(a stack name matches `[a-zA-Z][-a-zA-Z0-9]*`, CloudFormation user guide; a generated physical name is
`<stack>-<logical id>-<suffix>`). The answer is True (matches for every such value), False (for none)
or None (it depends on a value not known here). Exact by construction over finite automata.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"<[^<>\s]+>")
# The characters a value can hold, as a finite alphabet: printable ASCII and one stand-in for all others.
_OTHER = "\x00"
_ALPHABET = frozenset(string.printable[:95]) | {_OTHER}
_NAME = frozenset(string.ascii_letters + string.digits + "-")
_DIGITS = frozenset(string.digits)
_REGION = frozenset(string.ascii_lowercase + string.digits + "-")


@dataclass(frozen=True)
class Shape:
    """The values a placeholder can take: a first character class, then any run of a second."""

    first: frozenset[str]
    rest: frozenset[str]


ANY = Shape(_ALPHABET, _ALPHABET)
STACK_NAME = Shape(frozenset(string.ascii_letters), _NAME)
GENERATED_NAME = STACK_NAME  # <stack>-<logical id>-<suffix>
NUMBER = Shape(_DIGITS, _DIGITS)
ACCOUNT = NUMBER
REGION = Shape(frozenset(string.ascii_lowercase), _REGION)

# Token: (chars it consumes, repeats?). A literal is (frozenset({c}), False); `*` is (ALPHABET, True).
Token = tuple[frozenset[str], bool]


def _tokens(text: str, *, glob: bool, shapes: Mapping[str, Shape], shared: Mapping[str, str]) -> list[Token]:
    out: list[Token] = []
    pos = 0
    for m in [*PLACEHOLDER.finditer(text), None]:
        end = m.start() if m else len(text)
        for ch in text[pos:end]:
            if glob and ch == "*":
                out.append((_ALPHABET | frozenset(shared.values()), True))
            elif glob and ch == "?":
                out.append((_ALPHABET, False))
            else:
                out.append((frozenset({ch if ch in _ALPHABET else _OTHER}), False))
        if m is None:
            break
        name = m.group(0)
        if name in shared:
            out.append((frozenset({shared[name]}), False))
        else:
            shape = shapes.get(name, ANY)
            out += [(shape.first, False), (shape.rest, True)]
        pos = m.end()
    return out


def _closure(tokens: list[Token], states: frozenset[int]) -> frozenset[int]:
    seen = set(states)
    todo = list(states)
    while todo:
        i = todo.pop()
        if i < len(tokens) and tokens[i][1] and i + 1 not in seen:
            seen.add(i + 1)
            todo.append(i + 1)
    return frozenset(seen)


def _step(tokens: list[Token], states: frozenset[int], ch: str) -> frozenset[int]:
    nxt = set()
    for i in states:
        if i < len(tokens) and ch in tokens[i][0]:
            nxt.add(i if tokens[i][1] else i + 1)
    return _closure(tokens, frozenset(nxt))


def _compare(pattern: list[Token], value: list[Token]) -> tuple[bool, bool]:
    """(some value matches, every value matches), over the product of both automata."""
    alphabet = set().union(*(t[0] for t in pattern + value)) if pattern + value else set()
    start = (_closure(value, frozenset({0})), _closure(pattern, frozenset({0})))
    seen = {start}
    todo = [start]
    some, every = False, True
    while todo:
        vs, ps = todo.pop()
        if len(value) in vs:
            if len(pattern) in ps:
                some = True
            else:
                every = False
        if some and not every:
            break
        for ch in alphabet:
            nv = _step(value, vs, ch)
            if not nv:
                continue
            nxt = (nv, _step(pattern, ps, ch))
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return some, every


@functools.lru_cache(maxsize=4096)
def _cached(pattern: str, value: str, shapes: tuple[tuple[str, Shape], ...], nocase: bool) -> bool | None:
    if nocase:
        pattern, value = pattern.lower(), value.lower()
    table = dict(shapes)
    common = sorted(set(PLACEHOLDER.findall(pattern)) & set(PLACEHOLDER.findall(value)))
    # One character outside the alphabet per shared placeholder: `*` spans it, nothing else does.
    shared = {name: chr(0xE000 + i) for i, name in enumerate(common)}
    if shared and "?" in PLACEHOLDER.sub("", pattern):
        return None  # `?` against a value of unknown length: not decided here
    p = _tokens(pattern, glob=True, shapes=table, shared=shared)
    v = _tokens(value, glob=False, shapes=table, shared=shared)
    some, every = _compare(p, v)
    if not some:
        return False
    pattern_open = any(n not in shared for n in PLACEHOLDER.findall(pattern))
    value_open = any(n not in shared for n in PLACEHOLDER.findall(value))
    if every and not pattern_open:
        return True
    if not pattern_open and not value_open:
        return every
    return None


def matches(
    pattern: str, value: str, shapes: Mapping[str, Shape] | None = None, *, nocase: bool = False
) -> bool | None:
    """Whether the IAM `pattern` matches `value`: True, False, or None when it depends on an unknown."""
    if "<" not in pattern and "<" not in value:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if nocase else re.DOTALL) is not None
    return _cached(pattern, value, tuple(sorted((shapes or {}).items(), key=lambda kv: kv[0])), nocase)
