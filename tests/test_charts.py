"""The server-drawn SVG charts: escaped, described in words, safe with odd data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from trainer.manage.charts import HEIGHT, TOP, cell_colour, heat_grid, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: Markup) -> ET.Element:
    """The chart must be well-formed XML on its own (escaping mistakes break this first)."""
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))


def desc(root: ET.Element) -> str:
    return root.find(f"{SVG}desc").text


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


# -- line chart -------------------------------------------------------------------------------


def test_line_chart_is_an_accessible_responsive_image():
    root = parse(line_chart([("1 Mar", 40), ("8 Mar", 55.5), ("15 Mar", 80)], title="Progress"))
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox") == "0 0 400 220"
    title_id, desc_id = root.get("aria-labelledby"), root.get("aria-describedby")
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "Progress"
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert desc(root) == "1 Mar: 40%; 8 Mar: 55.5%; 15 Mar: 80%."
    # Gridlines at 0, 50 and 100 %, labelled; every point marked and labelled.
    assert {"0%", "50%", "100%"} <= set(texts(root))
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    assert {"40%", "55.5%", "80%", "1 Mar", "8 Mar", "15 Mar"} <= set(texts(root))
    assert root.find(f"{SVG}polyline") is not None


def test_line_chart_escapes_every_label():
    chart = line_chart([("<b>Mon</b>", 10), ('"Tue" & co', 20)], title="A <script> title")
    html = str(chart)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Mon&lt;/b&gt;" in html
    root = parse(chart)
    assert root.find(f"{SVG}title").text == "A <script> title"
    assert "<b>Mon</b>: 10%" in desc(root)
    assert "<b>Mon</b>" in texts(root)


def test_line_chart_clamps_values_to_its_frame():
    root = parse(line_chart([("a", -20), ("b", 150), ("c", float("nan"))], title="T"))
    assert desc(root) == "a: 0%; b: 100%; c: 0%."
    ys = [float(c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert all(TOP <= y <= HEIGHT for y in ys)
    assert min(ys) == TOP  # 150 % is drawn at the top line, not above it


def test_line_chart_other_scales_and_units():
    root = parse(line_chart([("Mon", 3), ("Tue", 12)], title="Lessons", y_max=10, unit=""))
    assert {"0", "5", "10"} <= set(texts(root))
    assert desc(root) == "Mon: 3; Tue: 10."


def test_line_chart_without_data_or_with_one_point():
    empty = parse(line_chart([], title="Nothing yet"))
    assert desc(empty) == "No data yet."
    assert "No data yet" in texts(empty)
    assert not list(empty.iter(f"{SVG}circle"))
    one = parse(line_chart([("Today", 70)], title="One"))
    assert len(list(one.iter(f"{SVG}circle"))) == 1
    assert one.find(f"{SVG}polyline") is None


def test_many_points_keep_their_labels_readable():
    points = [(f"W{n}", n * 5) for n in range(1, 21)]
    root = parse(line_chart(points, title="Weeks"))
    labels = [t for t in texts(root) if t.startswith("W")]
    assert "W20" in labels, "the latest point is always labelled"
    assert len(labels) < 20
    assert len(list(root.iter(f"{SVG}circle"))) == 20
    assert all(f"W{n}: {n * 5}%" in desc(root) for n in range(1, 21))


def test_ids_differ_between_two_charts_on_a_page():
    a, b = parse(line_chart([], title="A")), parse(line_chart([], title="A"))
    assert a.get("aria-labelledby") != b.get("aria-labelledby")


# -- heat grid ------------------------------------------------------------------------------


def test_heat_grid_prints_every_value_and_describes_it():
    root = parse(
        heat_grid(
            ["Ana Souza", "Ben Okafor"],
            ["Phone greeting", "Service recovery"],
            [[45, 92.4], [None, 70]],
            title="Recall today",
        )
    )
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Recall today"
    assert desc(root) == (
        "Ana Souza: Phone greeting 45%, Service recovery 92.4%. "
        "Ben Okafor: Phone greeting no data, Service recovery 70%."
    )
    shown = texts(root)
    for value in ("45%", "92.4%", "–", "70%", "Ana Souza", "Ben Okafor", "Phone", "recovery"):
        assert value in shown
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert fills[0] == cell_colour(45) and fills[1] == cell_colour(92.4)
    assert fills[2] == "#eef0f3"  # no data: neutral grey, and "–" printed


def test_heat_grid_colours_run_from_red_through_amber_to_green():
    red, amber, green = cell_colour(10), cell_colour(65), cell_colour(99)
    assert len({red, amber, green}) == 3
    assert cell_colour(0) == cell_colour(50) == red
    assert cell_colour(85) == cell_colour(100) == green
    assert cell_colour(58) not in (red, amber, green)  # blended in between
    assert cell_colour(75) not in (red, amber, green)


def test_heat_grid_escapes_names_and_headers():
    chart = heat_grid(["<img src=x onerror=alert(1)>"], ["A & <B>"], [[50]], title="<T>")
    html = str(chart)
    assert "<img" not in html and "<B>" not in html and "<T>" not in html
    root = parse(chart)
    assert "<img src=x onerror=alert(1)>" in desc(root)
    assert root.find(f"{SVG}title").text == "<T>"


def test_heat_grid_clamps_values():
    root = parse(heat_grid(["A"], ["x", "y"], [[-5, 140]], title="T"))
    assert desc(root) == "A: x 0%, y 100%."
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert fills == [cell_colour(0), cell_colour(100)]


def test_heat_grid_empty_or_ragged_input():
    for rows, columns, values in (([], [], []), (["A"], [], [[]]), ([], ["x"], [])):
        root = parse(heat_grid(rows, columns, values, title="Empty"))
        assert desc(root) == "No data yet."
        assert "No data yet" in texts(root)
    ragged = parse(heat_grid(["A", "B"], ["x", "y"], [[10]], title="Ragged"))
    assert desc(ragged) == "A: x 10%, y no data. B: x no data, y no data."


def test_heat_grid_is_drawn_at_its_natural_size():
    root = parse(heat_grid(["A"], ["x", "y", "z"], [[1, 2, 3]], title="T"))
    width = int(root.get("width"))
    assert re.fullmatch(rf"0 0 {width} \d+", root.get("viewBox"))
