"""A template read for editing and written back keeping what the user wrote.

YAML goes through ruamel.yaml's round trip (comments, key order, quoting, flow style and CloudFormation's
short tags are kept; the indentation is the file's own); JSON keeps key order and its indentation.
Intrinsic functions are built in the file's own style: `!GetAtt A.B` in YAML, `{"Fn::GetAtt": [...]}` in JSON.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from safedeploy.errors import UserError


@dataclass
class Document:
    text: str
    data: Any
    is_json: bool
    indent: int = 2
    seq_offset: int = 0  # YAML: how far `- ` sits inside its parent key

    # ------------------------------------------------------------------ intrinsics
    def ref(self, name: str) -> Any:
        return {"Ref": name} if self.is_json else _tagged("!Ref", name)

    def getatt(self, logical_id: str, attribute: str) -> Any:
        if self.is_json:
            return {"Fn::GetAtt": [logical_id, attribute]}
        return _tagged("!GetAtt", f"{logical_id}.{attribute}")

    def sub(self, text: str) -> Any:
        if self.is_json:
            return {"Fn::Sub": text}
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        return _tagged("!Sub", DoubleQuotedScalarString(text))

    def join(self, separator: str, items: list[Any]) -> Any:
        if self.is_json:
            return {"Fn::Join": [separator, items]}
        from ruamel.yaml.comments import CommentedSeq
        from ruamel.yaml.tag import Tag

        inner = CommentedSeq(items)
        inner.fa.set_flow_style()
        outer = CommentedSeq([separator, inner])
        outer.fa.set_flow_style()
        outer.yaml_set_ctag(Tag(suffix="!Join"))
        return outer

    def mapping(self, items: dict[str, Any] | None = None) -> Any:
        if self.is_json:
            return dict(items or {})
        from ruamel.yaml.comments import CommentedMap

        return CommentedMap(items or {})

    def sequence(self, items: list[Any], flow: bool = False) -> Any:
        if self.is_json:
            return list(items)
        from ruamel.yaml.comments import CommentedSeq

        seq = CommentedSeq(items)
        if flow:
            seq.fa.set_flow_style()
        return seq

    # ------------------------------------------------------------------ mappings
    def append(self, mapping: Any, key: str, value: Any) -> None:
        """Add `key` at the end of `mapping`; in YAML the comments and blank lines that followed the
        last entry (they separate this mapping from what comes next) stay after the new one."""
        if self.is_json or not mapping:
            mapping[key] = value
            return
        last = list(mapping)[-1]
        trailer = _take_trailer(mapping, last)
        mapping[key] = value
        if trailer is not None:
            _put_trailer(mapping, key, trailer)

    # ------------------------------------------------------------------ text
    def dump(self) -> str:
        if self.is_json:
            text = json.dumps(self.data, indent=self.indent, ensure_ascii=False)
            text += "\n" if self.text.endswith("\n") else ""
            return text.replace("\n", "\r\n") if "\r\n" in self.text else text
        yaml = _yaml()
        yaml.indent(
            mapping=self.indent, sequence=max(self.indent, self.seq_offset + 2), offset=self.seq_offset
        )
        out = io.StringIO()
        yaml.dump(self.data, out)
        text = out.getvalue()
        if self.text.startswith("---") and not text.startswith("---"):
            text = "---\n" + text
        if "\r\n" in self.text:  # the file's own line endings (ruamel writes \n)
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return keep_original_lines(self.text, text)


def _squeezed(lines: list[str]) -> str:
    return " ".join("".join(lines).split())


def keep_original_lines(original: str, dumped: str) -> str:
    """The dumped YAML with the user's own lines wherever the dump only re-laid them out (a value
    moved onto its key's line, a comment's spacing): only what `init` adds is new text. Checked: the
    result must read as the same document as the dump, else the dump is kept."""
    import difflib

    old, new = original.splitlines(keepends=True), dumped.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op in ("replace", "delete") and _squeezed(old[i1:i2]) == _squeezed(new[j1:j2])):
            out.extend(old[i1:i2])
        else:
            out.extend(new[j1:j2])
    merged = "".join(out)
    if merged == dumped:
        return merged
    from cfnlint.decode import cfn_yaml

    try:
        same = bool(cfn_yaml.loads(merged) == cfn_yaml.loads(dumped))
    except Exception:
        same = False
    return merged if same else dumped


def _tagged(tag: str, value: str) -> Any:
    from ruamel.yaml.comments import TaggedScalar

    return TaggedScalar(value=value, tag=tag)


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the user wrote
    return yaml


_SEQ_ITEM = re.compile(r"^( *)- ")
_KEY = re.compile(r"^( *)[^\s#-][^:]*:\s*$")


def _guess_layout(text: str) -> tuple[int, int]:
    """(mapping indent, offset of `- ` under its key) as the file mostly writes them."""
    from collections import Counter

    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    steps: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    for line, following in itertools.pairwise(lines):
        key = _KEY.match(line)
        if not key:
            continue
        depth = len(following) - len(following.lstrip(" "))
        if _SEQ_ITEM.match(following):
            offsets[max(0, depth - len(key.group(1)))] += 1
        elif depth > len(key.group(1)):
            steps[depth - len(key.group(1))] += 1
    indent = steps.most_common(1)[0][0] if steps else 2
    indent = indent if indent in (2, 3, 4) else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return indent, min(offset, indent)


def parse(text: str, name: str) -> Document:
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UserError(f"{name}: not valid JSON: {exc}") from exc
        match = re.search(r"^\{\s*\n( +)\"", text)
        return Document(text, data, True, len(match.group(1)) if match else 2)
    try:
        data = _yaml().load(text)
    except Exception as exc:
        raise UserError(f"{name}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    indent, offset = _guess_layout(text)
    return Document(text, data, False, indent, offset)


# ------------------------------------------------------------------ ruamel comment plumbing
def _take_trailer(mapping: Any, key: str) -> Any:
    """The comment tokens after `key`'s value (ruamel keeps them on the key's entry, or on the last
    key of the nested value when the value is a block mapping/sequence)."""
    holder, slot = _deepest_last(mapping, key)
    if holder is None:
        return None
    entry = holder.ca.items.get(slot)
    if not entry:
        return None
    index = 2 if len(entry) > 2 and entry[2] is not None else 0
    token = entry[index]
    if token is None:
        return None
    entry[index] = None
    return token


def _deepest_last(mapping: Any, key: Any) -> tuple[Any, Any]:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    holder, slot = mapping, key
    while True:
        value = holder[slot]
        if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
            entry = holder.ca.items.get(slot)
            if entry and any(entry):
                return holder, slot
            holder, slot = value, list(value)[-1]
        elif isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
            entry = holder.ca.items.get(slot)
            if entry and any(entry):
                return holder, slot
            holder, slot = value, len(value) - 1
        else:
            return holder, slot


def _put_trailer(mapping: Any, key: str, token: Any) -> None:
    holder, slot = _deepest_last(mapping, key)
    from ruamel.yaml.comments import CommentedSeq

    entry = holder.ca.items.setdefault(slot, [None, None, None, None])
    if isinstance(holder, CommentedSeq):
        entry[0] = token
    else:
        entry[2] = token
