from attrition.ingest.document_ids import document_id, normalise_text, source_label


def test_the_same_document_gets_the_same_id_whatever_its_whitespace() -> None:
    saved_on_windows = "tanks ‒ 3150 (+8),\r\n\r\n\r\nAPV ‒ 6100  (+9)\r\n"
    saved_on_linux = "tanks ‒ 3150 (+8),\n\nAPV ‒ 6100 (+9)"
    assert document_id("file", "report.txt", saved_on_windows) == document_id(
        "file", "report.txt", saved_on_linux
    )


def test_ids_differ_by_source_location_and_text() -> None:
    base = document_id("web", "https://example.org/a", "tanks ‒ 3150")
    assert base.startswith("web:")
    assert base != document_id("web", "https://example.org/b", "tanks ‒ 3150")
    assert base != document_id("web", "https://example.org/a", "tanks ‒ 3151")
    assert base.split(":", 1)[1] != document_id("file", "https://example.org/a", "x").split(":")[1]


def test_normalise_text_keeps_lines_and_one_blank_line() -> None:
    assert normalise_text("  a\u00a0 b \n\n\n\n c\t\n") == "a b\n\nc"


def test_source_labels_are_key_safe() -> None:
    assert source_label("Web Feed/Reuters") == "web-feed-reuters"
    assert source_label("") == "unknown"
