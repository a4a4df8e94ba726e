from surveyapp.catalog import get_catalog
from surveyapp.extensions import db
from surveyapp.models import Study
from surveyapp.study_sync import sync_study


def test_app_starts_and_study_syncs_idempotently(app):
    design = get_catalog().study
    sync_study(design)
    sync_study(design)
    db.session.commit()
    studies = db.session.execute(db.select(Study)).scalars().all()
    assert [s.key for s in studies] == ["in_harmony"]
    assert [w.key for w in studies[0].waves] == ["baseline", "followup_1"]
