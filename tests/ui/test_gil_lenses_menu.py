"""The main window's Lenses menu opens each lens once and closes them with the window."""

from __future__ import annotations


def test_lenses_menu_opens_and_closes_lens_windows(window, qtbot):
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Lenses" in titles
    lens = window.lenses.show("gil")
    assert lens.isVisible() and window.lenses.show("gil") is lens  # raised, not duplicated
    cores = window.lenses.show("cores")
    assert cores.watch is lens.watch  # one thread sampler for both
    window.lenses.close_all()
    assert not lens.isVisible() and not window.lenses.open
