"""Text encodings of CSV files: detected when the guess is clear, refused when not, any codec
Python knows when given. Real place names in the encodings spreadsheets write them in."""

from __future__ import annotations

import pytest

from geo.errors import SourceError, ValidationError
from geo.io.encodings import codec, decode, detect

HELSINKI = ("id,name,shelter_class,capacity_people,lon,lat\n"
            "S1,Sörnäisten peruskoulu,emergency,400,24.9633,60.1872\n"
            "S2,Käpylän peruskoulu,emergency,300,24.9480,60.2140\n"
            "S3,Töölön yhteiskoulu,short_term,500,24.9230,60.1790\n")
GENEVA = "id,name\n1,École élémentaire Hôtel de Ville Genève\n"
VADUZ = ("id,name,type,headcount,lon,lat\n"
         "T1,Feuerwehr Schaan-Süd Müllerstraße,fire,9,9.5209,47.1410\n")
BEIJING = ("名称,纬度,经度,容纳人数,类别\n"
           "北京市第一中学操场,39.9,116.4,800,紧急避难场所\n"
           "朝阳公园,39.94,116.48,2000,短期固定避难场所\n")
ONE_ROW = "id,name,type,headcount,lon,lat\nT1,Sörnäisten koulu,fire,5,24.9633,60.1872\n"
MIXED = ("id,name,shelter_class,lon,lat\n"
         "S1,Schulhaus Mühleholz 学校,short_term,9.5175,47.1496\n"
         "S2,Sporthalle 体育馆,emergency,9.5231,47.1338\n")


@pytest.mark.parametrize(("text", "encoding"), [
    (HELSINKI, "cp1252"), (GENEVA, "cp1252"), (VADUZ, "cp1252"),
    (ONE_ROW, "cp1252"),  # the file that was read as Chinese
    ("id,name\n1,Sörnäisten koulu\n", "cp1252"), ("id,name\n1,公园\n", "gbk"),  # tiny files
    ("id,name\n1,École\n", "utf-8"), ("name\nTöölö\n", "utf-8"),
    (BEIJING, "gbk"), (BEIJING, "gb18030"), (MIXED, "gbk"), (MIXED, "gb18030"),
    (HELSINKI, "gb18030"),  # GB18030 holds Latin letters too, in four bytes
    (HELSINKI + BEIJING, "utf-8"), (HELSINKI + BEIJING, "utf-8-sig"),
    ("id,name\n1,Пожарная часть № 3\n2,Городская больница\n", "cp1251"),  # beyond the usual
])
def test_real_names_are_read_without_naming_the_encoding(text, encoding):
    assert decode(text.encode(encoding)) == text


def test_the_cp1252_file_is_not_read_as_chinese():
    data = ONE_ROW.encode("cp1252")
    assert "S鰎n鋓sten koulu" in data.decode("gb18030")  # valid, and wrong
    assert detect(data) == "cp1252"


@pytest.mark.parametrize(("text", "encoding"), [
    ("id,name\n1,中心\n", "gbk"),  # as cp1252 "ÖÐÐÄ": too few letters to tell
    ("id,name\n1,医院\n", "gbk"),  # valid UTF-8 too, as "ҽԺ"
    ("id,name\n1,Niño\n", "cp1252"),  # as GB18030 "Ni駉"
])
def test_an_unclear_guess_is_refused_and_asks_for_the_encoding(text, encoding):
    data = text.encode(encoding)
    with pytest.raises(SourceError, match=r"rows.csv: the text encoding is not clear: it reads "
                                          r"as \w+ and as \w+, with different text; give the "
                                          r"right one with --encoding"):
        decode(data, name="rows.csv")
    assert decode(data, encoding) == text


@pytest.mark.parametrize(("name", "text"), [
    ("cp1250", "id,name\n1,Základní škola Čáslav\n2,Hasičská zbrojnice Říčany\n"),
    ("cp1254", "id,name\n1,İstanbul İtfaiye Şişli\n"),
    ("Windows-1252", GENEVA), ("latin-1", GENEVA), ("shift_jis", "id,name\n1,渋谷消防署\n"),
    ("UTF-16", BEIJING), ("utf8", HELSINKI),
])
def test_any_codec_python_knows_can_be_given(name, text):
    data = text.encode(codec(name))
    assert decode(data, name) == text


def test_given_utf8_drops_the_byte_order_mark():
    assert decode("\ufeff名称".encode(), "utf-8") == "名称"


@pytest.mark.parametrize("name", ["klingon", "latin-9", "base64", "rot13", ""])
def test_unknown_or_non_text_codecs_are_refused_naming_the_field(name):
    with pytest.raises(ValidationError, match=f"encoding: {name!r} is not a text encoding"):
        codec(name)


def test_bytes_that_do_not_fit_the_given_encoding_are_reported():
    with pytest.raises(SourceError, match="rows.csv: not valid utf-8 at byte 10; give the "
                                          "file's encoding with --encoding"):
        decode("id,name\n1,公园\n".encode("gbk"), "utf-8", name="rows.csv")
