from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..areas.service import get_area
from ..auth.models import User
from ..auth.service import require, require_area
from ..database import transactional
from ..extensions import db
from ..problems import Conflict, InvalidInput, NotFound
from ..text import clean_text
from .models import Campaign


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_l("Unknown campaign %(id)s.", id=campaign_id))
    return campaign


@transactional
def create_campaign(user: User, *, code: str, name: str, area_code: str, starts_on, ends_on=None,
                    norm_new_build_vnd: int = 60_000_000, norm_repair_vnd: int = 30_000_000,
                    target_houses: int | None = None, publish_household_names: bool = False) -> Campaign:
    require(user, "manage")
    get_area(area_code)
    require_area(user, area_code)
    code = clean_text(code).upper()
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(_l("The campaign ends before it starts."),
                           errors={"ends_on": [_l("Must not be before starts_on.")]})
    if db.session.scalar(select(Campaign.id).where(Campaign.code == code)) is not None:
        raise Conflict(_l("Campaign code %(code)s is taken.", code=code))
    campaign = Campaign(code=code, name=name, area_code=area_code, starts_on=starts_on, ends_on=ends_on,
                        norm_new_build_vnd=norm_new_build_vnd, norm_repair_vnd=norm_repair_vnd,
                        target_houses=target_houses, publish_household_names=publish_household_names,
                        created_by_id=user.id)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def list_campaigns():
    return select(Campaign).order_by(Campaign.id)
