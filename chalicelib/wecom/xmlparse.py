"""The hardened XML layer for WeCom callback bodies.

Callback bodies arrive from the internet before any signature is checked, so the parser forbids DTDs,
entity declarations and external references (XXE, billion laughs, quadratic blowup) and refuses oversize
bodies before parsing them. WeCom's callback documents are a flat ``<xml>`` element, so the result is a
plain dict.

Why not defusedxml: it was the parser here until it turned out to cost 25-47 us per small document,
more than verifying and decrypting the callback together, on a path that must answer inside WeCom's
5-second window. defusedxml's ElementTree is the stdlib's expat parser with four handlers installed that
raise on the dangerous constructs, plus a tree we do not need. This module installs the same four
handlers on the same stdlib expat parser (``xml.parsers.expat``) and builds the flat dict straight from
the parse events, so the forbidden constructs are exactly the ones defusedxml forbids with
``forbid_dtd=True, forbid_entities=True, forbid_external=True``:

* any ``<!DOCTYPE ...>`` at all (StartDoctypeDeclHandler), so no internal subset, no external DTD, and no
  entity of any kind can be declared: the other three handlers below are then defence in depth;
* any entity declaration, general or parameter, internal or external (EntityDeclHandler);
* any unparsed (NDATA) entity declaration (UnparsedEntityDeclHandler);
* any external entity reference (ExternalEntityRefHandler), so nothing is ever fetched or opened.

Namespace processing is off (WeCom uses none), so a prefixed name such as ``xi:include`` is an ordinary
element name: nothing is included or resolved. Character references and the five predefined entities
are expanded as in any XML parser; any other entity reference is undeclared and therefore malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.parsers import expat

DEFAULT_MAX_BYTES = 64 * 1024

XML_TOO_LARGE = "xml_too_large"
XML_MALFORMED = "xml_malformed"
XML_FORBIDDEN = "xml_forbidden"


class XmlError(Exception):
    """One error type for every unreadable body, so a handler needs a single except clause; ``code`` is
    a stable string for logs and metrics."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Envelope:
    """The outer POST body. ``to_user_name`` is the corpid (self-built app) or the suite id (suite)."""

    to_user_name: str
    encrypt: str
    agent_id: str


# --- the four refusals defusedxml installs (forbid_dtd, forbid_entities x2, forbid_external) ---------

def _refuse_doctype(name, system_id, public_id, has_internal_subset):
    raise XmlError(XML_FORBIDDEN, f"forbidden XML construct: DTD <!DOCTYPE {name}> "
                                  f"(system_id={system_id!r}, public_id={public_id!r})")


def _refuse_entity_decl(name, is_parameter_entity, value, base, system_id, public_id, notation_name):
    kind = "parameter entity" if is_parameter_entity else "entity"
    raise XmlError(XML_FORBIDDEN, f"forbidden XML construct: {kind} declaration {name!r} "
                                  f"(system_id={system_id!r}, public_id={public_id!r})")


def _refuse_unparsed_entity_decl(name, base, system_id, public_id, notation_name):
    raise XmlError(XML_FORBIDDEN, f"forbidden XML construct: unparsed entity declaration {name!r} "
                                  f"(system_id={system_id!r}, public_id={public_id!r})")


def _refuse_external_entity_ref(context, base, system_id, public_id):
    raise XmlError(XML_FORBIDDEN, f"forbidden XML construct: external entity reference "
                                  f"(system_id={system_id!r}, public_id={public_id!r})")


def parse_xml(body: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, str]:
    """Parses a WeCom ``<xml>`` document into {child tag: text}.

    Only leaf children are kept: the fields callbacks need are flat, and nested elements (ExtAttr,
    ExternalProfile) are better fetched from the API than half-read here. A repeated tag keeps its first
    value, so a crafted duplicate cannot override a field.
    """
    if isinstance(body, str):
        if len(body) > max_bytes:
            raise XmlError(XML_TOO_LARGE, f"body exceeds {max_bytes} bytes")
        body = body.encode("utf-8", "surrogatepass")
    elif isinstance(body, bytearray):
        body = bytes(body)
    elif not isinstance(body, bytes):
        raise XmlError(XML_MALFORMED, f"body must be bytes or str, not {type(body).__name__}")
    if len(body) > max_bytes:
        raise XmlError(XML_TOO_LARGE, f"body is {len(body)} bytes, over {max_bytes}")

    fields: dict[str, str] = {}
    text: list[str] = []
    # depth 1 is the root, 2 a child of the root (a field if it has no element children), 3+ nested.
    depth = 0
    tag = ""
    leaf = False

    def start(name, attrs):
        nonlocal depth, tag, leaf
        depth += 1
        if depth == 2:
            tag = name
            leaf = True
            text.clear()
        elif depth > 2:
            leaf = False
        elif name != "xml":
            raise XmlError(XML_MALFORMED, f"root element is <{name}>, expected <xml>")

    def end(name):
        nonlocal depth
        if depth == 2 and leaf and tag not in fields:
            fields[tag] = "".join(text)
        depth -= 1

    def data(chunk):
        if depth == 2:
            text.append(chunk)

    parser = expat.ParserCreate()  # no namespace_separator: namespace processing stays off
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity_decl
    parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity_decl
    parser.ExternalEntityRefHandler = _refuse_external_entity_ref
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise XmlError(XML_MALFORMED, f"not well-formed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # a declared encoding Python cannot decode or does not know
        raise XmlError(XML_MALFORMED, f"not well-formed XML: {exc}") from None
    return fields


def parse_envelope(body: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Reads the encrypted POST body; an envelope without Encrypt cannot be verified, so it is malformed."""
    fields = parse_xml(body, max_bytes)
    encrypt = fields.get("Encrypt", "")
    if not encrypt:
        raise XmlError(XML_MALFORMED, "envelope has no Encrypt element")
    return Envelope(to_user_name=fields.get("ToUserName", ""), encrypt=encrypt,
                    agent_id=fields.get("AgentID", ""))
