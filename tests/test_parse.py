"""The parser finds the 7 pages by title, nests sections correctly and keeps metadata out."""

import re

EXPECTED_URLS = {
    "Treating Gastrointestinal Stromal Tumors": "https://www.cancer.org/cancer/gastrointestinal-stromal-tumor/treating.html",
    "Surgery for Gastrointestinal Stromal Tumor": "https://www.cancer.org/cancer/gastrointestinal-stromal-tumor/treating/surgery.html",
    "Ablation and Embolization to Treat Gastrointestinal Stromal Tumors": "https://www.cancer.org/cancer/gastrointestinal-stromal-tumor/treating/ablation-embolization.html",
    "Targeted Therapy for Gastrointestinal Stromal Tumor": "https://www.cancer.org/cancer/gastrointestinal-stromal-tumor/treating/targeted-therapy.html",
    "Chemotherapy for Gastrointestinal Stromal Tumor": "https://www.cancer.org/cancer/gastrointestinal-stromal-tumor/treating/chemotherapy.html",
    "Radiation Therapy for Gastrointestinal Stromal Tumor": "https://www.cancer.org/cancer/gastrointestinal-stromal-tumor/treating/radiation-therapy.html",
    "Treatment Choices for Gastrointestinal Stromal Tumor Based on Tumor Spread": "https://www.cancer.org/cancer/gastrointestinal-stromal-tumor/treating/by-spread.html",
}  # fmt: skip


def _paths(pages):
    return {s.heading_path for p in pages for s in p.sections}


def test_seven_pages_in_order_with_their_urls(pages):
    assert [p.title for p in pages] == list(EXPECTED_URLS)
    assert {p.title: p.url for p in pages} == EXPECTED_URLS
    assert all(p.review_date == "2017-05-17" for p in pages)


def test_known_sections_have_the_right_paths(pages):
    paths = _paths(pages)
    for expected in [
        "Surgery for Gastrointestinal Stromal Tumor › Surgery for small GISTs",
        "Ablation and Embolization to Treat Gastrointestinal Stromal Tumors › Embolization",
        "Ablation and Embolization to Treat Gastrointestinal Stromal Tumors › Embolization › "
        "What to expect",
        "Ablation and Embolization to Treat Gastrointestinal Stromal Tumors › Ablation › "
        "Possible side effects of ablation",
        "Targeted Therapy for Gastrointestinal Stromal Tumor › Sunitinib (Sutent)",
        "Treatment Choices for Gastrointestinal Stromal Tumor Based on Tumor Spread › "
        "Recurrent tumors",
        "Treating Gastrointestinal Stromal Tumors › Thinking about taking part in a clinical trial",
    ]:
        assert expected in paths
    # Embolization is a sibling of Ablation, not a part of it, despite its heading level.
    assert not any("Ablation › Embolization" in p for p in paths)


def test_spans_point_at_the_section_in_the_source(pages, sources):
    raw = sources.read_text()
    for page in pages:
        for section in page.sections:
            span = raw[section.start : section.end]
            if len(section.path) > 1:
                assert section.title.split(" (")[0] in span.split("\n")[0]
            for paragraph in section.paragraphs:
                assert section.start <= paragraph.start < paragraph.end <= section.end


def test_answer_text_has_no_markup_or_metadata(pages):
    for page in pages:
        for section in page.sections:
            text = section.text
            assert "**" not in text and "<sup>" not in text and "](" not in text
            assert not re.search(r"(?<!\w)\*\w", text)
            assert "Last Medical Review" not in text
            assert "copyrighted" not in text and "1.800.227.2345" not in text
            assert section.title not in ("Hyperlinks", "References", "Written by")


def test_references_are_page_metadata(pages):
    by_slug = {p.slug: p for p in pages}
    assert by_slug["treating"].references == ()  # page 1 has no reference list
    assert any("Lancet" in r for r in by_slug["targeted-therapy"].references)
    assert all(len(p.references) >= 3 for p in pages if p.slug != "treating")


def test_paragraphs_broken_by_the_export_are_joined(pages):
    text = " ".join(s.text for p in pages for s in p.sections)
    assert "speak with one of our trained specialists." in text
    assert "damaged by diseases such as hepatitis or cirrhosis" in text
