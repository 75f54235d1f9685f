"""Importing ASIN and campaign lists: all lines or none, Excel's dialects, upserts, and the command."""

import pytest
from django.core.management import CommandError, call_command

from brands import imports
from brands.models import Brand, BrandAsin, BrandCampaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(user):
    return Brand.objects.create(owner=user, name="Acme")


def run_import(brand, data: bytes, kind=None, filename="list.csv"):
    parsed = imports.parse(imports.decode(data), filename=filename, kind=kind, user=brand.owner)
    return parsed, (imports.apply(brand, parsed) if parsed.ok else None)


def test_a_good_asin_file_imports_every_line(brand):
    data = b"asin,title,marketplace\nB0AAAAAAA1,Tent,US\nb0aaaaaaa2,Stove,US\n0306406152,Book,\n"
    parsed, outcome = run_import(brand, data)
    assert parsed.errors == []
    assert (outcome.created, outcome.updated) == (3, 0)
    assert dict(brand.asins.values_list("asin", "title")) == {"B0AAAAAAA1": "Tent", "B0AAAAAAA2": "Stove",
                                                               "0306406152": "Book"}  # fmt: skip


def test_a_file_with_bad_lines_imports_nothing_and_names_each_line(brand):
    data = b"asin,title\nB0AAAAAAA1,Good\nB0SHORT,Too short\n\nX123456789,Not an ASIN\n,Empty\n"
    parsed, outcome = run_import(brand, data, filename="acme.csv")
    assert outcome is None
    assert parsed.errors == [
        "acme.csv:3: 'B0SHORT' is not an ASIN (10 characters: B0 and 8 letters or digits, or an ISBN-10).",
        "acme.csv:5: 'X123456789' is not an ASIN (10 characters: B0 and 8 letters or digits, or an ISBN-10).",
        "acme.csv:6: the ASIN is empty.",
    ]
    assert not BrandAsin.objects.exists()
    with pytest.raises(imports.ImportFileError):
        imports.apply(brand, parsed)


def test_excel_export_with_bom_semicolons_and_quoted_fields(brand):
    data = '\ufeffASIN;Title;Marketplace\r\nB0AAAAAAA1;"Tent; 2-person, ""Ultra""";US\r\n'.encode()
    parsed, outcome = run_import(brand, data)
    assert parsed.errors == [] and outcome.created == 1
    assert brand.asins.get().title == 'Tent; 2-person, "Ultra"'


def test_windows_1252_file_is_read(brand):
    parsed, _ = run_import(brand, "asin,title\nB0AAAAAAA1,Café\n".encode("cp1252"))
    assert brand.asins.get().title == "Café"


def test_tsv_campaigns_with_types_and_instances(brand, user, make_instance):
    instance = make_instance(user, instance_id="amcacme1")
    data = (
        b"Campaign ID\tCampaign Name\tType\tInstance\n"
        b"111\tSpring\tsponsored products\tamcacme1\n222\tDSP one\tDSP\t\n"
    )
    parsed, outcome = run_import(brand, data, filename="c.tsv")
    assert parsed.kind == "campaigns" and parsed.errors == [] and outcome.created == 2
    spring = brand.campaigns.get(campaign_id="111")
    assert (spring.name, spring.type, spring.instance) == ("Spring", "SP", instance)


def test_campaign_errors_name_type_id_and_foreign_instance(brand, other_user, make_instance):
    make_instance(other_user, instance_id="amctheirs")
    data = b"campaign_id,name,type,instance\nbad id!,x,SP,\n1,x,TV,\n2,x,SD,amctheirs\n"
    parsed, _ = run_import(brand, data, filename="c.csv")
    assert [e.split(": ", 1)[0] for e in parsed.errors] == ["c.csv:2", "c.csv:3", "c.csv:4"]
    assert "is not one of SP, SB, SD, DSP" in parsed.errors[1]
    assert "is not one of your AMC instances" in parsed.errors[2]
    assert not BrandCampaign.objects.exists()


def test_reimport_updates_instead_of_duplicating(brand):
    run_import(brand, b"asin,title\nB0AAAAAAA1,Old\nB0AAAAAAA2,Kept\n")
    _, outcome = run_import(brand, b"asin,title\nB0AAAAAAA1,New\nB0AAAAAAA3,Added\n")
    assert (outcome.created, outcome.updated) == (1, 1)
    assert dict(brand.asins.values_list("asin", "title")) == {"B0AAAAAAA1": "New", "B0AAAAAAA2": "Kept",
                                                               "B0AAAAAAA3": "Added"}  # fmt: skip


def test_a_header_without_the_id_column_is_refused(brand):
    with pytest.raises(imports.ImportFileError, match="no 'campaign_id' column"):
        imports.parse("name,type\nx,SP\n", filename="f.csv", kind="campaigns")


def test_command_imports_and_refuses_bad_files(user, tmp_path, capsys):
    good = tmp_path / "asins.tsv"
    good.write_text("asin\ttitle\nB0AAAAAAA1\tTent\n")
    call_command("import_brand_lists", str(good), user=user.email, brand="Acme")
    assert "1 added, 0 updated" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("asin\nB0AAAAAAA2\nnope\n")
    with pytest.raises(CommandError, match="1 bad line"):
        call_command("import_brand_lists", str(bad), user=user.email, brand="Acme", kind="asins")
    assert f"{bad}:3: 'NOPE' is not an ASIN" in capsys.readouterr().err
    assert list(Brand.objects.get(owner=user, name="Acme").asins.values_list("asin", flat=True)) == ["B0AAAAAAA1"]
