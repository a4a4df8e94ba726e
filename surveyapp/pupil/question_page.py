"""Drawing a question page: the layout, the progress bar, the page's tokens and address.

Shared by the question page view and the CSRF recovery in :mod:`.errors`. A page drawn
without a submitted form and none of whose answers is stored comes from :mod:`.page_cache`.
"""

from __future__ import annotations

from flask import current_app, render_template, request, session, url_for

from ..forms import PageForm, build_page_form
from ..i18n import current_language, text_direction
from ..questionnaire import navigation
from ..questionnaire.model import Page, Questionnaire
from ..signing import csrf_token
from . import page_cache
from .tablet import page_token


def questionnaire_language(q: Questionnaire) -> str:
    """The pupil's language if the questionnaire has it, else the questionnaire's own."""
    lang = current_language()
    return lang if lang in q.languages else q.default_language


def render_page(
    current: Page,
    form: PageForm | None,
    response_id: int,
    route: navigation.Route,
    *,
    status: int = 200,
    notice: str | None = None,
):
    """Draw a question page; ``form=None`` draws it from the stored answers.

    Drawn without a form, a page none of whose answers is stored comes from
    :mod:`.page_cache` (the usual case: the page after the one just answered).
    """
    q = route.questionnaire
    position, total = route.progress(current.id)
    qlang = questionnaire_language(q)
    context = {
        "q": q,
        "page": current,
        "page_title": q.text(current.title, qlang) if current.title else "",
        "qlang": qlang,
        "qdir": text_direction(qlang),
        "position": position,
        "total": total,
        "is_last": route.next_page(current.id) is None,
    }
    headers = {"Content-Location": url_for("pupil.page", page_id=current.id)}
    if form is None:
        questions = route.visible_questions(current)
        key = None
        if not (current_app.debug or notice or "_flashes" in session):
            key = page_cache.fresh_page_key(
                q,
                current,
                questions,
                route.effective,
                current_language(),
                request.script_root,
                position,
                total,
            )

        def blank() -> PageForm:
            return build_page_form(q, current, qlang, questions=questions, stored=route.effective)

        if key is not None:
            html = page_cache.fresh_page(
                key,
                lambda holes: render_template(
                    "pupil/page.html", form=blank(), notice=None, **context, **holes
                ),
                csrf=csrf_token(),
                token=page_token(response_id),
            )
            return html, status, headers
        form = blank()
    html = render_template(
        "pupil/page.html",
        form=form,
        token=page_token(response_id),
        notice=notice,
        **context,
    )
    return html, status, headers
