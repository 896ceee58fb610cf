"""A user's shown name is defined once (`gridcase.grids.accounts.display_name`); no other module re-derives it."""

from pathlib import Path

from django.contrib.auth import get_user_model

from gridcase.grids.accounts import display_name

ROOT = Path(__file__).resolve().parent.parent


def test_display_name_is_the_given_name_else_the_login_name(db):
    user = get_user_model()(username="li", first_name="李书记")
    assert display_name(user) == "李书记"
    user.first_name = ""
    assert display_name(user) == "li"
    assert display_name(None) == ""


def test_no_other_module_derives_a_shown_name():
    home = ROOT / "gridcase" / "grids" / "accounts.py"
    copies = [str(path.relative_to(ROOT)) for folder in ("api", "gridcase") for path in (ROOT / folder).rglob("*.py")
              if path != home and "get_full_name()" in path.read_text(encoding="utf-8")]
    assert copies == []
