"""What the staff pages show of any background job (the exports' and the imports' pages
add what their kind of job made)."""
from __future__ import annotations

from ..web.form_input import show_money
from .models import Job
from .service import STATUS_LABELS


def progress_view(job: Job) -> dict:
    """Status, progress in rows and percent, for the job pages and lists."""
    total, done = job.progress_total, job.progress_done or 0
    return {"job": job, "id": job.id, "status": job.status, "status_label": STATUS_LABELS.get(job.status, job.status),
            "finished": job.is_finished, "done": done, "total": total, "done_text": show_money(done),
            "total_text": show_money(total) if total is not None else None, "percent": job.percent}
