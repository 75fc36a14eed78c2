"""Pages of a query for the API's list endpoints (flask-smorest's page and page_size)."""
from sqlalchemy import func, select

from .extensions import db


def paginate(query, pagination_parameters):
    """One page of a select(); the total goes to the X-Pagination header."""
    pagination_parameters.item_count = db.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery()))
    return db.session.scalars(query.limit(pagination_parameters.page_size)
                              .offset(pagination_parameters.first_item)).unique().all()
