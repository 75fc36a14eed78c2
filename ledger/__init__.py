"""The donation and social-fund ledger of the campaign "Chung tay xóa nhà tạm, nhà dột nát"."""
from __future__ import annotations

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """The app factory: settings from LEDGER_* variables, overridden by `config`."""
    from .config import load_settings

    settings = load_settings()
    settings.update(config or {})
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(settings)

    from . import wiring

    wiring.init_app(app)
    return app
